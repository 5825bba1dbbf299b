"""Align and distribute selected nodes (Arrange menu). No Qt here: cards come in as boxes.

Aligning lines the cards up on one edge or centre line of the selection's bounding box, as
drawing programs do. Distributing keeps the outermost two cards where they are and makes the gaps
between neighbours equal (gaps, not centres, because cards differ in size and equal gaps are
what looks even).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flowdesk.model.layout import Box


class Alignment(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    TOP = "top"
    BOTTOM = "bottom"
    CENTRE_X = "centre_x"
    """Centres on one vertical line."""
    CENTRE_Y = "centre_y"
    """Centres on one horizontal line."""


class Axis(StrEnum):
    HORIZONTAL = "horizontal"
    VERTICAL = "vertical"


def align(boxes: Mapping[str, Box], how: Alignment) -> dict[str, tuple[float, float]]:
    """New top-left positions putting every box on the chosen line of their bounding box."""
    if not boxes:
        return {}
    left = min(b.x for b in boxes.values())
    right = max(b.x + b.width for b in boxes.values())
    top = min(b.y for b in boxes.values())
    bottom = max(b.y + b.height for b in boxes.values())
    placed: dict[str, tuple[float, float]] = {}
    for name, b in boxes.items():
        x, y = b.x, b.y
        if how == Alignment.LEFT:
            x = left
        elif how == Alignment.RIGHT:
            x = right - b.width
        elif how == Alignment.CENTRE_X:
            x = (left + right) / 2 - b.width / 2
        elif how == Alignment.TOP:
            y = top
        elif how == Alignment.BOTTOM:
            y = bottom - b.height
        else:
            y = (top + bottom) / 2 - b.height / 2
        placed[name] = (x, y)
    return placed


def distribute(boxes: Mapping[str, Box], axis: Axis) -> dict[str, tuple[float, float]]:
    """Equal gaps between neighbouring boxes along ``axis``; the first and last stay put."""
    horizontal = axis == Axis.HORIZONTAL

    def start(b: Box) -> float:
        return b.x if horizontal else b.y

    def size(b: Box) -> float:
        return b.width if horizontal else b.height

    ordered = sorted(boxes, key=lambda n: (start(boxes[n]), n))
    if len(ordered) < 3:
        return {name: (b.x, b.y) for name, b in boxes.items()}
    first, last = boxes[ordered[0]], boxes[ordered[-1]]
    span = start(last) + size(last) - start(first)
    gap = (span - sum(size(boxes[n]) for n in ordered)) / (len(ordered) - 1)
    placed: dict[str, tuple[float, float]] = {}
    cursor = start(first)
    for name in ordered:
        b = boxes[name]
        placed[name] = (cursor, b.y) if horizontal else (b.x, cursor)
        cursor += size(b) + gap
    placed[ordered[-1]] = (last.x, last.y)  # exactly where it was, not where rounding put it
    return placed

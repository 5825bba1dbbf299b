"""What a card and a wire look like zoomed far out, and how many of them are drawn at once.

Below ``LOD_TEXT`` no text is legible, so an item is reduced to what still reads at that distance:
a card is a rectangle in its category's colour (its body in its run state's colour once it has
one), outlined when selected or in a state; a wire is a one-pixel line in its type's colour. A
problem must still be found among thousands of nodes, so it outlines the card in the problem
colour and its badge keeps a minimum size on screen (``BADGE_MIN_PX``) instead of shrinking with
the zoom.

Items describe themselves as :class:`FarCard` / :class:`FarWire` (they know their state); the
functions here draw many at once, grouped by colour, so the painter changes pen and brush a few
times per picture instead of a few times per item (see ``overview.py`` for who calls them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from flowdesk.ui.canvas.glyphs import draw_problem_badge
from flowdesk.ui.canvas.node_layout import METRICS

BADGE_MIN_PX = 7.0
"""Radius, in screen pixels, below which a problem badge never shrinks (a card at zoom 0.1 is 17 px wide)."""
OUTLINE_PX = 1.5
"""Outline of a selected or running card, in screen pixels."""
PROBLEM_OUTLINE_PX = 2.5
WIRE_PX = 1.0
STRONG_WIRE_PX = 2.5
"""A selected wire, or the one a dragged node would be inserted into."""


class FarCard(NamedTuple):
    """A node or note card as the far picture shows it (scene coordinates).

    Tuples, not dataclasses: thousands are made for every picture, and a tuple is made fastest.
    """

    rect: QRectF
    body: QColor
    header: QColor | None = None
    """The band across the top of a node card (its category); notes have none."""
    header_height: float = 0.0
    outline: QColor | None = None
    dashed: bool = False
    """A node whose kind is not installed has a dashed outline, as closer in."""
    problem: QColor | None = None


class FarWire(NamedTuple):
    """A wire as the far picture shows it: its path, drawn moved by ``at`` (scene coordinates then)."""

    path: QPainterPath
    colour: QColor
    dashed: bool = False
    strong: bool = False
    problem: QColor | None = None
    badge: QPointF | None = None
    """Where the wire's problem badge sits."""
    at: tuple[float, float] = (0.0, 0.0)
    """Where the path is drawn: the wire item's place (it moves with its cards, its path stays)."""
    rect: QRectF = QRectF()
    """The path's control-point rectangle, in the path's coordinates (drawn moved by ``at``)."""


def badge_radius(zoom: float) -> float:
    """The far badge's radius in scene units at ``zoom``: never under ``BADGE_MIN_PX`` on screen."""
    return max(METRICS.badge_radius, BADGE_MIN_PX / max(zoom, 1e-6))


def _cosmetic(colour: QColor, px: float, dashed: bool = False) -> QPen:
    pen = QPen(colour, px, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
    pen.setCosmetic(True)  # widths in screen pixels, whatever the zoom
    return pen


def draw_cards(painter: QPainter, cards: Sequence[FarCard]) -> None:
    """Fill every card, then its header band, then outlines: one brush or pen per colour.

    Colours go in a fixed order, not the order items come in: a strip drawn as the view pans must
    match the picture drawn whole, where two colours overlap too. The cards are sorted into their
    groups in one pass (a nudge far out redraws every card in view).
    """
    fills: dict[int, list[QRectF]] = {}
    bands: dict[int, list[QRectF]] = {}
    outlines: dict[tuple[int, bool], list[QRectF]] = {}
    problems: dict[int, list[QRectF]] = {}
    for card in cards:
        rect = card.rect
        fills.setdefault(card.body.rgba(), []).append(rect)
        if card.header is not None:
            band = QRectF(rect.left(), rect.top(), rect.width(), card.header_height)
            bands.setdefault(card.header.rgba(), []).append(band)
        if card.outline is not None:
            outlines.setdefault((card.outline.rgba(), card.dashed), []).append(rect)
        if card.problem is not None:
            problems.setdefault(card.problem.rgba(), []).append(rect)
    painter.setPen(Qt.PenStyle.NoPen)
    for groups in (fills, bands):
        for rgba, rects in sorted(groups.items()):
            painter.setBrush(QColor.fromRgba(rgba))
            painter.drawRects(rects)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for (rgba, dashed), rects in sorted(outlines.items()):
        painter.setPen(_cosmetic(QColor.fromRgba(rgba), OUTLINE_PX, dashed))
        painter.drawRects(rects)
    for rgba, rects in sorted(problems.items()):
        painter.setPen(_cosmetic(QColor.fromRgba(rgba), PROBLEM_OUTLINE_PX))
        painter.drawRects(rects)


def draw_wires(painter: QPainter, wires: Sequence[FarWire]) -> None:
    """Every wire as a thin line, one pen per colour and style."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    groups: dict[tuple[bool, int, bool], list[FarWire]] = {}
    for wire in wires:
        groups.setdefault((wire.strong, wire.colour.rgba(), wire.dashed), []).append(wire)
    for (strong, rgba, dashed), grouped in sorted(groups.items()):  # strong ones on top
        painter.setPen(_cosmetic(QColor.fromRgba(rgba), STRONG_WIRE_PX if strong else WIRE_PX, dashed))
        for wire in grouped:
            dx, dy = wire.at
            painter.translate(dx, dy)
            painter.drawPath(wire.path)
            painter.translate(-dx, -dy)


def draw_badges(painter: QPainter, cards: Sequence[FarCard], wires: Sequence[FarWire], zoom: float) -> None:
    """Problem badges over everything else, at least ``BADGE_MIN_PX`` on screen.

    A card's badge sits on its top-right corner, where the header's badge is closer in.
    """
    radius = badge_radius(zoom)
    centres = [
        (QPointF(c.rect.right() - radius * 0.6, c.rect.top()), c.problem) for c in cards if c.problem is not None
    ]
    centres += [(w.badge, w.problem) for w in wires if w.problem is not None and w.badge is not None]
    for centre, colour in sorted(centres, key=lambda b: (b[0].y(), b[0].x())):  # overlapping: in a fixed order
        draw_problem_badge(painter, centre, radius, colour)


def draw_far(
    painter: QPainter,
    zoom: float,
    cards: Sequence[FarCard],
    wires: Sequence[FarWire] = (),
    notes: Sequence[FarCard] = (),
) -> None:
    """The far picture of some items: notes under wires under cards, badges on top."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw_cards(painter, notes)
    draw_wires(painter, wires)
    draw_cards(painter, cards)
    draw_badges(painter, cards, wires, zoom)
    painter.restore()

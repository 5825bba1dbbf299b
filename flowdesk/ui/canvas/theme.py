"""Colours, sizes and node states of the canvas, in one place.

Everything the items paint with comes from a :class:`CanvasTheme`, so light and dark themes are a
matter of swapping the object, and no colour is decided inside a ``paint`` method. Colours are
never the only carrier of meaning: every node state also has a glyph (see ``glyphs.py``), every
port a label, and the error port a shape of its own, so the canvas reads without colour vision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen

from flowdesk.model.types import ValueType

GRID = 10.0
"""Snap step for dropped and nudged nodes, in scene units."""
NUDGE_LARGE = 50.0
"""Arrow-key step with Shift held."""

LOD_PORT_LABELS = 0.5
"""Below this zoom port labels are not drawn (too small to read, and the costliest text)."""
LOD_TEXT = 0.3
"""Below this zoom no text at all: a node is its coloured card, a note its coloured sheet."""
NO_PEN = QPen(Qt.PenStyle.NoPen)
"""The pen of the canvas's items (rectangle items that draw themselves): it adds nothing to their bounds."""


class NodeState(StrEnum):
    """Run state painted on a node (the run issue feeds these from engine events)."""

    IDLE = "idle"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    NOT_RUN = "not_run"
    """The run ended (stopped, failed elsewhere) before this node started: unlike idle, a run was here."""
    INTERRUPTED = "interrupted"
    """The process running the run died while this node ran; resuming runs it again."""


STATE_WORDS: dict[NodeState, str] = {
    NodeState.QUEUED: "queued: its inputs are here, it waits for a free slot",
    NodeState.RUNNING: "running",
    NodeState.SUCCEEDED: "succeeded",
    NodeState.FAILED: "failed: its Run data says why",
    NodeState.SKIPPED: "skipped: the branch leading here was not taken",
    NodeState.WAITING: "waiting for an approval",
    NodeState.CANCELLED: "cancelled",
    NodeState.NOT_RUN: "not run: the run ended before this node started",
    NodeState.INTERRUPTED: "interrupted: the process running it stopped; Resume runs it again",
}
"""A node's run state as its tooltip says it, in words rather than the engine's identifiers."""


@dataclass(frozen=True)
class Metrics:
    """Sizes of a node card, in scene units (1 unit = 1 px at zoom 1)."""

    min_width: float = 170.0
    max_width: float = 220.0
    header: float = 40.0
    row: float = 20.0
    padding: float = 7.0
    radius: float = 8.0
    port_radius: float = 5.0
    port_hit_radius: float = 11.0
    badge_radius: float = 9.0
    icon: float = 20.0


@dataclass(frozen=True)
class CanvasTheme:
    """Every colour the canvas paints with."""

    name: str
    background: QColor
    grid_minor: QColor
    grid_major: QColor
    card: QColor
    card_border: QColor
    header: QColor
    title: QColor
    subtitle: QColor
    port_label: QColor
    selection: QColor
    edge_selected: QColor
    loop_edge: QColor
    loop_label_bg: QColor
    wire_ok: QColor
    wire_refused: QColor
    problem: QColor
    port_types: dict[ValueType, QColor] = field(default_factory=dict)
    error_port: QColor = field(default_factory=lambda: QColor("#dc2626"))
    states: dict[NodeState, QColor] = field(default_factory=dict)

    def port_colour(self, value_type: ValueType) -> QColor:
        return self.port_types.get(value_type, self.port_types[ValueType.ANY])

    def state_colour(self, state: NodeState) -> QColor:
        return self.states[state]

    def problem_colour(self, problems: Iterable[str]) -> QColor:
        """Red for a badge holding an error (problems read ``"error: ..."``), orange for warnings only."""
        return self.error_port if any(p.startswith("error") for p in problems) else self.problem


_PORT_TYPES = {
    ValueType.ANY: QColor("#94a3b8"),
    ValueType.STRING: QColor("#16a34a"),
    ValueType.NUMBER: QColor("#2563eb"),
    ValueType.INTEGER: QColor("#4f46e5"),
    ValueType.BOOLEAN: QColor("#d97706"),
    ValueType.OBJECT: QColor("#9333ea"),
    ValueType.ARRAY: QColor("#db2777"),
}

_STATES = {
    NodeState.IDLE: QColor("#94a3b8"),
    NodeState.QUEUED: QColor("#64748b"),
    NodeState.RUNNING: QColor("#2563eb"),
    NodeState.SUCCEEDED: QColor("#16a34a"),
    NodeState.FAILED: QColor("#dc2626"),
    NodeState.SKIPPED: QColor("#9ca3af"),
    NodeState.WAITING: QColor("#d97706"),
    NodeState.CANCELLED: QColor("#57534e"),
    NodeState.NOT_RUN: QColor("#78716c"),
    NodeState.INTERRUPTED: QColor("#c2410c"),
}

LIGHT = CanvasTheme(
    name="light",
    background=QColor("#f6f7f9"),
    grid_minor=QColor("#eef0f3"),
    grid_major=QColor("#e2e5ea"),
    card=QColor("#ffffff"),
    card_border=QColor("#c4c9d2"),
    header=QColor("#f1f3f6"),
    title=QColor("#111827"),
    subtitle=QColor("#6b7280"),
    port_label=QColor("#374151"),
    selection=QColor("#2563eb"),
    edge_selected=QColor("#2563eb"),
    loop_edge=QColor("#c2410c"),
    loop_label_bg=QColor("#fff7ed"),
    wire_ok=QColor("#16a34a"),
    wire_refused=QColor("#dc2626"),
    problem=QColor("#ea580c"),
    port_types=_PORT_TYPES,
    states=_STATES,
)

DARK = CanvasTheme(
    name="dark",
    background=QColor("#1e2127"),
    grid_minor=QColor("#23272e"),
    grid_major=QColor("#2b3038"),
    card=QColor("#2b2f37"),
    card_border=QColor("#464c57"),
    header=QColor("#343944"),
    title=QColor("#f3f4f6"),
    subtitle=QColor("#9ca3af"),
    port_label=QColor("#d1d5db"),
    selection=QColor("#60a5fa"),
    edge_selected=QColor("#60a5fa"),
    loop_edge=QColor("#fb923c"),
    loop_label_bg=QColor("#3b2a1e"),
    wire_ok=QColor("#4ade80"),
    wire_refused=QColor("#f87171"),
    problem=QColor("#fb923c"),
    port_types={**_PORT_TYPES, ValueType.ANY: QColor("#9ca3af"), ValueType.STRING: QColor("#4ade80")},
    states={
        **_STATES,
        NodeState.QUEUED: QColor("#94a3b8"),
        NodeState.RUNNING: QColor("#60a5fa"),
        NodeState.CANCELLED: QColor("#a8a29e"),
        NodeState.NOT_RUN: QColor("#a8a29e"),
        NodeState.INTERRUPTED: QColor("#fb923c"),
    },
)

CATEGORY_COLOURS = {
    "Input / Output": "#3b82f6",
    "AI": "#a855f7",
    "Logic": "#f59e0b",
    "Flow": "#10b981",
    "Integrations": "#ef4444",
    "Data": "#0ea5e9",
    "Canvas": "#eab308",
}


@cache
def category_colour(category: str) -> QColor:
    """A stable accent per kind category (known ones by name, others from a hash of the name).

    One shared colour per category (made once: cards ask for it on every paint); copy it to change it.
    """
    if category in CATEGORY_COLOURS:
        return QColor(CATEGORY_COLOURS[category])
    return QColor.fromHsv(sum(map(ord, category)) * 37 % 360, 150, 200)


def snap(value: float, step: float = GRID) -> float:
    """``value`` rounded to the grid (ties away from zero avoided: Python rounds half to even)."""
    return round(value / step) * step

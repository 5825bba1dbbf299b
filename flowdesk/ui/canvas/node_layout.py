"""Where things sit on a node card: its size, each port's position, the text as it fits.

Computed once per change of the node (not per paint), from the node's title, kind and ports, so
painting is only drawing and the scene can ask for a port's position (to route an edge, or to
hit-test a press) without painting anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF

from flowdesk.model.kinds import ERROR_PORT, Direction, NodePorts, PortSpec
from flowdesk.ui.canvas.theme import Metrics

METRICS = Metrics()
_ELIDE_RIGHT = Qt.TextElideMode.ElideRight
BADGE_ROOM = 2 * METRICS.badge_radius + 12
TEXT_LEFT = METRICS.padding + METRICS.icon + 7
LABEL_INSET = METRICS.padding + 5
"""Distance from a card's side to its port labels."""
LABEL_GAP = 8.0


@cache
def fonts() -> tuple[QFont, QFont, QFont]:
    """Title, subtitle and port-label fonts (pixel sizes: the scene is in pixels at zoom 1)."""
    title = QFont()
    title.setPixelSize(13)
    title.setBold(True)
    subtitle = QFont()
    subtitle.setPixelSize(11)
    label = QFont()
    label.setPixelSize(11)
    return title, subtitle, label


@cache
def _metrics() -> tuple[QFontMetricsF, QFontMetricsF, QFontMetricsF]:
    title, subtitle, label = fonts()
    return QFontMetricsF(title), QFontMetricsF(subtitle), QFontMetricsF(label)


@dataclass(frozen=True, slots=True)
class PortSlot:
    """One port as placed on the card: its spec, centre (item coordinates) and the label that fits."""

    direction: Direction
    spec: PortSpec
    centre: QPointF
    label: str

    @property
    def key(self) -> tuple[Direction, str]:
        return self.direction, self.spec.name

    @property
    def is_error(self) -> bool:
        return self.direction == "output" and self.spec.name == ERROR_PORT


@dataclass(frozen=True, slots=True)
class NodeLayout:
    width: float
    height: float
    full_title: str
    subtitle: str
    title_rect: QRectF
    subtitle_rect: QRectF
    slots: tuple[PortSlot, ...]
    by_key: Mapping[tuple[Direction, str], PortSlot]
    """The slots by (direction, port name): routing a wire asks for two, thousands of times in a layout."""

    @property
    def rect(self) -> QRectF:
        return QRectF(0.0, 0.0, self.width, self.height)

    def slot(self, direction: Direction, name: str) -> PortSlot | None:
        return self.by_key.get((direction, name))

    def title_for(self, badges: int) -> str:
        """The title elided to leave room for ``badges`` header badges."""
        room = self.title_rect.width() - badges * BADGE_ROOM
        return _elided(0, self.full_title, max(room, 10.0))

    def state_badge_centre(self) -> QPointF:
        m = METRICS
        return QPointF(self.width - m.padding - m.badge_radius, m.header / 2)

    def problem_badge_centre(self, with_state: bool, radius: float = METRICS.badge_radius) -> QPointF:
        """Left of the state badge if there is one; ``radius`` larger than the usual when zoomed out."""
        m = METRICS
        shift = 2 * m.badge_radius + 4 if with_state else 0.0
        return QPointF(self.width - m.padding - radius - shift, m.header / 2)


def port_label(spec: PortSpec) -> str:
    """What a port is called on the card: its name, spaces for underscores."""
    return spec.name.replace("_", " ")


def layout_node(title: str, subtitle: str, ports: NodePorts) -> NodeLayout:
    """Place a card: wide enough for its ports' labels and title (within the metrics' bounds).

    The width leaves room for one header badge (the run state), so a badge appearing never
    resizes the card; the title is elided further only when both badges show (see ``title_for``).
    Everything but the title's width is cached per kind of card, so a large workflow of a few kinds
    measures text only once per node.
    """
    m = METRICS
    wanted = max(
        _ports_width(ports),
        TEXT_LEFT + _advance(0, title) + m.padding + BADGE_ROOM,
        TEXT_LEFT + _advance(1, subtitle) + m.padding,
    )
    width = min(max(m.min_width, wanted), m.max_width)
    rows = max(len(ports.inputs), len(ports.outputs))
    height = m.header + (rows * m.row + m.padding if rows else m.padding / 2)
    text_width = width - TEXT_LEFT - m.padding
    slots, by_key = _slots(ports, width)
    return NodeLayout(
        width=width,
        height=height,
        full_title=title,
        subtitle=_elided(1, subtitle, text_width),
        title_rect=QRectF(TEXT_LEFT, 5.0, text_width, 18.0),
        subtitle_rect=QRectF(TEXT_LEFT, 22.0, text_width, 14.0),
        slots=slots,
        by_key=by_key,
    )


@cache
def _ports_width(ports: NodePorts) -> float:
    widest_in = max((_advance(2, port_label(p)) for p in ports.inputs), default=0.0)
    widest_out = max((_advance(2, port_label(p)) for p in ports.outputs), default=0.0)
    return widest_in + widest_out + 2 * LABEL_INSET + LABEL_GAP


@cache
def _slots(ports: NodePorts, width: float) -> tuple[tuple[PortSlot, ...], Mapping[tuple[Direction, str], PortSlot]]:
    """Port positions and labels of a card, and the same by key (shared by every card of the same ports and width)."""
    m = METRICS
    top = m.header + m.padding / 2
    room_in, room_out = _label_rooms(ports, width)
    slots = []
    for direction, specs, x, room in (
        ("input", ports.inputs, 0.0, room_in),
        ("output", ports.outputs, width, room_out),
    ):
        for i, spec in enumerate(specs):
            centre = QPointF(x, top + m.row * (i + 0.5))
            slots.append(PortSlot(direction, spec, centre, _elided(2, port_label(spec), room)))  # type: ignore[arg-type]
    by_key: dict[tuple[Direction, str], PortSlot] = {}
    for slot in slots:
        by_key.setdefault(slot.key, slot)  # the first, as a search along the slots finds it
    return tuple(slots), MappingProxyType(by_key)


def _label_rooms(ports: NodePorts, width: float) -> tuple[float, float]:
    """Widths for input and output labels: each side takes what the other leaves, halves if both are long."""
    inner = width - 2 * LABEL_INSET - LABEL_GAP
    wide_in = max((_advance(2, port_label(p)) for p in ports.inputs), default=0.0)
    wide_out = max((_advance(2, port_label(p)) for p in ports.outputs), default=0.0)
    half = inner / 2
    if wide_in + wide_out <= inner:
        return wide_in, wide_out
    if wide_in <= half:
        return wide_in, inner - wide_in
    if wide_out <= half:
        return inner - wide_out, wide_out
    return half, half


@lru_cache(maxsize=4096)
def _advance(font: int, text: str) -> float:
    """Width of ``text`` in font 0 (title), 1 (subtitle) or 2 (port label)."""
    return _metrics()[font].horizontalAdvance(text)


@lru_cache(maxsize=4096)
def _elided(font: int, text: str, width: float) -> str:
    if _advance(font, text) <= width:
        return text
    return _metrics()[font].elidedText(text, _ELIDE_RIGHT, width)

"""Where things sit on a node card: its size, each port's position, the text as it fits.

Computed once per change of the node (not per paint), from the node's title, kind and ports, so
painting is only drawing and the scene can ask for a port's position (to route an edge, or to
hit-test a press) without painting anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF

from flowdesk.model.kinds import ERROR_PORT, Direction, NodePorts, PortSpec
from flowdesk.ui.canvas.theme import Metrics

METRICS = Metrics()
_ELIDE_RIGHT = Qt.TextElideMode.ElideRight
BADGE_ROOM = 2 * METRICS.badge_radius + 4


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

    @property
    def rect(self) -> QRectF:
        return QRectF(0.0, 0.0, self.width, self.height)

    def slot(self, direction: Direction, name: str) -> PortSlot | None:
        return next((s for s in self.slots if s.direction == direction and s.spec.name == name), None)

    def title_for(self, badges: int) -> str:
        """The title elided to leave room for ``badges`` header badges."""
        room = self.title_rect.width() - badges * BADGE_ROOM
        return _metrics()[0].elidedText(self.full_title, _ELIDE_RIGHT, max(room, 10.0))

    def state_badge_centre(self) -> QPointF:
        m = METRICS
        return QPointF(self.width - m.padding - m.badge_radius, m.header / 2)

    def problem_badge_centre(self, with_state: bool) -> QPointF:
        m = METRICS
        shift = 2 * m.badge_radius + 4 if with_state else 0.0
        return QPointF(self.width - m.padding - m.badge_radius - shift, m.header / 2)


def port_label(spec: PortSpec) -> str:
    """What a port is called on the card: its name, spaces for underscores."""
    return spec.name.replace("_", " ")


def layout_node(title: str, subtitle: str, ports: NodePorts) -> NodeLayout:
    """Place a card: wide enough for its ports' labels and title (within the metrics' bounds).

    The width leaves room for one header badge (the run state), so a badge appearing never
    resizes the card; the title is elided further only when both badges show (see ``title_for``).
    """
    m = METRICS
    title_fm, sub_fm, label_fm = _metrics()
    widest_in = max((label_fm.horizontalAdvance(port_label(p)) for p in ports.inputs), default=0.0)
    widest_out = max((label_fm.horizontalAdvance(port_label(p)) for p in ports.outputs), default=0.0)
    text_left = m.padding + m.icon + 7
    wanted = max(
        widest_in + widest_out + 4 * m.padding + 16,
        text_left + title_fm.horizontalAdvance(title) + m.padding + BADGE_ROOM,
        text_left + sub_fm.horizontalAdvance(subtitle) + m.padding,
    )
    width = min(max(m.min_width, wanted), m.max_width)
    rows = max(len(ports.inputs), len(ports.outputs))
    height = m.header + (rows * m.row + m.padding if rows else m.padding / 2)
    text_width = width - text_left - m.padding
    half = width / 2 - m.padding - 10
    slots = [
        *_column("input", ports.inputs, 0.0, half, label_fm),
        *_column("output", ports.outputs, width, half, label_fm),
    ]
    return NodeLayout(
        width=width,
        height=height,
        full_title=title,
        subtitle=sub_fm.elidedText(subtitle, _ELIDE_RIGHT, text_width),
        title_rect=QRectF(text_left, 5.0, text_width, 18.0),
        subtitle_rect=QRectF(text_left, 22.0, text_width, 14.0),
        slots=tuple(slots),
    )


def _column(
    direction: Direction, specs: tuple[PortSpec, ...], x: float, room: float, fm: QFontMetricsF
) -> list[PortSlot]:
    m = METRICS
    top = m.header + m.padding / 2
    return [
        PortSlot(
            direction, spec, QPointF(x, top + m.row * (i + 0.5)), fm.elidedText(port_label(spec), _ELIDE_RIGHT, room)
        )
        for i, spec in enumerate(specs)
    ]

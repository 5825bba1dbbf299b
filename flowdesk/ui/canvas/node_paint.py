"""Painting a node's card closer in: the card, its header, ports, outline and badges.

A mixin of :class:`~flowdesk.ui.canvas.node_item.NodeItem`, kept apart so the item module holds what
a card is (its node, its state, where its ports are, what Qt asks of it) and this one how it looks.
Far out, cards are not painted one by one but drawn together (``far.py``).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from flowdesk.ui.canvas.far import PROBLEM_OUTLINE_PX, badge_radius
from flowdesk.ui.canvas.glyphs import draw_problem_badge, draw_state_badge
from flowdesk.ui.canvas.node_layout import LABEL_INSET, METRICS, NodeLayout, PortSlot, fonts
from flowdesk.ui.canvas.theme import LOD_PORT_LABELS, CanvasTheme, NodeState

if TYPE_CHECKING:
    from flowdesk.model.kinds import Direction, KindSpec
    from flowdesk.model.workflow import Node

_SHADOW = QColor(0, 0, 0, 30)


class PortMark(Enum):
    """How a port is drawn while a wire is being dragged."""

    COMPATIBLE = "compatible"
    LOOP = "loop"
    """Accepted as a loop edge (the wire goes back to an earlier node)."""
    REFUSED = "refused"
    TARGET = "target"


class NodeCardPainting:
    """The painting of a runnable node's card; the item provides the attributes declared here."""

    theme: CanvasTheme
    spec: KindSpec | None
    node: Node
    state: NodeState
    detail: str
    phase: int
    problems: tuple[str, ...]
    _layout: NodeLayout
    _title: str
    _connected: frozenset[tuple[Direction, str]]
    _marks: dict[tuple[Direction, str], PortMark]

    if TYPE_CHECKING:

        def isSelected(self) -> bool: ...
        def _accent(self) -> QColor: ...

    def _paint_card(self, painter: QPainter) -> None:
        t, m, rect = self.theme, METRICS, self._layout.rect
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_SHADOW)  # a soft shadow lifts the card off the grid
        painter.drawRoundedRect(rect.translated(0, 2.0), m.radius, m.radius)
        painter.setBrush(t.card)
        painter.drawRoundedRect(rect, m.radius, m.radius)
        card = QPainterPath()
        card.addRoundedRect(rect, m.radius, m.radius)
        header = QPainterPath()
        header.addRect(QRectF(0, 0, rect.width(), m.header))
        painter.fillPath(card.intersected(header), t.header)
        stripe = QPainterPath()
        stripe.addRect(QRectF(0, 0, rect.width(), 3))
        painter.fillPath(card.intersected(stripe), self._accent())
        painter.setPen(QPen(t.card_border, 0.8))
        painter.drawLine(QPointF(0, m.header), QPointF(rect.width(), m.header))

    def _paint_header(self, painter: QPainter, lod: float) -> None:
        t, m, lay = self.theme, METRICS, self._layout
        title_font, subtitle_font, _ = fonts()
        icon = QRectF(m.padding, (m.header - m.icon) / 2 + 1, m.icon, m.icon)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._accent())
        painter.drawRoundedRect(icon, 5, 5)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(title_font)
        letter = (self.spec.display_name if self.spec is not None else "?")[:1].upper()
        painter.drawText(icon, Qt.AlignmentFlag.AlignCenter, letter)
        painter.setPen(t.title)
        painter.drawText(lay.title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._title)
        if lod < LOD_PORT_LABELS:  # the kind line is too small to read; the icon letter stays
            return
        painter.setFont(subtitle_font)
        painter.setPen(t.subtitle if self.spec is not None else t.problem)
        painter.drawText(lay.subtitle_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, lay.subtitle)

    def _paint_ports(self, painter: QPainter, lod: float) -> None:
        t, m = self.theme, METRICS
        _, _, label_font = fonts()
        painter.setFont(label_font)
        for slot in self._layout.slots:
            colour = QColor(t.error_port if slot.is_error else t.port_colour(slot.spec.type))
            mark = self._marks.get(slot.key)
            if mark == PortMark.REFUSED:
                colour.setAlpha(70)
            if mark is not None and mark != PortMark.REFUSED:
                _paint_glow(painter, slot.centre, t.loop_edge if mark == PortMark.LOOP else t.wire_ok, mark)
            filled = slot.key in self._connected or mark == PortMark.TARGET
            painter.setPen(QPen(colour.darker(115), 1.6))
            painter.setBrush(colour if filled else t.card)
            _draw_port(painter, slot, m.port_radius)
            if lod >= LOD_PORT_LABELS:
                self._paint_port_label(painter, slot, colour if slot.is_error else t.port_label, mark)

    def _paint_port_label(self, painter: QPainter, slot: PortSlot, colour: QColor, mark: PortMark | None) -> None:
        m = METRICS
        colour = QColor(colour)
        if mark == PortMark.REFUSED:
            colour.setAlpha(90)
        painter.setPen(colour)
        y = slot.centre.y() - m.row / 2
        rect = QRectF(LABEL_INSET, y, self._layout.width - 2 * LABEL_INSET, m.row)  # labels come elided to fit
        align = Qt.AlignmentFlag.AlignLeft if slot.direction == "input" else Qt.AlignmentFlag.AlignRight
        painter.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter, slot.label)

    def _paint_outline(self, painter: QPainter, lod: float) -> None:
        t, m = self.theme, METRICS
        if self.isSelected():
            pen = QPen(t.selection, 2.4)
        elif self.state != NodeState.IDLE:
            pen = QPen(t.state_colour(self.state), 2.0)
        else:
            pen = QPen(t.card_border, 1.0)
        if self.spec is None:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self._layout.rect, m.radius, m.radius)
        if self.problems and lod < LOD_PORT_LABELS:  # zoomed out, as in the far picture: hard to miss
            problem = QPen(t.problem_colour(self.problems), PROBLEM_OUTLINE_PX)
            problem.setCosmetic(True)
            painter.setPen(problem)
            painter.drawRoundedRect(self._layout.rect, m.radius, m.radius)
        if self.state == NodeState.RUNNING:  # marching dashes around the card while it works
            running = QPen(t.state_colour(self.state), 3.0)
            running.setDashPattern([4.0, 4.0])
            running.setDashOffset(-float(self.phase))
            painter.setPen(running)
            painter.drawRoundedRect(self._layout.rect.adjusted(-3, -3, 3, 3), m.radius + 2, m.radius + 2)
        if self.node.breakpoint:  # a red octagon-ish stop mark on the left edge
            painter.setPen(QPen(QColor("#ffffff"), 1.2))
            painter.setBrush(QColor("#dc2626"))
            painter.drawEllipse(QPointF(0, m.header / 2), 5.5, 5.5)

    def _paint_badges(self, painter: QPainter, lod: float) -> None:
        m, lay = METRICS, self._layout
        with_state = self.state != NodeState.IDLE
        if with_state:
            colour = self.theme.state_colour(self.state)
            draw_state_badge(painter, lay.state_badge_centre(), m.badge_radius, self.state, colour, self.theme.card)
        if self.detail or self.node.pinned is not None:
            self._paint_tag(painter, " · ".join(t for t in (self.detail, "pinned" if self.node.pinned else "") if t))
        if self.problems:  # zoomed out, no smaller than in the far picture (within the header)
            radius = m.badge_radius if lod >= LOD_PORT_LABELS else min(badge_radius(lod), m.header / 2)
            centre = lay.problem_badge_centre(with_state, radius)
            draw_problem_badge(painter, centre, radius, self.theme.problem_colour(self.problems))

    def _paint_tag(self, painter: QPainter, text: str) -> None:
        """A small pill under the card's top-right corner: loop passes, map progress, 'pinned'."""
        _, _, label_font = fonts()
        painter.setFont(label_font)
        width = painter.fontMetrics().horizontalAdvance(text) + 10
        rect = QRectF(self._layout.width - width - 4, -10, width, 15)
        painter.setPen(QPen(self.theme.card_border, 0.8))
        painter.setBrush(self.theme.header)
        painter.drawRoundedRect(rect, 7, 7)
        painter.setPen(self.theme.title)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _paint_glow(painter: QPainter, centre: QPointF, colour: QColor, mark: PortMark) -> None:
    """A halo around a port the wire may end on; stronger on the one under the mouse."""
    radius = METRICS.port_radius + (7 if mark == PortMark.TARGET else 5)
    halo = QColor(colour)
    halo.setAlpha(90 if mark == PortMark.TARGET else 55)
    painter.setPen(QPen(colour, 1.8))
    painter.setBrush(halo)
    painter.drawEllipse(centre, radius, radius)


def _draw_port(painter: QPainter, slot: PortSlot, radius: float) -> None:
    """A circle, or for the error port a diamond (its shape, not only its red, sets it apart)."""
    c = slot.centre
    if slot.is_error:
        r = radius + 1.5
        painter.drawPolygon(
            QPolygonF(
                [
                    QPointF(c.x(), c.y() - r),
                    QPointF(c.x() + r, c.y()),
                    QPointF(c.x(), c.y() + r),
                    QPointF(c.x() - r, c.y()),
                ]
            )
        )
    else:
        painter.drawEllipse(c, radius, radius)

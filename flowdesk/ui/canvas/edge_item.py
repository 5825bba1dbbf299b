"""Wires: an edge of the document as a cubic bezier, and the wire that follows the mouse.

A forward edge leaves its output to the right and enters its input from the left. A loop edge
goes back to an earlier node, so it is routed below the two nodes, dashed, in its own colour, with
an arrow at its end and a "↺ max N" label: a loop must never be mistaken for a forward wire.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from flowdesk.model.types import ValueType
from flowdesk.model.workflow import Edge
from flowdesk.ui.canvas.far import FarWire, draw_far
from flowdesk.ui.canvas.glyphs import draw_problem_badge
from flowdesk.ui.canvas.theme import LOD_TEXT, NO_PEN, CanvasTheme

_HIT_WIDTH = 12.0
_LOOP_DROP = 60.0
_BADGE_RADIUS = 9.0


def wire_path(start: QPointF, end: QPointF, *, below: float | None = None) -> QPainterPath:
    """The bezier from an output at ``start`` to an input at ``end``.

    With ``below`` (a scene y), the wire is routed under that line: used for loop edges, which
    run backwards and would otherwise cut through the nodes between their ends.
    """
    path = QPainterPath(start)
    dx = end.x() - start.x()
    if below is not None:
        reach = max(60.0, min(160.0, abs(dx) * 0.25 + 40.0))
        dip = below + _LOOP_DROP
        path.cubicTo(QPointF(start.x() + reach, dip), QPointF(end.x() - reach, dip), end)
        return path
    reach = max(40.0, abs(dx) * 0.5) if dx >= 0 else max(80.0, min(200.0, -dx * 0.5))
    path.cubicTo(QPointF(start.x() + reach, start.y()), QPointF(end.x() - reach, end.y()), end)
    return path


def _label_font() -> QFont:
    font = QFont()
    font.setPixelSize(11)
    font.setBold(True)
    return font


class EdgeItem(QGraphicsRectItem):
    """One edge of the document; selectable (Delete removes it), never movable.

    A rectangle item whose rectangle is the wire's bounds, drawing itself: Qt finds the bounds in C++
    (see ``CanvasNodeItem``).
    """

    def __init__(self, edge: Edge, theme: CanvasTheme) -> None:
        super().__init__()
        self.setPen(NO_PEN)
        self.edge = edge
        self.edge_id = edge.id
        self.theme = theme
        self.value_type = ValueType.ANY
        self._start = QPointF()
        self._end = QPointF()
        self._below: float | None = None
        """The two ends and a loop's floor in the item's own coordinates (those of ``_path``): a wire that
        only moves along with its cards keeps all three and changes its position alone."""
        self._path = QPainterPath()
        self._path_rect = QRectF()
        self._shape: QPainterPath | None = None
        self._label_rect = QRectF()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0.0)
        self.setAcceptHoverEvents(True)
        self._hovered = False
        self.carried = False
        self._insert_target = False
        self._far_style: tuple[tuple[object, ...], QColor, bool, QColor | None] | None = None
        """The far look's colours and what they were worked out from (see :meth:`far_look`)."""
        self.problems: tuple[str, ...] = ()
        self._badge = QRectF()
        self.anchor: tuple[object, object, float, float, float, float] | None = None
        """How the wire sits between its two cards, as last routed: (the source card's layout, the target
        card's layout, the target card's place less the source card's, the wire's place less the source
        card's). While both layouts stay and the target keeps its place beside the source, the wire keeps
        its shape at the same place beside the source; all of it is relative, so a wire moved along with
        both its cards needs no update here. None: routed afresh at the next look (a note's wire, a
        changed edge)."""
        self._far_place: tuple[QRectF, float, float] | None = None
        """The path's rectangle and the offset the far picture last drew it at (see :attr:`far_rect`)."""

    @property
    def label(self) -> str:
        """The loop label ("↺ max N"), empty for a forward edge."""
        return f"↺ max {self.edge.loop.max_iterations}" if self.edge.loop is not None else ""

    def set_edge(self, edge: Edge) -> None:
        self.edge = edge
        self._rebuild()

    def set_theme(self, theme: CanvasTheme) -> None:
        self.theme = theme
        self.refresh()

    def set_problems(self, problems: Iterable[str]) -> None:
        """Show a problem badge on the wire whose tooltip lists ``problems`` (none: no badge)."""
        problems = tuple(problems)
        if problems == self.problems:
            return
        self.problems = problems
        self.setToolTip("\n".join(f"• {p}" for p in problems))
        self._rebuild()

    @property
    def is_insert_target(self) -> bool:
        return self._insert_target

    def set_insert_target(self, on: bool) -> None:
        """Highlight the wire a node would be inserted into if dropped now."""
        if on != self._insert_target:
            self._insert_target = on
            self.refresh()

    @property
    def start(self) -> QPointF:
        """Where the wire leaves its output, in scene coordinates (not while a drag carries it)."""
        return self._start + self.pos()

    @property
    def end(self) -> QPointF:
        """Where the wire enters its input, in scene coordinates (not while a drag carries it)."""
        return self._end + self.pos()

    def set_ends(self, start: QPointF, end: QPointF, value_type: ValueType, below: float | None = None) -> None:
        """Route the wire between two port positions (scene coordinates).

        When both ends moved by the same offset (a wire inside a dragged selection, a nudge) the
        wire keeps its shape: it is moved, not routed again, which is what lets a drag of a
        thousand cards keep up with the mouse.
        """
        at = self.pos()
        was_start, was_end = self._start + at, self._end + at
        was_below = None if self._below is None else self._below + at.y()
        if start == was_start and end == was_end and value_type == self.value_type and below == was_below:
            return
        shift = start - was_start
        same_shape = value_type == self.value_type and end - was_end == shift and not self._path.isEmpty()
        if same_shape and (below, was_below) != (None, None):
            same_shape = below is not None and was_below is not None and below - was_below == shift.y()
        self.value_type = value_type
        if same_shape:
            self.setPos(at + shift)  # Qt repaints both places
            self._far_changed()
        else:
            self.setPos(0.0, 0.0)  # a fresh route is drawn in scene coordinates, the item at the origin
            self._start, self._end, self._below = QPointF(start), QPointF(end), below
            self._rebuild()

    def shift_by(self, shift: QPointF) -> None:
        """Move the whole wire (its two ends moved by ``shift``): no routing, the shape is the same."""
        self.moveBy(shift.x(), shift.y())
        self._far_changed()

    def _far_changed(self) -> None:
        """Moved: Qt repaints the item's two places itself, the far picture (when shown) is told here."""
        scene = self.scene()
        if scene is not None:
            scene.far_changed(self)  # type: ignore[attr-defined]

    def _rebuild(self) -> None:
        """Draw the wire again between its ends, where it is: the ends are the item's own coordinates (scene
        ones after a fresh route, which puts it at the origin; a wire moved along since keeps them), so a
        wire redrawn for a badge or a label stays beside its cards, and its anchor stays true."""
        self.prepareGeometryChange()
        self._path = wire_path(self._start, self._end, below=self._below if self.edge.loop is not None else None)
        self._path_rect = self._path.controlPointRect()
        self._shape = None
        self._label_rect = QRectF()
        if self.edge.loop is not None:
            fm = QFontMetricsF(_label_font())
            mid = self._path.pointAtPercent(0.5)
            w, h = fm.horizontalAdvance(self.label) + 14, fm.height() + 6
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
        self._badge = QRectF()
        if self.problems:
            centre = self._path.pointAtPercent(0.25 if self.edge.loop is not None else 0.5)
            r = _BADGE_RADIUS
            self._badge = QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r)
        reach = _HIT_WIDTH / 2 + 2  # room for the insert halo too
        bounds = self._path.controlPointRect().adjusted(-reach, -reach, reach, reach).united(self._label_rect)
        if not self._badge.isNull():
            bounds = bounds.united(self._badge.adjusted(-2, -2, 2, 2))
        self.setRect(bounds)
        self.refresh()

    def refresh(self) -> None:
        """Repaint the wire, and its place in the scene's far picture when that is shown (see ``CanvasNodeItem``)."""
        self.update()
        scene = self.scene()
        if scene is not None:
            scene.far_changed(self)  # type: ignore[attr-defined]

    def far_look(self) -> FarWire:
        """Zoomed far out: a thin line in the wire's colour, its problem badge kept large enough to see.

        The far picture asks every wire for this on each full repaint (7,500 at 5,000 nodes, after each
        nudge): the path is handed over as it is, with the place to draw it at, not copied there, and
        the place is read as two numbers (each point or path Qt hands back costs an allocation).
        """
        if self.parentItem() is None:
            dx, dy = self.x(), self.y()
        else:  # a dragged selection's inner wires ride on a carrier item
            offset = self.scenePos()
            dx, dy = offset.x(), offset.y()
        return self._far_look_at(dx, dy)

    def _far_look_at(self, dx: float, dy: float) -> FarWire:
        selected = self.isSelected()
        key = (selected, self._insert_target, self.problems, self.theme, self.value_type, self.edge.loop is None)
        style = self._far_style
        if style is None or style[0] != key:  # the colours are worked out again only when what they follow changed
            problem = self.theme.problem_colour(self.problems) if self.problems else None
            style = self._far_style = (key, self._colour(selected), self.edge.loop is not None, problem)
        _key, colour, dashed, problem = style
        strong = self._insert_target or selected
        badge = self._badge.center() + QPointF(dx, dy) if problem is not None and not self._badge.isNull() else None
        return FarWire(self._path, colour, dashed, strong, problem, badge, (dx, dy), self._path_rect)

    @property
    def far_rect(self) -> QRectF | None:
        """Where the scene's far picture last drew this wire (see ``overview.py``), to repaint that place.

        Kept as the drawn path's rectangle and its offset, made into one rectangle only when asked (for a
        repaint of a few places): a full picture draws 7,500 wires, and each rectangle made is an allocation.
        """
        if self._far_place is None:
            return None
        rect, dx, dy = self._far_place
        return rect.translated(dx, dy)

    def drawn_far(self, look: FarWire) -> None:
        """The far picture has just drawn ``look`` (this wire's :meth:`far_look`)."""
        self._far_place = (look.rect, *look.at)

    @property
    def path(self) -> QPainterPath:
        """The wire in scene coordinates."""
        return self._path.translated(self.scenePos())

    def shape(self) -> QPainterPath:
        """The wire widened for easy clicking (built on first use: most wires are never hit-tested)."""
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(_HIT_WIDTH)
            self._shape = stroker.createStroke(self._path)
            if not self._label_rect.isNull():
                self._shape.addRoundedRect(self._label_rect, 6, 6)
            if not self._badge.isNull():
                self._shape.addEllipse(self._badge)
        return self._shape

    def _colour(self, selected: bool | None = None) -> QColor:
        """The wire's colour; ``selected`` when the caller has asked Qt already."""
        if self._insert_target:
            return self.theme.wire_ok
        if self.isSelected() if selected is None else selected:
            return self.theme.edge_selected
        if self.edge.loop is not None:
            return self.theme.loop_edge
        return self.theme.port_colour(self.value_type)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        colour = self._colour()
        is_loop = self.edge.loop is not None
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if lod < LOD_TEXT:  # only when no far picture is drawn for the scene (it is, in a view zoomed out)
            draw_far(painter, lod, [], [self._far_look_at(0.0, 0.0)])  # the painter is at the item's place
            return
        if self._insert_target:  # a halo under the wire: "drop here to insert"
            halo = QColor(colour)
            halo.setAlpha(70)
            painter.setPen(QPen(halo, 10.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawPath(self._path)
        width = 3.2 if self.isSelected() or self._hovered or self._insert_target or self.carried else 2.0
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)  # the ends hide under the ports; flat strokes faster
        if is_loop:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.carried:  # beads along the wire: a value went through it in the shown run
            painter.setPen(QPen(self.theme.card, 1.2))
            painter.setBrush(colour)
            for at in (0.3, 0.5, 0.7):
                painter.drawEllipse(self._path.pointAtPercent(at), 3.6, 3.6)
        if not self._badge.isNull():
            draw_problem_badge(painter, self._badge.center(), _BADGE_RADIUS, self.theme.problem_colour(self.problems))
        if not is_loop:
            return
        self._paint_arrow(painter, colour)
        if lod >= LOD_TEXT:
            painter.setPen(QPen(colour, 1.2))
            painter.setBrush(self.theme.loop_label_bg)
            painter.drawRoundedRect(self._label_rect, 6, 6)
            painter.setFont(_label_font())
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)

    def _paint_arrow(self, painter: QPainter, colour: QColor) -> None:
        """An arrowhead at the input end, pointing along the wire (loops run right to left)."""
        tip = self._path.pointAtPercent(1.0)
        back = self._path.pointAtPercent(0.97)
        angle = math.atan2(tip.y() - back.y(), tip.x() - back.x())
        size = 9.0
        left = QPointF(tip.x() - size * math.cos(angle - 0.45), tip.y() - size * math.sin(angle - 0.45))
        right = QPointF(tip.x() - size * math.cos(angle + 0.45), tip.y() - size * math.sin(angle + 0.45))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPolygon(QPolygonF([tip, left, right]))

    def set_carried(self, carried: bool) -> None:
        """Show (or stop showing) that a value went along this wire in the shown run."""
        if carried != self.carried:
            self.carried = carried
            self.update()

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = False
        self.update()


class PendingWire(QGraphicsPathItem):
    """The wire following the mouse while a connection is dragged (not part of the document)."""

    def __init__(self, start: QPointF, colour: QColor) -> None:
        super().__init__()
        self.setZValue(10.0)
        self._colour = QColor(colour)
        self.show_path(QPainterPath(start), None, None)

    def show_path(
        self, path: QPainterPath, verdict: bool | None, theme: CanvasTheme | None, *, loop: bool = False
    ) -> None:
        """Show ``path``, coloured by ``verdict`` (True: would connect, False: refused, None: open).

        A wire that would become a loop edge is drawn as loops are: dashed, in the loop colour.
        """
        colour = self._colour
        if verdict is not None and theme is not None:
            colour = (theme.loop_edge if loop else theme.wire_ok) if verdict else theme.wire_refused
        dashed = verdict is None or loop
        pen = QPen(colour, 2.4, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.setPen(pen)
        self.setPath(path)

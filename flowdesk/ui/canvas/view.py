"""The canvas view: zoom, pan, fit, selection, keyboard editing and wire drags.

Like the scene, the view never edits the document itself: a drag ends in one ``MoveNodes``, a
nudge in one ``MoveNodes`` per key press, Delete in one removal, a wire drop in one ``Connect`` —
all through the scene onto the undo stack. What the main window needs to hear (a refused wire, a
wire dropped on empty canvas) leaves as signals.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QWidget

from flowdesk.ui.canvas.node_item import CanvasNodeItem, PortKey
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.theme import GRID, LOD_PORT_LABELS, LOD_TEXT, NUDGE_LARGE
from flowdesk.ui.canvas.wiring import Outcome, WireDrag

log = logging.getLogger(__name__)

MIN_ZOOM = 0.1
MAX_ZOOM = 3.0
FIT_MAX_ZOOM = 1.0
"""Fit never magnifies past 1:1 (a three-node workflow should not fill the screen with giant cards)."""
WHEEL_STEP = 1.0015
"""Zoom factor per eighth of a degree of wheel turn: one notch (120) is about x1.2."""
_EXTENT = 100_000.0

_NUDGES = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


class WorkflowView(QGraphicsView):
    """Shows a :class:`WorkflowScene`; everything a person does with mouse and keys starts here."""

    connection_refused = Signal(str)
    """A wire was dropped where it cannot connect; the argument says why."""
    wire_dropped = Signal(str, str, QPointF)
    """A wire from (node id, output port) was dropped on empty canvas at a scene position."""
    input_wire_dropped = Signal(str, str, QPointF)
    """A wire drawn backwards from (node id, input port) was dropped on empty canvas."""
    node_activated = Signal(str)
    """A node was double-clicked."""
    zoom_changed = Signal(float)

    def __init__(self, scene: WorkflowScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.workflow_scene = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)  # the grid, redrawn only on zoom
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSceneRect(QRectF(-_EXTENT, -_EXTENT, 2 * _EXTENT, 2 * _EXTENT))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self._wire: WireDrag | None = None
        self._pan_from: QPointF | None = None
        self._space_held = False

    # ------------------------------------------------------------------- zoom
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def to_scene(self, viewport_pos: QPointF) -> QPointF:
        """A viewport position in scene coordinates, without rounding to whole pixels."""
        inverse, _ = self.viewportTransform().inverted()
        return inverse.map(QPointF(viewport_pos))

    def to_viewport(self, scene_pos: QPointF) -> QPointF:
        return self.viewportTransform().map(QPointF(scene_pos))

    def zoom_at(self, factor: float, viewport_pos: QPointF) -> None:
        """Zoom by ``factor`` (clamped) keeping the scene point under ``viewport_pos`` where it is."""
        new_zoom = min(max(self.zoom * factor, MIN_ZOOM), MAX_ZOOM)
        if abs(new_zoom - self.zoom) < 1e-9:
            return
        anchor = self.to_scene(viewport_pos)
        self.setTransform(QTransform.fromScale(new_zoom, new_zoom))
        self._scroll_by(self.to_viewport(anchor) - QPointF(viewport_pos))
        self._zoomed()

    def set_zoom(self, zoom: float) -> None:
        """Zoom about the centre of the view."""
        centre = QPointF(self.viewport().width() / 2, self.viewport().height() / 2)
        self.zoom_at(zoom / self.zoom, centre)

    def _scroll_by(self, delta: QPointF) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(delta.x()))
        v.setValue(v.value() + round(delta.y()))

    def fit_all(self, margin: float = 40.0, *, readable: bool = False) -> None:
        """Show every item, no larger than 1:1; an empty canvas returns to 1:1 at the origin.

        ``readable`` (a workflow just opened) never zooms out past the point where port labels
        go: a wide workflow then opens on its beginning, left to right as it reads, with titles
        and ports legible, rather than as a strip of unlabelled boxes; F still fits everything.
        """
        rect = self.scene().itemsBoundingRect()
        if rect.isEmpty():
            self.setTransform(QTransform())
            self.centerOn(0.0, 0.0)
        else:
            rect = rect.adjusted(-margin, -margin, margin, margin)
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
            zoom = min(max(self.zoom, MIN_ZOOM), FIT_MAX_ZOOM)
            centre = rect.center()
            if readable and zoom < LOD_PORT_LABELS:
                zoom = LOD_PORT_LABELS
                seen = self.viewport().width() / zoom
                centre = QPointF(rect.left() + seen / 2, rect.center().y())
            self.setTransform(QTransform.fromScale(zoom, zoom))
            self.centerOn(centre)
        self._zoomed()

    def _zoomed(self) -> None:
        self._sync_far()
        self.zoom_changed.emit(self.zoom)

    def _sync_far(self) -> None:
        """Far out the scene draws one picture instead of each item painting itself (see ``overview.py``)."""
        self.workflow_scene.overview.set_active(self.zoom < LOD_TEXT)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._sync_far()  # also after a zoom set by other means than the methods above (setTransform, scale)
        super().paintEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y()
        if steps == 0:
            super().wheelEvent(event)
            return
        self.zoom_at(WHEEL_STEP**steps, event.position())
        event.accept()

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton and not event.modifiers() & _SELECT_MODIFIERS:
            hit = self.workflow_scene.port_at(self.to_scene(event.position()))
            if hit is not None:
                self._start_wire(*hit)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self._scroll_by(-delta)
            event.accept()
            return
        if self._wire is not None:
            self._wire.move(self.to_scene(event.position()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self._restore_cursor()
            event.accept()
            return
        if self._wire is not None and event.button() == Qt.MouseButton.LeftButton:
            wire, self._wire = self._wire, None
            self._report(wire.finish(self.to_scene(event.position())))
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.workflow_scene.commit_drag()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        item = self.workflow_scene.node_item_at(self.to_scene(event.position()))
        if isinstance(item, CanvasNodeItem):
            self.node_activated.emit(item.node_id)
        super().mouseDoubleClickEvent(event)

    def _start_wire(self, item: CanvasNodeItem, key: PortKey) -> None:
        self._wire = WireDrag(self.workflow_scene, item, key)
        self._wire.start_marking(self.mapToScene(self.viewport().rect()).boundingRect())

    def _report(self, outcome: Outcome) -> None:
        if outcome.kind == "refused":
            log.info("connection refused: %s", outcome.reason)
            self.connection_refused.emit(outcome.reason)
        elif outcome.kind == "dropped" and outcome.scene_pos is not None:
            signal = self.wire_dropped if outcome.direction == "output" else self.input_wire_dropped
            signal.emit(outcome.node_id, outcome.port, outcome.scene_pos)

    def cancel_wire(self) -> None:
        if self._wire is not None:
            self._wire.cancel()
            self._wire = None

    # ------------------------------------------------------------------- keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        plain = not mods & ~Qt.KeyboardModifier.KeypadModifier
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif key in _NUDGES:
            dx, dy = _NUDGES[Qt.Key(key)]
            step = NUDGE_LARGE if mods & Qt.KeyboardModifier.ShiftModifier else GRID
            self.workflow_scene.nudge_selection(dx * step, dy * step)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.workflow_scene.delete_selection()
        elif key == Qt.Key.Key_F and plain:
            self.fit_all()
        elif key == Qt.Key.Key_Escape:
            if self._wire is not None:
                self.cancel_wire()
            else:
                self.scene().clearSelection()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            if self._pan_from is None:
                self._restore_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._space_held = False
        self._restore_cursor()
        super().focusOutEvent(event)

    def _restore_cursor(self) -> None:
        self.viewport().unsetCursor()


_SELECT_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier

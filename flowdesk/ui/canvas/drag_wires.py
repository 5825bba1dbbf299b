"""The wires of a selection being dragged: those inside it move along, those across its border are routed.

While cards are dragged (a preview: the document changes on release), every wire touching them
must follow. A wire whose two ends are both on dragged cards keeps its shape: for the drag, those
wires are put on one carrier item, and each mouse step moves the carrier (one ``setPos`` for all
of them); only a wire with one end left behind is routed again. Which wire is which is found once
per drag, from the document's index of wires: with a thousand cards dragged, routing every wire
on every mouse move took 130 ms a frame. A drag of more than ``BULK`` cards also drops the scene's
BSP index until the moves pause after it (as an edit of as many changes does, see ``batching.py``):
Qt re-files each moved item in it on every step, which cost more than the rest of the step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QStyleOptionGraphicsItem, QWidget

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.workflow import Edge
from flowdesk.ui.canvas.batching import BULK, DeferredIndex, pause_collector, resume_collector
from flowdesk.ui.canvas.edge_item import EdgeItem


class _Carrier(QGraphicsItem):
    """Holds the wires inside a dragged selection for the drag; draws nothing itself."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        """Nothing: the wires it carries paint themselves."""


class DraggedWires:
    """Set up by the first mouse move of a drag, dropped when the drag ends."""

    def __init__(
        self, scene: QGraphicsScene, index: DeferredIndex, far_moved: Callable[[list[EdgeItem]], None]
    ) -> None:
        self._scene = scene
        self._index = index
        self._far_moved = far_moved
        """Tells the far picture (when shown) that carried wires moved."""
        self._carrier: _Carrier | None = None
        self._unindexed = False
        self._collector_paused = False
        self._moving: frozenset[str] = frozenset()
        self._inside: list[EdgeItem] = []
        self._across: set[str] = set()
        self._at: QPointF | None = None
        """Where the dragged cards were when the inside wires were last moved (the grabbed card's position)."""

    @property
    def active(self) -> bool:
        return self._at is not None

    def start(
        self, doc: WorkflowDocument, moving: Iterable[str], origin: QPointF, edge_item: Callable[[str], EdgeItem | None]
    ) -> None:
        """Sort the wires of the ``moving`` nodes; ``origin`` is where the grabbed card is drawn now."""
        self.stop()
        self._moving = frozenset(moving)
        self._inside, self._across = [], set()
        for edge in _edges_of(doc, self._moving):
            if edge.source in self._moving and edge.target in self._moving:
                item = edge_item(edge.id)
                if item is not None:
                    self._inside.append(item)
            else:
                self._across.add(edge.id)
        self._at = QPointF(origin)
        if len(self._moving) > BULK:
            self._index.drop()
            self._unindexed = True
        if len(self._moving) > BULK and not self._collector_paused:
            self._collector_paused = pause_collector()  # each step makes objects, none of them garbage
        if self._inside:
            self._carrier = _Carrier()
            self._scene.addItem(self._carrier)
            for item in self._inside:
                item.setParentItem(self._carrier)  # the carrier is at the origin: each wire stays where it is

    def follows(self, moving: Iterable[str]) -> bool:
        """Is this the drag of exactly these nodes (set up, and the selection unchanged)?"""
        return self.active and self._moving == frozenset(moving)

    def step(self, at: QPointF) -> set[str]:
        """The grabbed card is now drawn at ``at``: move the inside wires along; returns the wires to route."""
        assert self._at is not None
        shift = at - self._at
        self._at = QPointF(at)
        if self._carrier is not None and not shift.isNull():
            self._carrier.moveBy(shift.x(), shift.y())  # Qt repaints the carried wires' old and new places
            self._far_moved(self._inside)  # the far picture, when shown, is told here
        return self._across

    def stop(self, *, index: bool = True, forward: bool = True) -> None:
        """Hand the carried wires back to the scene where they are now, their ends moved by the drag.

        With ``index`` False the scene stays without its BSP index until :meth:`restore_index`: the
        drag's end moves every card again (one MoveNodes), and the index is then rebuilt once, after a pause. With
        ``forward`` False the wires go back where they were before the drag: the caller moves or routes the
        wires of every dragged card next (the drag's end does), each beside its source card as its anchor
        says, and each wire then moves once, from before the drag to where the document puts its cards.
        """
        carrier, self._carrier = self._carrier, None
        if carrier is not None:
            carried = carrier.pos()
            for item in reversed(self._inside):  # last child first: Qt then finds each in its list at once
                if item.parentItem() is carrier:
                    item.setParentItem(None)  # keeps its position relative to the carrier: moved back...
                    if forward:
                        item.shift_by(carried)  # ...and forward again, with its ends
            self._scene.removeItem(carrier)
        if index:
            self.restore_index()
        self._moving, self._inside, self._across, self._at = frozenset(), [], set(), None

    def restore_index(self) -> None:
        """The drag is over: the BSP index back once the person pauses, and the cycle collector at once."""
        if self._unindexed:
            self._unindexed = False
            self._index.rebuild_later()
        if self._collector_paused:
            self._collector_paused = False
            resume_collector()


def _edges_of(doc: WorkflowDocument, node_ids: frozenset[str]) -> list[Edge]:
    """The wires touching ``node_ids``, each once, in document order: for most of the workflow, read off
    the whole list (in the order the wires lie in memory), else from the document's index."""
    if len(node_ids) > doc.node_count // 4:
        return [e for e in doc.edges if e.source in node_ids or e.target in node_ids]
    return doc.edges_of(node_ids)

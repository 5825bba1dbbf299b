"""The canvas scene: a projection of one :class:`WorkflowDocument`.

The scene holds one item per node and per edge and keeps them equal to the document by listening
to its change events, one item at a time (never a rebuild). It never edits the document: what
the person does on the canvas becomes a command on the undo stack, and the document's answer (a
change event) is what moves, adds or removes items. So undo/redo, the inspector and scripts all
update the canvas the same way, and the scene cannot drift from the document (orange-canvas-core's
design; the opposite of keeping the state twice, in the model and in the items).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF, QTimer, SignalInstance
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsScene

from flowdesk.model.document import (
    Change,
    EdgeAdded,
    EdgeChanged,
    EdgeRemoved,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
    NodesMoved,
    WorkflowChanged,
    WorkflowDocument,
)
from flowdesk.model.edge_insert import insertion_ports
from flowdesk.model.kinds import NodePorts
from flowdesk.model.workflow import Edge, Node
from flowdesk.ui.canvas.batching import DeferredIndex, EditBatch
from flowdesk.ui.canvas.drag_wires import DraggedWires
from flowdesk.ui.canvas.edge_item import EdgeItem
from flowdesk.ui.canvas.grid import draw_grid
from flowdesk.ui.canvas.node_item import CanvasNodeItem, NodeItem, PortKey
from flowdesk.ui.canvas.note_item import NOTE_KIND, NoteItem
from flowdesk.ui.canvas.overview import MANY, FarItem, Overview
from flowdesk.ui.canvas.scene_edits import SceneEdits
from flowdesk.ui.canvas.scene_routing import SceneRouting
from flowdesk.ui.canvas.theme import LIGHT, CanvasTheme, NodeState

if TYPE_CHECKING:
    from flowdesk.ui.undo import DocumentUndoStack

log = logging.getLogger(__name__)


class WorkflowScene(SceneEdits, SceneRouting, QGraphicsScene):
    """Items for every node and edge of ``document``; edits go to ``undo_stack``."""

    def __init__(self, document: WorkflowDocument, undo_stack: DocumentUndoStack, theme: CanvasTheme = LIGHT) -> None:
        super().__init__()
        self.document = document
        self.undo_stack = undo_stack
        self.theme = theme
        self._nodes: dict[str, CanvasNodeItem] = {}
        self._edges: dict[str, EdgeItem] = {}
        self._dragged: set[str] = set()
        self._moved_spots = {}
        self._selected_nodes = _Remembered(self.selectionChanged)
        """The selected nodes' ids in document order, found when first asked (see :meth:`selected_node_ids`)."""
        self.index = DeferredIndex(self)
        """Qt's index of the items, dropped for big moves and rebuilt when they pause (see ``batching.py``)."""
        self._drag_wires = DraggedWires(self, self.index, self._far_moved)
        self._running: set[str] = set()
        self._animation = QTimer(self)
        self._animation.setInterval(120)  # a gentle march; only running nodes repaint
        self._animation.timeout.connect(self._animate)
        self._insert_target: EdgeItem | None = None
        self.setBackgroundBrush(theme.background)
        self.overview = Overview(self, self._far_items)
        """The far picture, drawn instead of the items when the view is zoomed far out."""
        self._batch = EditBatch(self.overview, self.index, self._route_wires_at)
        self._load()
        self._unsubscribe: Callable[[], None] | None = document.subscribe(self._on_change)
        self._unsubscribe_batch = document.subscribe_batch_end(self._batch.end)

    # ----------------------------------------------------------------- loading
    def _load(self) -> None:
        """Build every item first, then add them in one batch with the scene's signals held back.

        The index is switched off while adding (Qt would otherwise re-balance its BSP tree as the
        scene grows) and rebuilt once at the end; so the cost per node stays flat with size.
        """
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.blockSignals(True)
        collecting = gc.isenabled()
        gc.disable()  # thousands of new objects, no garbage: full collections would make the load quadratic
        try:
            for node in self.document.nodes:
                item = self._make_node_item(node)
                self._nodes[node.id] = item
                self.addItem(item)
            for edge in self.document.edges:
                self._add_edge_item(edge)
            for node_id in {end for edge in self.document.edges for end in (edge.source, edge.target)}:
                self._refresh_connected(node_id)
        finally:
            if collecting:
                gc.enable()
            self.blockSignals(False)
            self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)

    def dispose(self) -> None:
        """Stop listening to the document (the scene is being closed)."""
        self._animation.stop()
        self._drag_wires.stop()  # a drag cut short gives back the cycle collector
        self.index.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe_batch()
            self._unsubscribe = None

    def _ports(self, node: Node) -> NodePorts:
        return self.document.ports(node.id)

    def _make_node_item(self, node: Node) -> CanvasNodeItem:
        if node.kind == NOTE_KIND:
            return NoteItem(node, self.theme)
        return NodeItem(node, self.document.catalog.get(node.kind), self._ports(node), self.theme)

    def _add_edge_item(self, edge: Edge) -> None:
        item = EdgeItem(edge, self.theme)
        self._edges[edge.id] = item
        self._route(item)
        self.overview.adopt(item)
        self.addItem(item)

    def _far_items(self) -> Iterator[FarItem]:
        yield from self._nodes.values()
        yield from self._edges.values()

    def _far_moved(self, items: Collection[FarItem]) -> None:
        """Items moved (Qt repaints them): the far picture repaints their places, or all of it for many."""
        if len(items) > MANY:
            self.overview.many_changed()
        else:
            for item in items:
                self.overview.changed(item)

    def far_changed(self, item: FarItem) -> None:
        """An item shows something new (its ``refresh``): the far picture repaints its place, if shown."""
        self.overview.changed(item)

    def card_relaid(self, item: CanvasNodeItem) -> None:
        """A card was laid out again by itself (a note under its title widened it): its ports may have moved,
        so its wires are routed to them (a wire keeps its shape only while both its cards keep theirs)."""
        self._reroute(item.node_id)

    # ------------------------------------------------------- document changes
    def _on_change(self, change: Change) -> None:
        if self.document.in_batch:
            if isinstance(change, NodesMoved):
                self._batch.change(len(change.moves), change.shift)
            else:
                self._batch.change()
        if isinstance(change, NodeRemoved | EdgeAdded | EdgeRemoved | EdgeChanged):
            self._drag_wires.stop()  # a drag in progress sorts its wires again at its next step
        if isinstance(change, NodeAdded | NodeRemoved):
            self._selected_nodes.forget()  # the document's order of the selected nodes, or the nodes, changed
        if isinstance(change, NodeRemoved | NodeChanged):
            self._moved_spots.pop(change.node.id if isinstance(change, NodeRemoved) else change.new.id, None)
        match change:
            case NodeAdded(node=node):
                item = self._make_node_item(node)
                self._nodes[node.id] = item
                self.overview.adopt(item)
                self.addItem(item)
            case NodeRemoved(node=node):
                self._dragged.discard(node.id)
                self.overview.removed(self._nodes[node.id])
                self.removeItem(self._nodes.pop(node.id))
            case NodeChanged(new=node):
                self._nodes[node.id].set_node(node, self._ports(node))
                self._reroute(node.id)  # the card may have moved, or changed size or ports
            case NodesMoved():
                self._nodes_moved(change)
            case EdgeAdded(edge=edge):
                self._after_edge_change(edge)
                self._add_edge_item(edge)
            case EdgeRemoved(edge=edge):
                removed = self._edges.pop(edge.id)
                if removed is self._insert_target:
                    self._insert_target = None
                self.overview.removed(removed)
                self.removeItem(removed)
                self._after_edge_change(edge)
            case EdgeChanged(new=edge):
                self._edges[edge.id].set_edge(edge)
                self._edges[edge.id].anchor = None
                self._route(self._edges[edge.id])
            case WorkflowChanged():
                pass

    def _nodes_moved(self, change: NodesMoved) -> None:
        """Move every card, then each of their wires once (at the edit's end when in one): a wire whose
        two cards moved by one offset moves along, only a wire with one end left behind is routed."""
        nodes, spots = self._nodes, self._moved_spots
        moved: set[str] = set()
        if len(change.moves) > MANY:
            self.overview.many_changed()
            for _old, node in change.moves:
                node_id = node.id
                spots[node_id] = nodes[node_id].move_to(node)
                moved.add(node_id)
        else:
            for _old, node in change.moves:
                item = nodes[node.id]
                spots[node.id] = item.move_to(node)
                self.overview.changed(item)
                moved.add(node.id)
        if not self._batch.defer_routes(moved):
            self._route_wires_at(moved, change.shift)

    def _after_edge_change(self, edge: Edge) -> None:
        """Filled/hollow ports follow wires; a placeholder node's ports are its wires."""
        for end in (edge.source, edge.target):
            item = self._nodes.get(end)
            if item is None:
                continue
            if self.document.catalog.get(item.node.kind) is None:
                item.set_node(item.node, self.document.ports(end))
                self._reroute(end)
            self._refresh_connected(end)

    def _refresh_connected(self, node_id: str) -> None:
        item = self._nodes.get(node_id)
        if item is None:
            return
        keys: set[PortKey] = set()
        for edge in self.document.edges_of([node_id]):
            if edge.source == node_id:
                keys.add(("output", edge.source_port))
            if edge.target == node_id:
                keys.add(("input", edge.target_port))
        item.set_connected(frozenset(keys))

    # ------------------------------------------------------------ dragging
    def nodes_dragged(self, grabbed: CanvasNodeItem, mouse: QPointF | None = None) -> None:
        """Qt has moved the dragged nodes (a preview): wires follow, and the move is noted for commit.

        A lone unconnected node dragged over a wire it fits lights that wire up: let go, and it is
        inserted there (see :meth:`commit_drag`).
        """
        moving = {i for i in self.selectedItems() if isinstance(i, CanvasNodeItem)} | {grabbed}
        ids = [item.node_id for item in moving]
        fresh = not self._dragged  # the drag's first step: each wire is still where the document has it
        with self.overview.batch():  # the far picture repaints the moved cards once, or all at once if many
            for item in moving:
                position = item.node.position
                if (item.pos().x(), item.pos().y()) != (position.x, position.y):
                    self._dragged.add(item.node_id)
                    self.overview.changed(item)  # Qt moved it: the far picture has not seen it
            if fresh:
                model = grabbed.node.position
                self._drag_wires.start(self.document, ids, QPointF(model.x, model.y), self._edges.get)
            elif not self._drag_wires.follows(ids):  # the selection or the wires changed under the drag
                self._drag_wires.stop()  # the carried wires back in the scene, where the drag has taken them
                self._route_wires_at(set(ids))
                self._drag_wires.start(self.document, ids, grabbed.pos(), self._edges.get)
            self._route_edges(self._drag_wires.step(grabbed.pos()))
        target = None
        if len(moving) == 1 and mouse is not None:
            target = self.insertable_edge_at(
                mouse, lambda edge_id: insertion_ports(self.document, grabbed.node_id, edge_id)
            )
        self.set_insert_target(target)

    def edge_at(self, scene_pos: QPointF) -> EdgeItem | None:
        """The wire under ``scene_pos`` (within its widened hit area), topmost first."""
        for item in self.items(scene_pos):
            if isinstance(item, EdgeItem):
                return item
        return None

    def insertable_edge_at(self, scene_pos: QPointF, fits: Callable[[str], object]) -> str | None:
        """The id of the wire under ``scene_pos`` if ``fits(edge_id)`` says a node could go into it."""
        item = self.edge_at(scene_pos)
        if item is None:
            return None
        if item is self._insert_target:
            return item.edge_id  # asked on every mouse move: the answer for this wire is known
        return item.edge_id if fits(item.edge_id) else None

    def set_insert_target(self, edge_id: str | None) -> None:
        """Highlight the wire (or none) that a drop would insert into."""
        item = self._edges.get(edge_id) if edge_id is not None else None
        if item is self._insert_target:
            return
        if self._insert_target is not None:
            self._insert_target.set_insert_target(False)
        self._insert_target = item
        if item is not None:
            item.set_insert_target(True)

    @property
    def insert_target(self) -> str | None:
        return self._insert_target.edge_id if self._insert_target is not None else None

    def _sync_position(self, item: CanvasNodeItem) -> None:
        item.sync_position()
        self._reroute(item.node_id)

    # ---------------------------------------------------------------- reading
    def node_item(self, node_id: str) -> CanvasNodeItem:
        return self._nodes[node_id]

    def edge_item(self, edge_id: str) -> EdgeItem:
        return self._edges[edge_id]

    def node_items(self) -> Iterator[CanvasNodeItem]:
        return iter(self._nodes.values())

    def edge_items(self) -> Iterator[EdgeItem]:
        return iter(self._edges.values())

    def selected_node_ids(self) -> list[str]:
        """Selected nodes, in document order (so commands built from them are deterministic).

        Kept until the selection or the document's nodes change: each step of a held arrow key asks
        for it again, and finding 5,000 selected cards among the scene's items costs 7 ms each time.
        """
        if self._selected_nodes.ids is None:
            chosen = {i.node_id for i in self.selectedItems() if isinstance(i, CanvasNodeItem)}
            self._selected_nodes.ids = [n.id for n in self.document.nodes if n.id in chosen]
        return list(self._selected_nodes.ids)

    def selected_edge_ids(self) -> list[str]:
        chosen = {i.edge_id for i in self.selectedItems() if isinstance(i, EdgeItem)}
        return [e.id for e in self.document.edges if e.id in chosen]

    def select(self, node_ids: Iterable[str] = (), edge_ids: Iterable[str] = ()) -> None:
        """Make exactly these nodes and edges the selection, telling listeners once.

        Qt emits ``selectionChanged`` for every item selected; with thousands selected at once
        (Select all) listeners that look at the whole selection each time made it quadratic.
        """
        was_blocked = self.blockSignals(True)
        self._selected_nodes.forget()  # (told below only when the caller has not blocked the signals)
        try:
            with self.overview.batch():
                self.clearSelection()
                for node_id in node_ids:
                    self._nodes[node_id].setSelected(True)
                for edge_id in edge_ids:
                    self._edges[edge_id].setSelected(True)
                self.overview.selection_changed()  # its signal is held back here
        finally:
            self.blockSignals(was_blocked)
        if not was_blocked:
            self.selectionChanged.emit()

    def port_at(self, scene_pos: QPointF) -> tuple[CanvasNodeItem, PortKey] | None:
        """The port nearest ``scene_pos`` within its hit area, on whichever node is there."""
        reach = 16.0
        area = QRectF(scene_pos.x() - reach, scene_pos.y() - reach, 2 * reach, 2 * reach)
        for item in self.items(area):
            if isinstance(item, CanvasNodeItem):
                key = item.port_at(scene_pos)
                if key is not None:
                    return item, key
        return None

    def node_item_at(self, scene_pos: QPointF) -> CanvasNodeItem | None:
        for item in self.items(scene_pos):
            if isinstance(item, CanvasNodeItem):
                return item
        return None

    # ----------------------------------------------------------- run display
    def set_node_state(self, node_id: str, state: NodeState | str, detail: str = "") -> None:
        """Paint a node's run state; a node the document no longer has (edited since the run) is skipped."""
        item = self._nodes.get(node_id)
        if item is None:
            return
        item.set_state(state)
        item.set_detail(detail)
        if item.state == NodeState.RUNNING:
            self._running.add(node_id)
            if not self._animation.isActive():
                self._animation.start()
        else:
            self._running.discard(node_id)

    def _animate(self) -> None:
        """Advance the running nodes' outlines; the timer stops when nothing runs."""
        for node_id in list(self._running):
            item = self._nodes.get(node_id)
            if item is None or item.state != NodeState.RUNNING:
                self._running.discard(node_id)
            else:
                item.advance_phase()
        if not self._running:
            self._animation.stop()

    def set_node_problems(self, node_id: str, problems: Iterable[str]) -> None:
        self._nodes[node_id].set_problems(problems)

    def set_edge_problems(self, edge_id: str, problems: Iterable[str]) -> None:
        self._edges[edge_id].set_problems(problems)

    def clear_states(self) -> None:
        with self.overview.batch():
            for item in self._nodes.values():
                item.set_state(NodeState.IDLE)
                item.set_detail("")
            for edge in self._edges.values():
                edge.set_carried(False)
        self._running.clear()

    def edge_ids_at(self, node_id: str) -> set[str]:
        """The wires into and out of ``node_id`` (the document's index: the scene keeps none of its own)."""
        return self.document.edge_ids_at(node_id)

    def set_edge_carried(self, edge_id: str, carried: bool) -> None:
        if edge_id in self._edges:
            self._edges[edge_id].set_carried(carried)

    def set_theme(self, theme: CanvasTheme) -> None:
        self.theme = theme
        self.setBackgroundBrush(theme.background)
        self.invalidate(QRectF(), QGraphicsScene.SceneLayer.BackgroundLayer)  # views cache the grid
        with self.overview.batch():
            for item in self._nodes.values():
                item.set_theme(theme)
            for edge in self._edges.values():
                edge.set_theme(theme)

    # ------------------------------------------------------------- background
    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        """The grid; far out also the picture of every card and wire (see ``overview.py``)."""
        rect = QRectF(rect)
        draw_grid(painter, rect, self.theme)
        if self.overview.active:
            self.overview.paint(painter, rect)


class _Remembered:
    """A list found when first asked, forgotten when ``signal`` says it changed.

    Not a slot of the scene itself: a scene's own slot is looked up by name as Qt tears it down, which
    PySide reports as an error (the selection changes as the items go).
    """

    def __init__(self, signal: SignalInstance) -> None:
        self.ids: list[str] | None = None
        signal.connect(self.forget)

    def forget(self) -> None:
        self.ids = None

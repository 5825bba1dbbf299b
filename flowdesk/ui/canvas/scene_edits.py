"""What the canvas turns into commands: the end of a drag (with insert-on-a-wire), nudges, Delete.

A mixin of :class:`~flowdesk.ui.canvas.scene.WorkflowScene`, kept apart so the scene module holds
the projection (items following the document) and this one the editing gestures. Nothing here
changes an item: each gesture pushes a command, and the document's answer moves the items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF

from flowdesk.model.commands import Command, CommandRefused, Disconnect, Macro, MoveNodes, RemoveNodes
from flowdesk.model.edge_insert import insert_on_edge
from flowdesk.ui.canvas.theme import snap

if TYPE_CHECKING:
    from flowdesk.model.document import WorkflowDocument
    from flowdesk.ui.canvas.drag_wires import DraggedWires
    from flowdesk.ui.canvas.node_item import CanvasNodeItem
    from flowdesk.ui.canvas.overview import Overview
    from flowdesk.ui.undo import DocumentUndoStack


class SceneEdits:
    """Editing gestures of the scene; the scene provides the attributes and lookups declared here."""

    document: WorkflowDocument
    undo_stack: DocumentUndoStack
    _nodes: dict[str, CanvasNodeItem]
    _dragged: set[str]
    _drag_wires: DraggedWires
    overview: Overview

    if TYPE_CHECKING:

        @property
        def insert_target(self) -> str | None: ...
        def set_insert_target(self, edge_id: str | None) -> None: ...
        def _sync_position(self, item: CanvasNodeItem) -> None: ...
        def selected_node_ids(self) -> list[str]: ...
        def selected_edge_ids(self) -> list[str]: ...

    def push(self, build: Command | Callable[[], Command]) -> str | None:
        """Build (if needed) and push a command; returns the refusal reason, or None when done."""
        try:
            command = build() if callable(build) else build
        except CommandRefused as exc:
            self.undo_stack.refused.emit(str(exc))
            return str(exc)
        return self.undo_stack.push_command(command)

    def commit_drag(self) -> bool:
        """End a drag of nodes: one MoveNodes to the snapped positions (or put them back if unmoved).

        One node snaps to the grid; several move by one snapped offset, so cards lined up off the
        grid (aligned right or on their centres) stay lined up. Dropped on a lit wire, the move and
        the insertion into that wire are one undo step.
        """
        with self.overview.batch():  # the far picture repaints the moved wires once, not one by one
            self._drag_wires.stop(index=False, forward=False)  # each dragged card's wires move once, below
            try:
                return self._commit_drag()
            finally:
                self._drag_wires.restore_index()

    def _commit_drag(self) -> bool:
        dragged, self._dragged = self._dragged, set()
        into = self.insert_target
        self.set_insert_target(None)
        # in document order: the order the cards lie in memory, which a move of thousands goes through three times
        # (read off the document's list: sorting by each node's place asked for 5,000 places)
        nodes = self._nodes
        items = [nodes[n.id] for n in self.document.nodes if n.id in dragged and n.id in nodes]
        dx = dy = 0.0
        if len(items) > 1:
            moved = items[0].pos() - QPointF(items[0].node.position.x, items[0].node.position.y)
            dx, dy = snap(moved.x()), snap(moved.y())
        positions: dict[str, tuple[float, float]] = {}
        for item in items:
            node_id = item.node_id
            if len(items) > 1:
                target = (item.node.position.x + dx, item.node.position.y + dy)
            else:
                target = (snap(item.pos().x()), snap(item.pos().y()))
            if target != (item.node.position.x, item.node.position.y):
                positions[node_id] = target
            else:
                self._sync_position(item)
        if not positions:
            return False
        if into is not None and len(positions) == 1:
            return self._move_and_insert(positions, into)
        if self.push(lambda: MoveNodes(self.document, positions)) is not None:
            for node_id in positions:
                self._sync_position(self._nodes[node_id])
            return False
        return True

    def _move_and_insert(self, positions: dict[str, tuple[float, float]], edge_id: str) -> bool:
        (node_id,) = positions
        doc = self.document

        def build(run: Callable[[Command], None]) -> None:
            run(MoveNodes(doc, positions))
            insert_on_edge(doc, node_id, edge_id, run, self.card_size)

        if self.push(lambda: Macro.record(doc, f"Insert {doc.node(node_id).title} into a wire", build)) is not None:
            self._sync_position(self._nodes[node_id])
            return False
        return True

    def card_size(self, node_id: str) -> tuple[float, float]:
        """The drawn size of a node's card (the model has positions only)."""
        rect = self._nodes[node_id].card_rect()
        return rect.width(), rect.height()

    def nudge_selection(self, dx: float, dy: float) -> bool:
        """Move the selected nodes by (dx, dy), as one command; not while the mouse drags cards, which go
        where the mouse leaves them (the drag's own move, at the release)."""
        ids = self.selected_node_ids()
        if not ids or self._dragged:
            return False
        return self.push(lambda: MoveNodes.by(self.document, ids, dx, dy)) is None

    def delete_selection(self) -> bool:
        """Remove the selected nodes (with their edges) and selected edges, as one undo step."""
        node_ids = self.selected_node_ids()
        doomed = set(node_ids)
        edge_ids = [
            e
            for e in self.selected_edge_ids()
            if not {self.document.edge(e).source, self.document.edge(e).target} & doomed
        ]
        if not node_ids and not edge_ids:
            return False
        if node_ids and edge_ids:

            def build(run: Callable[[Command], None]) -> None:
                run(Disconnect(edge_ids))
                run(RemoveNodes(node_ids))

            label = f"Delete {len(node_ids)} nodes and {len(edge_ids)} edges"
            return self.push(lambda: Macro.record(self.document, label, build)) is None
        if node_ids:
            return self.push(RemoveNodes(node_ids)) is None
        return self.push(Disconnect(edge_ids)) is None

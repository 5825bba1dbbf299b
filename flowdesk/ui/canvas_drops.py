"""Watches the canvas for two things the edit actions need: where the mouse is, and kinds dropped on wires.

Paste lands under the mouse when the mouse is over the canvas (a keyboard paste), and beside the
originals otherwise (Edit > Paste from the menu: the menu took the mouse away, so the canvas saw
it leave). A kind dragged from the palette over a wire it fits lights that wire up; dropped there,
the new node is added and inserted into the wire in one undo step. Anywhere else the drop is left
to the main window, which adds the node where it fell.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPointF
from PySide6.QtGui import QDragMoveEvent, QDropEvent, QMouseEvent

from flowdesk.model.commands import AddNode, Command, CommandRefused, Macro
from flowdesk.model.edge_insert import insert_on_edge, ports_fit
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.theme import snap
from flowdesk.ui.canvas.view import WorkflowView
from flowdesk.ui.palette import KIND_MIME


class CanvasWatcher(QObject):
    """An event filter on one view's viewport (installed after the main window's, so it sees events first)."""

    def __init__(self, view: WorkflowView, say: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.scene: WorkflowScene = view.workflow_scene
        self.say = say
        self.mouse: QPointF | None = None
        """Where the mouse is over the canvas, in scene coordinates; None when it is elsewhere."""
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseMove:
            assert isinstance(event, QMouseEvent)
            self.mouse = self.view.to_scene(event.position())
        elif kind == QEvent.Type.Leave:
            self.mouse = None
        elif kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragMoveEvent)
            self._hover_kind(event)
        elif kind == QEvent.Type.DragLeave:
            self.scene.set_insert_target(None)
        elif kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            return self._drop_kind(event)
        return False  # never swallowed: the view and the main window see every event too

    # ------------------------------------------------------------------ drops
    def _kind_of(self, event: QDropEvent) -> str | None:
        data = event.mimeData()
        if not data.hasFormat(KIND_MIME):
            return None
        return bytes(data.data(KIND_MIME).data()).decode("utf-8")

    def _edge_for(self, kind: str, viewport_pos: QPointF) -> str | None:
        """The wire under the drop point that a new ``kind`` node fits into, if any."""
        spec = self.scene.document.catalog.get(kind)
        if spec is None:
            return None
        ports = spec.ports_for(spec.default_config())
        doc = self.scene.document
        return self.scene.insertable_edge_at(
            self.view.to_scene(viewport_pos), lambda edge_id: ports_fit(doc, ports, edge_id)
        )

    def _hover_kind(self, event: QDragMoveEvent) -> None:
        kind = self._kind_of(event)
        self.scene.set_insert_target(self._edge_for(kind, event.position()) if kind else None)

    def _drop_kind(self, event: QDropEvent) -> bool:
        """A kind dropped on a wire it fits: add and insert it (one step). Else leave it to the window."""
        self.scene.set_insert_target(None)
        kind = self._kind_of(event)
        edge_id = self._edge_for(kind, event.position()) if kind else None
        if kind is None or edge_id is None:
            return False
        where = self.view.to_scene(event.position())
        doc = self.scene.document
        added: list[str] = []

        def build(run: Callable[[Command], None]) -> None:
            add = AddNode.of_kind(doc, kind, (snap(where.x()), snap(where.y())))
            run(add)
            added.append(add.node.id)
            insert_on_edge(doc, add.node.id, edge_id, run, self.scene.card_size)

        try:
            spec = doc.catalog.get(kind)
            macro = Macro.record(doc, f"Insert {spec.display_name if spec else kind} into a wire", build)
        except CommandRefused as exc:
            self.say(str(exc))
            event.acceptProposedAction()
            return True
        if self.scene.push(macro) is None:
            self.scene.select(added)
        event.acceptProposedAction()
        return True

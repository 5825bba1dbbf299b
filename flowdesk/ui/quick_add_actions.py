"""Quick add on the canvas: Tab searches every kind; a wire dropped on empty canvas offers what it can feed.

The window owns one of these; it opens the search popup and turns the choice into commands (adding, or
adding and connecting in one undo step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtGui import QCursor

from flowdesk.model.commands import AddNode, Command, CommandRefused, Connect, Macro
from flowdesk.model.kinds import KindSpec
from flowdesk.ui.canvas.theme import snap
from flowdesk.ui.open_document import FollowsDocument
from flowdesk.ui.quick_add import QuickAdd, first_compatible_input

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow


class QuickAddActions(FollowsDocument):
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        window.document_opened.connect(self.follow)  # handed each open document
        self.popup: QuickAdd | None = None
        """The open (or last) popup: kept so Python does not collect it while open, and for tests."""

    def _show(self, kinds: list[KindSpec], scene_pos: QPointF, chosen: Callable[[str], None]) -> QuickAdd:
        view = self.view
        assert view is not None
        popup = QuickAdd(kinds, self.window)
        popup.chosen.connect(chosen)
        popup.popup(view.viewport().mapToGlobal(view.mapFromScene(scene_pos)))
        self.popup = popup
        return popup

    def at_cursor(self) -> None:
        """Tab on the canvas: search the node kinds, add the chosen one under the mouse."""
        view = self.view
        if view is None:
            return
        inside = view.viewport().mapFromGlobal(QCursor.pos())
        if not view.viewport().rect().contains(inside):
            inside = view.viewport().rect().center()
        where = view.mapToScene(inside)
        kinds = [k for k in self.window.registry if k.runnable or k.name == "note"]
        self._show(kinds, where, lambda kind: self.window.add_node(kind, where))

    def from_wire(self, source: str, source_port: str, scene_pos: QPointF) -> None:
        """A wire dropped on empty canvas: offer the kinds it can feed, add and connect in one step."""
        document = self.document
        if document is None:
            return
        out = next((p for p in document.ports(source).outputs if p.name == source_port), None)
        if out is None:
            return
        kinds = [k for k in self.window.registry if first_compatible_input(k, out.type) is not None]
        self._show(kinds, scene_pos, lambda kind: self._add_connected(kind, source, source_port, scene_pos))

    def _add_connected(self, kind: str, source: str, source_port: str, scene_pos: QPointF) -> None:
        window = self.window
        doc, stack = self.document, self.stack
        if doc is None or stack is None:
            return
        spec = doc.catalog.get(kind)
        out = next(p for p in doc.ports(source).outputs if p.name == source_port)
        target_port = first_compatible_input(spec, out.type) if spec else None
        position = (snap(scene_pos.x()), snap(scene_pos.y()))
        added: list[str] = []

        def build(run: Callable[[Command], None]) -> None:
            add = AddNode.of_kind(doc, kind, position)
            run(add)
            run(Connect(doc, source, source_port, add.node.id, target_port or ""))
            added.append(add.node.id)

        try:
            macro = Macro.record(doc, f"Add {spec.display_name if spec else kind}", build)
        except CommandRefused as exc:
            window.say(str(exc))
            return
        stack.push_command(macro)
        if self.scene is not None:
            self.scene.select(added)

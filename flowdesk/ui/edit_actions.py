"""Edit > Cut/Copy/Paste/Duplicate/Delete, the Arrange menu and the Problems dock of the main window.

Kept out of ``main_window.py`` so the window stays a frame that others extend too: the window
builds one :class:`EditActions` after its menus, and emits ``document_loaded`` whenever a workflow
opens, which re-attaches everything here that follows one document (the problems panel, the
canvas watcher). Every edit made here is one command on the undo stack, like any other edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu

from flowdesk.model.align import Alignment, Axis
from flowdesk.model.commands import Command, PasteFragment, RemoveNodes
from flowdesk.model.fileformat import Fragment, WorkflowFileError
from flowdesk.ui.arrange import (
    ALIGN_LABELS,
    DISTRIBUTE_LABELS,
    align_selection,
    auto_layout,
    distribute_selection,
    layout_scope,
)
from flowdesk.ui.canvas.theme import snap
from flowdesk.ui.canvas_drops import CanvasWatcher
from flowdesk.ui.clipboard import (
    PasteCascade,
    clipboard_text,
    fragment_bounds,
    fragment_text,
    put_on_clipboard,
    read_fragment,
    selection_fragment,
)
from flowdesk.ui.open_document import FollowsDocument
from flowdesk.ui.problems import ProblemsPanel

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


class EditActions(FollowsDocument, QObject):
    """Installs the clipboard actions, the Arrange menu and the Problems dock into ``window``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        window.document_opened.connect(self.follow)  # handed each open document
        self.cascade = PasteCascade()
        self.watcher: CanvasWatcher | None = None
        self.problems = ProblemsPanel(window.registry)
        self.problems_dock = QDockWidget("Problems", window)
        self.problems_dock.setObjectName("dock-problems")
        self.problems_dock.setWidget(self.problems)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        window.menu("View").addAction(self.problems_dock.toggleViewAction())
        self._install_edit_menu(window.menu("Edit"))
        arrange = QMenu("&Arrange", window)
        window.menuBar().insertMenu(window.menu("View").menuAction(), arrange)
        window.add_menu("Arrange", arrange)
        self._install_arrange_menu(arrange)
        window.document_loaded.connect(self.document_loaded)
        if self.document is not None:
            self.document_loaded()

    def _add(self, menu: QMenu, text: str, slot: Callable[[], object], shortcut: object = None) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _install_edit_menu(self, edit: QMenu) -> None:
        edit.addSeparator()
        self.cut_action = self._add(edit, "Cu&t", self.cut, QKeySequence.StandardKey.Cut)
        self.copy_action = self._add(edit, "&Copy", self.copy, QKeySequence.StandardKey.Copy)
        self.paste_action = self._add(edit, "&Paste", self.paste, QKeySequence.StandardKey.Paste)
        self.duplicate_action = self._add(edit, "D&uplicate", self.duplicate, "Ctrl+D")
        self.delete_action = self._add(edit, "&Delete", self.delete, QKeySequence.StandardKey.Delete)
        # the canvas handles the Delete key itself; here the key is only shown (and works in the
        # menu), so Delete pressed in an inspector field never deletes the node being edited
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)

    def _install_arrange_menu(self, arrange: QMenu) -> None:
        self.layout_action = self._add(arrange, "&Auto-layout", self.auto_layout, "Ctrl+L")
        arrange.addSeparator()
        self.align_actions = {
            how: self._add(arrange, label, lambda _=False, h=how: self.align(h)) for how, label in ALIGN_LABELS.items()
        }
        arrange.addSeparator()
        self.distribute_actions = {
            axis: self._add(arrange, label, lambda _=False, a=axis: self.distribute(a))
            for axis, label in DISTRIBUTE_LABELS.items()
        }

    def document_loaded(self) -> None:
        """A workflow was opened: follow its document, scene and view."""
        if self.document is None or self.scene is None or self.view is None:
            return
        if self.watcher is not None:
            self.watcher.deleteLater()
        self.watcher = CanvasWatcher(self.view, self.window.say, self)
        self.cascade.reset()
        self.problems.attach(self.document, self.scene, self.view)

    # ------------------------------------------------------------------ clipboard
    def _push(self, command: Command) -> bool:
        assert self.scene is not None
        return self.scene.push(command) is None

    def _selected(self, verb: str) -> list[str]:
        """The selected node ids; says what to do when there are none."""
        scene = self.scene
        ids = scene.selected_node_ids() if scene is not None else []
        if not ids:
            self.window.say(f"Select nodes to {verb} first")
        return ids

    def copy(self) -> bool:
        """Copy the selected nodes and the wires between them to the clipboard as JSON."""
        ids = self._selected("copy")
        if not ids or self.document is None:
            return False
        put_on_clipboard(fragment_text(self.document, ids))
        self.cascade.reset()
        self.window.say(f"Copied {_count(len(ids), 'node')}")
        return True

    def cut(self) -> bool:
        """Copy, then delete the selected nodes (with their wires) in one undo step."""
        ids = self._selected("cut")
        if not ids or not self.copy():
            return False
        command = RemoveNodes(ids)
        command.label = f"Cut {_count(len(ids), 'node')}"
        return self._push(command)

    def paste(self) -> bool:
        """Paste the clipboard's nodes: under the mouse if it is on the canvas, else beside the originals."""
        if self.document is None:
            return False
        text = clipboard_text()
        try:
            fragment = read_fragment(text)
        except WorkflowFileError as exc:
            self.window.say(f"Nothing pasted: {_reason(exc)}")
            return False
        if not fragment.nodes:
            self.window.say("Nothing pasted: the copied selection holds no nodes")
            return False
        return self._paste(fragment, self._paste_offset(fragment, text), "Paste")

    def duplicate(self) -> bool:
        """Copies of the selected nodes (and the wires between them) beside them; the clipboard is untouched."""
        ids = self._selected("duplicate")
        if not ids or self.document is None:
            return False
        nodes, edges = selection_fragment(self.document, ids)
        return self._paste(Fragment(tuple(nodes), tuple(edges)), (40.0, 40.0), "Duplicate")

    def _paste(self, fragment: Fragment, offset: tuple[float, float], verb: str) -> bool:
        doc, scene = self.document, self.scene
        assert doc is not None and scene is not None
        command = PasteFragment(doc, fragment.nodes, fragment.edges, offset)
        left_out = f"; left out {', '.join(command.skipped)} (a workflow has only one)" if command.skipped else ""
        if not command.nodes:
            self.window.say(f"Nothing pasted{left_out}")
            return False
        if verb != "Paste":
            command.label = f"{verb} {_count(len(command.nodes), 'node')}"
        if not self._push(command):
            return False
        scene.select(command.created_node_ids)
        self.window.say(
            f"{'Pasted' if verb == 'Paste' else 'Duplicated'} {_count(len(command.nodes), 'node')}{left_out}"
        )
        return True

    def _paste_offset(self, fragment: Fragment, text: str) -> tuple[float, float]:
        """Shift that puts the pasted nodes' top-left under the mouse, or one step past the last paste.

        Pasted where the originals are not in view (another workflow, another corner), the nodes
        come to the middle of the view instead, so a paste is never out of sight.
        """
        view = self.view
        assert view is not None
        bounds = fragment_bounds(fragment.nodes)
        mouse = self.watcher.mouse if self.watcher is not None else None
        if mouse is not None:
            return snap(mouse.x() - bounds.left()), snap(mouse.y() - bounds.top())
        step = self.cascade.next_offset(text)
        visible = view.mapToScene(view.viewport().rect()).boundingRect()
        if visible.contains(bounds.topLeft() + QPointF(step, step)):
            return step, step
        centre = visible.center()
        return snap(centre.x() - bounds.center().x()), snap(centre.y() - bounds.center().y())

    def delete(self) -> bool:
        scene = self.scene
        if scene is None or not scene.delete_selection():
            self.window.say("Select nodes or wires to delete first")
            return False
        return True

    # ------------------------------------------------------------------ arrange
    def auto_layout(self) -> bool:
        """Lay out the selection (two or more nodes) or, failing that, the whole workflow; one undo step."""
        scene, view = self.scene, self.view
        if scene is None or view is None:
            return False
        scope = layout_scope(scene)
        whole = len(scope) == len(scene.document.nodes)
        command = auto_layout(scene, scope)
        if command is None:
            self.window.say("Nothing to move: already laid out")
            return False
        if not self._push(command):
            return False
        if whole:
            view.fit_all()
        self.window.say(f"Laid out {_count(len(command.new), 'node')}{'' if whole else ' (the selection)'}")
        return True

    def align(self, how: Alignment) -> bool:
        scene = self.scene
        if scene is None:
            return False
        if len(scene.selected_node_ids()) < 2:
            self.window.say("Select two or more nodes to align")
            return False
        command = align_selection(scene, how)
        if command is None:
            self.window.say("Already aligned")
            return False
        return self._push(command)

    def distribute(self, axis: Axis) -> bool:
        scene = self.scene
        if scene is None:
            return False
        if len(scene.selected_node_ids()) < 3:
            self.window.say("Select three or more nodes to distribute")
            return False
        command = distribute_selection(scene, axis)
        if command is None:
            self.window.say("Already evenly spaced")
            return False
        return self._push(command)


def _reason(exc: WorkflowFileError) -> str:
    """Why clipboard text is not a selection, in words for the status bar."""
    if exc.line is not None:
        return f"the clipboard text is not JSON (line {exc.line}, column {exc.column}: {exc.message})"
    if exc.path:
        return f"the copied selection is damaged at {exc._labelled_path()}: {exc.message}"
    return exc.message

"""File > Save As… and File > Rename…, and F2 to rename the selected node.

Rename is an edit of the open document (undoable, saved with the next Ctrl+S), so the title,
the library and the undo history agree. Save As makes a new library workflow from the open one,
unsaved edits included, and opens it; the original keeps its last saved version untouched.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QLineEdit

from flowdesk.model.commands import SetWorkflowProps
from flowdesk.model.fileformat import WorkflowFileError, write_workflow
from flowdesk.model.ids import id_stem
from flowdesk.store.database import LibraryError
from flowdesk.ui.file_dialogs import save_file_name
from flowdesk.ui.open_document import FollowsDocument

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow


UNTITLED = "Untitled workflow"
"""The name of a new workflow until the person gives it one."""


class NamingActions(FollowsDocument):
    """The actions (the window puts them in its File and Edit menus) and what they do."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        window.document_opened.connect(self.follow)  # handed each open document
        self.save_as_action = self._make("Save &as…", self.save_as, QKeySequence.StandardKey.SaveAs)
        self.rename_action = self._make("&Rename workflow…", self.rename)
        self.rename_node_action = self._make("Re&name node", self.rename_node, QKeySequence("F2"))

    def _make(self, text: str, slot: Callable[[], object], shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _ask_name(self, title: str, label: str, proposed: str) -> str | None:
        """A name typed by the person, stripped; None when they cancel or leave it empty."""
        text, ok = QInputDialog.getText(self.window, title, label, QLineEdit.EchoMode.Normal, proposed)
        text = text.strip()
        return text if ok and text else None

    def name_if_untitled(self) -> bool:
        """Before the first save of a workflow still called "Untitled workflow": ask its name (a rename,
        one undo step); False if the person cancels, so no second silent "Untitled workflow" is kept."""
        document = self.document
        if document is None or self.stack is None or document.workflow.name != UNTITLED:
            return True
        if self.window.store.workflows.exists(document.workflow.id):
            return True
        name = self._ask_name("Save the workflow", "Name:", "")
        if name is None:
            return False
        return self.stack.push_command(SetWorkflowProps(document, name=name)) is None

    def export_file(self) -> None:
        """File > Export JSON: the open workflow as a file, stamped with its library version number."""
        if self.document is None:
            return
        default = f"{id_stem(self.document.workflow.name) or 'workflow'}.json"
        name = save_file_name(
            self.window, "Export the workflow", default, "Workflow files (*.json)", self.window.store.path
        )
        if not name:
            return
        workflow = self.document.workflow
        store = self.window.store
        try:
            if store.workflows.exists(workflow.id):  # the file says which library version it is
                workflow = workflow.model_copy(update={"version": store.workflows.get(workflow.id).current_version})
            write_workflow(workflow, name)
        except (OSError, ValueError, WorkflowFileError, LibraryError) as exc:
            self.window.warn("Cannot export", str(exc))
            return
        self.window.say(f"Exported to {name}")

    def rename(self) -> None:
        window = self.window
        if self.document is None or self.stack is None:
            return
        current = self.document.workflow.name
        name = self._ask_name("Rename the workflow", "Name:", current)
        if name is None or name == current:
            return
        if self.stack.push_command(SetWorkflowProps(self.document, name=name)) is None:
            window.say(f"Renamed to '{name}': save (Ctrl+S) to keep it in the library")

    def save_as(self) -> bool:
        """Save the open workflow, edits and all, as a new library workflow and open that; True when saved."""
        window = self.window
        if self.document is None:
            return False
        original = self.document.workflow
        name = self._ask_name("Save as a new workflow", "Name of the copy:", f"{original.name} (copy)")
        if name is None:
            return False
        copy = original.model_copy(update={"id": f"wf_{uuid.uuid4().hex[:12]}", "name": name, "version": 1})
        try:
            result = window.store.workflows.save(copy, summary=f"saved as a copy of '{original.name}'")
            saved = window.store.workflows.load(result.workflow_id)
        except (LibraryError, ValueError, OSError) as exc:
            window.warn("Cannot save a copy", str(exc))
            return False
        said = f"Saved as '{name}' (version 1); '{original.name}' keeps its last saved version"
        if self.source not in (None, "library"):  # opened from a file: the files it calls come along
            try:
                window.store.workflows.import_references(saved, Path(self.source).parent)
            except (WorkflowFileError, LibraryError, OSError) as exc:
                said += f"; a workflow it calls could not be imported: {exc}"
        window.session.discarded(original.id)  # its unsaved edits went into the copy
        view = self.view
        looking_at = view.mapToScene(view.viewport().rect().center()) if view is not None else None
        zoom = view.zoom if view is not None else None
        window.load(saved, "library")
        if looking_at is not None and zoom is not None and self.view is not None:  # the same picture as before
            self.view.set_zoom(zoom)
            self.view.centerOn(looking_at)
        window.session.opened(saved.id)
        window.say(said)
        return True

    def rename_node(self) -> None:
        """Bring the inspector forward with the selected node's name ready to type over."""
        window = self.window
        if self.scene is None or window.inspector is None:
            return
        nodes = self.scene.selected_node_ids()
        if len(nodes) != 1:
            window.say("Select one node to rename it")
            return
        window.show_inspector()
        window.inspector.name.setFocus()
        window.inspector.name.selectAll()

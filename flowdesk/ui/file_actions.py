"""The main window's file actions: open (library or file), import, save, version history, and asking
before unsaved edits are dropped.

A mixin of :class:`~flowdesk.ui.main_window.MainWindow`, which keeps the window itself (docks,
menus, the open document's wiring); these are the steps that move a workflow between the canvas,
the library and files, and they only use the window's public parts (``load``, ``document``,
``stack``, ``session``, messages).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from flowdesk.model.fileformat import WorkflowFileError, read_workflow
from flowdesk.model.repair import with_unique_ids
from flowdesk.store.database import LibraryError
from flowdesk.store.workflows import NotFoundError, refuse_library_file
from flowdesk.ui.file_dialogs import open_file_name
from flowdesk.ui.history_dialog import HistoryDialog
from flowdesk.ui.library_dialog import LibraryDialog

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow

    _Base = MainWindow
else:
    _Base = object


class FileActions(_Base):
    """Open, import, save and restore for the window (File menu, Ctrl+O/I/S, the welcome page)."""

    def open_workflow(self, ref: str) -> bool:
        """Open a library workflow (id or slug) or a workflow file; False (and a message) if neither."""
        path = Path(ref)
        try:
            if path.suffix == ".json" or path.is_file():
                refuse_library_file(self.store.path, path)  # reading it would drop the library's locks
                workflow, source = read_workflow(path), str(path)
                if not self.import_guard.may_open(workflow, path):  # it names credentials or runs code
                    return False
            else:
                workflow, source = self.store.workflows.load(ref), "library"
            workflow, renamed = with_unique_ids(workflow)  # a stored workflow with colliding ids still opens
            self.load(workflow, source)
        except (WorkflowFileError, NotFoundError, LibraryError, OSError) as exc:
            self._warn("Cannot open", str(exc))
            self.session.forget(ref)
            return False
        self.session.opened(ref if self.source != "library" else self.document.workflow.id)
        if renamed:
            self._warn(
                "Ids made unique",
                f"This workflow had ids used twice; renamed: {', '.join(renamed)}. Save to keep it so.",
            )
        return True

    def open_from_library(self) -> None:
        if not self.may_discard():
            return
        dialog = LibraryDialog(self.store, self, open_id=self.document.workflow.id if self.document else None)
        if dialog.exec() and dialog.chosen:
            self.open_workflow(dialog.chosen)

    def import_file(self) -> None:
        if not self.may_discard():
            return
        name = open_file_name(self, "Import a workflow", "", "Workflow files (*.json)", self.store.path)
        if name:
            self.open_workflow(name)

    def save_asking_a_name(self) -> bool:
        """File > Save (Ctrl+S): an untitled workflow is named first; cancelling saves nothing."""
        return self.naming.name_if_untitled() and self.save()

    def save(self) -> bool:
        """Save to the library (a new version if anything changed); True when saved."""
        if self.document is None or self.stack is None:
            return False
        try:
            result = self.store.workflows.save(self.document.workflow, summary=self.stack.undoText())
        except (LibraryError, ValueError) as exc:
            self._warn("Cannot save", str(exc))
            return False
        came_from, self.doc.source = self.source, "library"
        self.stack.setClean()
        info = self.store.workflows.get(result.workflow_id)
        said = f"Saved '{info.name}' as version {result.version}" if result.created else "No changes to save"
        if came_from not in (None, "library"):  # opened from a file: the files it calls come along
            try:
                also = self.store.workflows.import_references(self.document.workflow, Path(came_from).parent)
            except (WorkflowFileError, LibraryError, OSError) as exc:
                also, said = [], f"{said}; a workflow it calls could not be imported: {exc}"
            if also:
                said += f"; also imported {', '.join(also)}, which it calls"
        self._say(said)
        self.session.opened(info.id)
        self.update_title()
        return True

    def show_history(self) -> None:
        """The saved versions of the open workflow; restoring one saves it as the newest and opens it."""
        if self.document is None or not self.store.workflows.exists(self.document.workflow.id):
            self._say("This workflow has no saved versions yet: save it first (Ctrl+S)")
            return
        if not self.may_discard():
            return
        dialog = HistoryDialog(self.store, self.document.workflow.id, self)
        if dialog.exec() and dialog.restore_version is not None:
            self.restore_version(dialog.restore_version)

    def restore_version(self, version: int) -> None:
        if self.document is None:
            return
        workflow_id = self.document.workflow.id
        try:
            result = self.store.workflows.restore(workflow_id, version)
            self.load(self.store.workflows.load(workflow_id), "library")
        except (LibraryError, NotFoundError) as exc:
            self._warn("Cannot restore", str(exc))
            return
        self._say(f"Restored version {version} as version {result.version}")

    def may_discard(self) -> bool:
        """Ask before unsaved edits are dropped: Save, Discard or Cancel."""
        if not self.dirty:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"'{self.document.workflow.name if self.document else ''}' has unsaved changes. Save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard and self.document is not None:
            self.session.discarded(self.document.workflow.id)
        return answer == QMessageBox.StandardButton.Discard

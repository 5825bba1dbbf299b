"""File > Save as template: the open workflow kept as one of the person's own templates.

Templates are files in the user's data folder (``flowdesk.store.templates``), listed with the
built-in ones in the welcome view (File > New from template) and by `flowdesk templates`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

from flowdesk.model.fileformat import WorkflowFileError
from flowdesk.store.templates import list_templates, save_template

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow


class TemplateActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.save_action = QAction("Save as &template…", window)
        self.save_action.setStatusTip("Keep this workflow as one of your templates (File > New from template)")
        self.save_action.triggered.connect(self.save_as_template)

    def save_as_template(self) -> bool:
        """Ask the template's name (the workflow's, by default); a name already used asks before replacing."""
        document = self.window.document
        if document is None:
            return False
        name, ok = QInputDialog.getText(
            self.window, "Save as template", "Template name:", QLineEdit.EchoMode.Normal, document.workflow.name
        )
        name = name.strip()
        if not ok or not name:
            return False
        if any(t.name == name and not t.builtin for t in list_templates()):
            answer = QMessageBox.question(
                self.window, "Replace the template", f"You have a template called '{name}'. Replace it?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            path = save_template(document.workflow, name)
        except (OSError, ValueError, WorkflowFileError) as exc:
            QMessageBox.warning(self.window, "Cannot save the template", str(exc))
            return False
        self.window.statusBar().showMessage(f"Saved the template '{name}' ({path})", 8000)
        return True


def install(window: MainWindow) -> TemplateActions:
    """Put File > Save as template after the window's Save as / Rename actions."""
    actions = TemplateActions(window)
    file_menu = window.menu("File")
    listed = file_menu.actions()
    after = listed.index(window.naming.rename_action) + 1 if window.naming.rename_action in listed else len(listed)
    if after < len(listed):
        file_menu.insertAction(listed[after], actions.save_action)
    else:
        file_menu.addAction(actions.save_action)
    return actions

"""File > Version history: every saved version of the open workflow, and restoring one of them.

Restoring never rewrites history: the old version is saved again as the newest one, so the
version it replaces stays one step back in the list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from flowdesk.store.store import Store
from flowdesk.ui.library_dialog import when


class HistoryDialog(QDialog):
    """``restore_version`` holds the version to restore once the dialog is accepted."""

    def __init__(self, store: Store, workflow_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        info = store.workflows.get(workflow_id)
        self.setWindowTitle(f"Versions of {info.name}")
        self.resize(640, 380)
        self.restore_version: int | None = None
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Version", "Saved", "Change"])
        self.list.setRootIsDecorated(False)
        for version in store.workflows.history(workflow_id):
            label = f"{version.version}{'  (current)' if version.current else ''}"
            item = QTreeWidgetItem([label, when(version.created_at), version.summary or "—"])
            item.setData(0, Qt.ItemDataRole.UserRole, version.version)
            self.list.addTopLevelItem(item)
        for column in range(3):
            self.list.resizeColumnToContents(column)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.restore_button = self.buttons.addButton("Restore this version", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self._restore)
        self.list.currentItemChanged.connect(self._update_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Restoring saves the chosen version again as the newest; nothing is lost."))
        layout.addWidget(self.list)
        layout.addWidget(self.buttons)
        if self.list.topLevelItemCount():
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self._update_button()

    def select_version(self, version: int) -> None:
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == version:
                self.list.setCurrentItem(item)

    def _update_button(self) -> None:
        item = self.list.currentItem()
        self.restore_button.setEnabled(item is not None and "current" not in item.text(0))

    def _restore(self) -> None:
        item = self.list.currentItem()
        if item is not None and self.restore_button.isEnabled():
            self.restore_version = item.data(0, Qt.ItemDataRole.UserRole)
            self.accept()

"""File > Open: the library's workflows with a search box, when each changed and how its last run went."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.store.store import Store


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "—"


class LibraryDialog(QDialog):
    """``chosen`` holds the id of the workflow to open once the dialog is accepted."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a workflow")
        self.resize(720, 440)
        self.store = store
        self.chosen: str | None = None
        self.search = QLineEdit(placeholderText="Search name, description, tags…")
        self.search.setClearButtonEnabled(True)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Name", "Version", "Status", "Last changed", "Last run"])
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._open)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self.refresh)
        self.list.itemActivated.connect(lambda *_: self._open())
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for info in self.store.workflows.list(self.search.text().strip()):
            run = f"{info.last_run_status} · {when(info.last_run_at)}" if info.last_run_status else "never run"
            item = QTreeWidgetItem([info.name, str(info.current_version), info.status, when(info.updated_at), run])
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(0, info.description or info.slug)
            self.list.addTopLevelItem(item)
        for column in range(self.list.columnCount()):
            self.list.resizeColumnToContents(column)
        if self.list.topLevelItemCount():
            self.list.setCurrentItem(self.list.topLevelItem(0))

    def _open(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen = item.data(0, Qt.ItemDataRole.UserRole)
            self.accept()

"""File > Open: the library's workflows with a search box, when each changed and how its last run went.

The library is also looked after here, as in a file manager: duplicate, rename or delete the
selected workflow. The one open in the window is renamed from the window (File > Rename), where
its unsaved edits are, and is not deleted from under it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.store.database import LibraryError
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError
from flowdesk.ui.theming import set_tone


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "—"


class LibraryDialog(QDialog):
    """``chosen`` holds the id of the workflow to open once the dialog is accepted."""

    def __init__(self, store: Store, parent: QWidget | None = None, *, open_id: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a workflow")
        self.resize(760, 460)
        self.store = store
        self.open_id = open_id
        self.chosen: str | None = None
        self.search = QLineEdit(placeholderText="Search name, description, tags…")
        self.search.setClearButtonEnabled(True)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Name", "Version", "Status", "Last changed", "Last run"])
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.empty = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_tone(self.message, "error")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        self.open_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        self.duplicate_button = self._tool(buttons, "&Duplicate", self.duplicate, "A copy, named '… (copy)'")
        self.rename_button = self._tool(buttons, "&Rename…", self.rename, "Give the selected workflow a new name")
        self.delete_button = self._tool(buttons, "De&lete…", self.delete, "Remove the workflow; its runs stay")
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self.delete)
        buttons.accepted.connect(self._open)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.search, self.list, self.empty, self.message, buttons):
            layout.addWidget(widget)
        self._say("")
        self.search.textChanged.connect(lambda _text: self.refresh())  # not as the row to select
        self.list.itemActivated.connect(lambda *_: self._open())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.refresh()

    def _tool(self, buttons: QDialogButtonBox, text: str, slot: object, tip: str) -> QPushButton:
        button = buttons.addButton(text, QDialogButtonBox.ButtonRole.ActionRole)
        button.setToolTip(tip)
        button.setStatusTip(tip)  # the tip to go back to after the "it is open" one
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def refresh(self, select: str | None = None) -> None:
        self.list.clear()
        for info in self.store.workflows.list(self.search.text().strip()):
            run = f"{info.last_run_status} · {when(info.last_run_at)}" if info.last_run_status else "never run"
            name = f"{info.name} (open)" if info.id == self.open_id else info.name
            item = QTreeWidgetItem([name, str(info.current_version), info.status, when(info.updated_at), run])
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(0, info.description or info.slug)
            self.list.addTopLevelItem(item)
            if info.id == select:
                self.list.setCurrentItem(item)
        for column in range(self.list.columnCount()):
            self.list.resizeColumnToContents(column)
        if self.list.currentItem() is None and self.list.topLevelItemCount():
            self.list.setCurrentItem(self.list.topLevelItem(0))
        searching = bool(self.search.text().strip())
        self.empty.setText("Nothing matches the search." if searching else "The library is empty: save a workflow.")
        self.empty.setVisible(self.list.topLevelItemCount() == 0)
        self._update_buttons()

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def _update_buttons(self) -> None:
        chosen = self.selected()
        for button in (self.open_button, self.duplicate_button, self.rename_button, self.delete_button):
            button.setEnabled(chosen is not None)
        is_open = chosen is not None and chosen == self.open_id
        for button in (self.rename_button, self.delete_button):
            button.setEnabled(chosen is not None and not is_open)
            button.setToolTip("It is open in the window: use File > Rename there" if is_open else button.statusTip())

    def _say(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(bool(message))

    def duplicate(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        try:
            result = self.store.workflows.duplicate(chosen)
        except (LibraryError, NotFoundError) as exc:
            self._say(str(exc))
            return
        self.refresh(select=result.workflow_id)
        self._say("")

    def rename(self) -> None:
        chosen = self.selected()
        if chosen is None or chosen == self.open_id:
            return
        current = self.store.workflows.get(chosen).name
        name, ok = QInputDialog.getText(self, "Rename the workflow", "Name:", QLineEdit.EchoMode.Normal, current)
        name = name.strip()
        if not ok or not name or name == current:
            return
        try:
            self.store.workflows.rename(chosen, name)
        except (LibraryError, NotFoundError, ValueError) as exc:
            self._say(str(exc))
            return
        self.refresh(select=chosen)
        self._say("")

    def delete(self) -> None:
        chosen = self.selected()
        if chosen is None or chosen == self.open_id:
            return
        info = self.store.workflows.get(chosen)
        answer = QMessageBox.question(
            self,
            "Delete the workflow",
            f"Delete '{info.name}' and its {info.current_version} saved version(s)? Its runs stay, inspectable.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.workflows.delete(chosen)
        except (LibraryError, NotFoundError) as exc:
            self._say(str(exc))
            return
        self.refresh()
        self._say("")

    def _open(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.chosen = chosen
            self.accept()

"""File > Open: the library's workflows with a search box, when each changed and how its last run went.

The library is also looked after here, as in a file manager: duplicate, rename or delete the
selected workflow, set its status (draft, active, archived: archived ones are listed only with
"Show archived") and its tags. The one open in the window is renamed from the window (File > Rename), where
its unsaved edits are, and is not deleted from under it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.store.database import LibraryError
from flowdesk.store.lifecycle import change_tags
from flowdesk.store.store import Store
from flowdesk.store.workflows import STATUSES, NotFoundError
from flowdesk.triggers.manage import forget_secrets
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
        self.list.setHeaderLabels(["Name", "Version", "Status", "Tags", "Last changed", "Last run"])
        self.show_archived = QCheckBox("Show archived")
        self.show_archived.toggled.connect(lambda _on: self.refresh(select=self.selected()))
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
        self.status_button = self._tool(
            buttons, "&Status", lambda: None, "Draft, active (its triggers fire) or archived"
        )
        self.status_menu = QMenu(self.status_button)
        for state in STATUSES:
            self.status_menu.addAction(state.capitalize(), lambda s=state: self.set_status(s))
        self.status_button.setMenu(self.status_menu)
        self.tags_button = self._tool(buttons, "&Tags…", self.edit_tags, "The workflow's tags, separated by commas")
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self.delete)
        buttons.accepted.connect(self._open)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.search, self.show_archived, self.list, self.empty, self.message, buttons):
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
        listed = self.store.workflows.list(self.search.text().strip(), include_archived=self.show_archived.isChecked())
        for info in listed:
            run = f"{info.last_run_status} · {when(info.last_run_at)}" if info.last_run_status else "never run"
            name = f"{info.name} (open)" if info.id == self.open_id else info.name
            tags = ", ".join(info.tags)
            item = QTreeWidgetItem([name, str(info.current_version), info.status, tags, when(info.updated_at), run])
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
        chosen_buttons = (self.duplicate_button, self.rename_button, self.delete_button, self.status_button)
        for button in (self.open_button, self.tags_button, *chosen_buttons):
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
            forget_secrets(self.store.db, chosen)  # its webhooks go with it
            self.store.workflows.delete(chosen)
        except (LibraryError, NotFoundError) as exc:
            self._say(str(exc))
            return
        self.refresh()
        self._say("")

    def set_status(self, state: str) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        try:
            self.store.workflows.set_status(chosen, state)
        except (LibraryError, NotFoundError, ValueError) as exc:
            self._say(str(exc))
            return
        hidden = state == "archived" and not self.show_archived.isChecked()
        self.refresh(select=None if hidden else chosen)
        self._say("Archived: shown again with “Show archived”." if hidden else "")

    def edit_tags(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        info = self.store.workflows.get(chosen)
        text, ok = QInputDialog.getText(
            self, "Tags", "Tags, separated by commas:", QLineEdit.EchoMode.Normal, ", ".join(info.tags)
        )
        if not ok:
            return
        wanted = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
        try:
            change_tags(self.store.db, chosen, add=wanted, remove=tuple(t for t in info.tags if t not in wanted))
        except (LibraryError, NotFoundError, ValueError) as exc:
            self._say(str(exc))
            return
        self.refresh(select=chosen)
        self._say("")

    def _open(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.chosen = chosen
            self.accept()

"""The inspector's Triggers tab: the open workflow's triggers, its status, and adding, pausing, removing.

Triggers belong to the library workflow, so a workflow not saved yet has none to show: the tab says
so. Changes go straight to the library (as the CLI's do); `flowdesk serve` picks them up. A
webhook's URL and secret are shown for the selected webhook, each with a Copy button.
"""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.store.database import LibraryError
from flowdesk.store.lifecycle import publish, published_version
from flowdesk.store.store import Store
from flowdesk.store.triggers import TriggerInfo, TriggerStore
from flowdesk.store.workflows import NotFoundError
from flowdesk.triggers import manage
from flowdesk.triggers.secrets import WebhookSecrets
from flowdesk.ui.theming import set_tone
from flowdesk.ui.trigger_form import TriggerForm

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow
    from flowdesk.ui.open_document import OpenDocument

TAB_TITLE = "Triggers"


def _copy_row(field: QLineEdit, what: str) -> tuple[QWidget, QPushButton]:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    field.setReadOnly(True)
    button = QPushButton(f"Copy {what}")
    button.clicked.connect(lambda: QGuiApplication.clipboard().setText(field.text()))
    layout.addWidget(field, 1)
    layout.addWidget(button)
    return row, button


class TriggersTab(QScrollArea):
    def __init__(self, store: Store, *, secrets: WebhookSecrets | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.triggers = TriggerStore(store.db)
        self.secrets = secrets or WebhookSecrets()
        self.workflow_id: str | None = None
        self._shown_id: str | None = None
        self._followed: weakref.ref[OpenDocument] | None = None
        """The open document's id (saved in the library or not)."""
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.publish_button = QPushButton("Publish the saved version")
        self.publish_button.setToolTip("Triggers and the API run the published version; later saves stay drafts")
        self.publish_button.clicked.connect(self.publish)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Kind", "State", "When"])
        self.list.setRootIsDecorated(False)
        self.list.setWordWrap(True)  # the schedule's words and next times wrap to the dock's width
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.header().setStretchLastSection(True)
        self.list.setMaximumHeight(self.fontMetrics().lineSpacing() * 12)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.list.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove)
        actions = QHBoxLayout()
        actions.addWidget(self.pause_button)
        actions.addWidget(self.remove_button)
        actions.addStretch(1)
        self.hook_box = self._hook_box()
        self.form = TriggerForm(store)
        self.form.add_requested.connect(self.add)
        add_box = QGroupBox("Add a trigger")
        QVBoxLayout(add_box).addWidget(self.form)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_tone(self.message, "error")
        for widget in (self.status, self.publish_button, self.list, self.detail):
            layout.addWidget(widget)
        layout.addLayout(actions)
        for widget in (self.message, self.hook_box, add_box):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.setWidget(body)
        self.show_workflow(None)

    def _hook_box(self) -> QGroupBox:
        """The selected webhook's URL and secret, each with a Copy button."""
        box = QGroupBox("Webhook")
        self.url, self.secret = QLineEdit(), QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        hook_layout = QVBoxLayout(box)
        url_row, self.copy_url = _copy_row(self.url, "URL")
        secret_row, self.copy_secret = _copy_row(self.secret, "secret")
        hint = QLabel(
            "POST JSON to the URL with the secret in X-Flowdesk-Secret, or sign the body (X-Hub-Signature-256)."
        )
        hint.setWordWrap(True)
        for widget in (url_row, secret_row, hint):
            hook_layout.addWidget(widget)
        return box

    # ------------------------------------------------------------ showing
    def follow(self, doc: OpenDocument) -> None:
        """Show the triggers of the window's newly opened document (and again each time it is saved)."""
        self._shown_id = doc.workflow.id
        self._followed = weakref.ref(doc)  # not kept alive by this tab once it closes
        doc.link(doc.stack.cleanChanged, self._saved)  # a bound slot: gone with the tab, if the tab goes first
        self.show_workflow(doc.workflow.id)

    def _saved(self, clean: bool) -> None:
        doc = self._followed() if self._followed is not None else None
        if clean and doc is not None and self.isVisible():
            self.show_workflow(doc.workflow.id)

    def showEvent(self, event: QShowEvent) -> None:
        """Read afresh when the tab comes into view (a save while it was hidden is not read then)."""
        super().showEvent(event)
        if self._shown_id is not None:
            self.show_workflow(self._shown_id)

    def show_workflow(self, workflow_id: str | None) -> None:
        saved = workflow_id is not None and self.store.workflows.exists(workflow_id)
        self.workflow_id = workflow_id if saved else None
        self.form.show_workflow(self.workflow_id)
        for widget in (self.list, self.form, self.publish_button):
            widget.setEnabled(saved)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        current = select or self._selected_id()
        self.list.clear()
        self._say("")
        if self.workflow_id is None:
            self.status.setText("Save the workflow to the library (Ctrl+S) to give it triggers.")
            self._selection_changed()
            return
        info = self.store.workflows.get(self.workflow_id)
        published = published_version(self.store.db, info.id)
        runs = (
            f"runs version {published} (published)"
            if published
            else f"runs its newest version ({info.current_version})"
        )
        fires = "its triggers fire" if info.status == "active" else "its triggers fire only once it is active"
        self.status.setText(f"<b>{info.status.capitalize()}</b>: {fires}; {runs}.")
        for trigger in self.triggers.list(info.id):
            self._add_row(trigger, current)
        for column in range(self.list.columnCount() - 1):
            self.list.resizeColumnToContents(column)
        self._selection_changed()

    def _add_row(self, trigger: TriggerInfo, current: str | None) -> None:
        try:
            words = manage.describe(trigger, self.store.db)
        except ValueError as exc:  # a setting made elsewhere that no longer reads (a timezone gone)
            words = str(exc)
        state = "paused" if trigger.paused else ("on" if trigger.workflow_status == "active" else "off")
        plain, _, upcoming = words.partition("; next: ")  # the next times go under the list, for the selected one
        item = QTreeWidgetItem([trigger.kind, state, plain])
        item.setData(1, Qt.ItemDataRole.UserRole, upcoming)
        item.setData(0, Qt.ItemDataRole.UserRole, trigger.id)
        item.setToolTip(2, words)
        self.list.addTopLevelItem(item)
        if trigger.id == current or self.list.currentItem() is None:
            self.list.setCurrentItem(item)

    def _selected_id(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def selected(self) -> TriggerInfo | None:
        chosen = self._selected_id()
        return None if chosen is None else self.triggers.get(chosen)

    def _selection_changed(self) -> None:
        trigger = self.selected()
        self.pause_button.setEnabled(trigger is not None)
        self.remove_button.setEnabled(trigger is not None)
        self.pause_button.setText("Resume" if trigger is not None and trigger.paused else "Pause")
        item = self.list.currentItem()
        words = f"{item.text(2)}\n" if trigger is not None and item is not None else ""
        upcoming = item.data(1, Qt.ItemDataRole.UserRole) if trigger is not None and item is not None else ""
        self.detail.setText(words + (f"Next: {upcoming}\n" if upcoming else "") + _last_firing(trigger))
        self.detail.setVisible(trigger is not None)
        hook = trigger is not None and trigger.kind == "webhook"
        self.hook_box.setVisible(hook)
        if hook and trigger is not None:
            self.url.setText(manage.hook_url(trigger.id))
            self.url.setCursorPosition(0)
            try:
                self.secret.setText(self.secrets.get(trigger.id) or "")
            except OSError as exc:
                self.secret.clear()
                self._say(str(exc))

    def _say(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(bool(message))

    # ------------------------------------------------------------ changes
    def add(self) -> None:
        if self.workflow_id is None:
            return
        try:
            kind, config = self.form.config()
            added = manage.add_trigger(self.store.db, self.workflow_id, kind, config, secrets=self.secrets)
        except (ValueError, OSError, LibraryError, NotFoundError) as exc:
            self.form.say(str(exc))
            return
        self.form.say("")
        self.refresh(select=added.trigger.id)

    def toggle_pause(self) -> None:
        trigger = self.selected()
        if trigger is not None:
            self.triggers.set_paused(trigger.id, not trigger.paused)
            self.refresh(select=trigger.id)

    def remove(self) -> None:
        trigger = self.selected()
        if trigger is None:
            return
        try:
            manage.remove_trigger(self.store.db, trigger.id, secrets=self.secrets)
        except (OSError, LibraryError) as exc:
            self._say(str(exc))
            return
        self.refresh()

    def publish(self) -> None:
        if self.workflow_id is None:
            return
        try:
            publish(self.store.db, self.workflow_id)
        except (LibraryError, NotFoundError, ValueError) as exc:  # ValueError: a version with errors
            self._say(str(exc))
            return
        self.refresh()


def _last_firing(trigger: TriggerInfo | None) -> str:
    if trigger is None or trigger.last_fired_at is None:
        return "Last fired: never"
    at = time.strftime("%Y-%m-%d %H:%M", time.localtime(trigger.last_fired_at))
    return f"Last fired: {at}: " + (trigger.last_error or f"started run {trigger.last_run_id}")


def install(window: MainWindow) -> TriggersTab:
    """Add the Triggers tab to the window's inspector; it follows each document the window opens."""
    tab = TriggersTab(window.store)
    window.inspector_tabs.addTab(tab, TAB_TITLE)
    window.document_opened.connect(tab.follow)
    return tab

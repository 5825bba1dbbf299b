"""The Triggers tab's "add" form: one kind at a time, its fields, and a live preview of a schedule.

It only gathers and checks; ``config()`` returns (kind, settings) made by ``flowdesk.triggers.manage``,
which refuses bad settings with the sentence shown under the form.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from flowdesk.store.store import Store
from flowdesk.triggers import manage
from flowdesk.triggers.schedule import ScheduleError, preview
from flowdesk.ui.file_dialogs import existing_directory
from flowdesk.ui.theming import set_tone

KINDS = (
    ("cron", "Schedule (cron)"),
    ("interval", "Every N seconds"),
    ("webhook", "Webhook"),
    ("folder", "File in a folder"),
    ("after", "After another workflow"),
)
ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
)


def _page(*rows: tuple[str, QWidget]) -> QWidget:
    page = QWidget()
    form = QFormLayout(page)
    form.setContentsMargins(0, 0, 0, 0)
    for label, widget in rows:
        form.addRow(label, widget)
    return page


class TriggerForm(QWidget):
    add_requested = Signal()

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.workflow_id: str | None = None
        self.kind = QComboBox()
        for key, text in KINDS:
            self.kind.addItem(text, key)
        self.cron = QLineEdit("0 9 * * 1-5", placeholderText="minute hour day month weekday")
        self.tz = QComboBox(editable=True)
        self.tz.addItems(ZONES)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.seconds = QDoubleSpinBox(minimum=1.0, maximum=366 * 86400.0, decimals=0, value=3600.0, suffix=" s")
        self.mapping = QLineEdit(placeholderText="optional: input=path.in.body, …")
        self.folder = QLineEdit(placeholderText="the folder to watch")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QWidget()
        row = QHBoxLayout(folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.file_input = QLineEdit("path")
        self.after = QComboBox()
        self.after_status = QComboBox()
        self.after_status.addItems(manage.AFTER_STATUSES)
        self.pages = QStackedWidget()
        for page in (
            _page(("Cron", self.cron), ("Timezone", self.tz), ("", self.preview)),
            _page(("Every", self.seconds)),
            _page(("Inputs from", self.mapping)),
            _page(("Folder", folder_row), ("Path as input", self.file_input)),
            _page(("Workflow", self.after), ("When it ends", self.after_status)),
        ):
            self.pages.addWidget(page)
        self.add_button = QPushButton("Add trigger")
        self.add_button.clicked.connect(self.add_requested)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_tone(self.message, "error")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        kind_row = QFormLayout()
        kind_row.addRow("Kind", self.kind)
        layout.addLayout(kind_row)
        layout.addWidget(self.pages)
        layout.addWidget(self.add_button)
        layout.addWidget(self.message)
        self.kind.currentIndexChanged.connect(self.pages.setCurrentIndex)
        self.kind.currentIndexChanged.connect(lambda _i: self.say(""))
        self.cron.textChanged.connect(lambda _t: self.update_preview())
        self.tz.currentTextChanged.connect(lambda _t: self.update_preview())
        self.say("")

    def showEvent(self, event: QShowEvent) -> None:
        """The preview is made when the form is first seen: croniter stays out of the app's start."""
        super().showEvent(event)
        self.update_preview()

    def show_workflow(self, workflow_id: str | None) -> None:
        """The form adds to ``workflow_id``; the 'after' list offers every other library workflow."""
        self.workflow_id = workflow_id
        self.after.clear()
        for info in self.store.workflows.list():
            if info.id != workflow_id:
                self.after.addItem(f"{info.name} ({info.slug})", info.id)

    def update_preview(self) -> None:
        """The schedule in plain words and its next three times, as it is typed; or what is wrong with it."""
        try:
            config = manage.cron_config(self.cron.text(), self.tz.currentText().strip() or "UTC")
            self.preview.setText(preview(config, time.time()).replace("; next: ", "\nnext: "))
            set_tone(self.preview, None)
        except ScheduleError as exc:
            self.preview.setText(str(exc))
            set_tone(self.preview, "error")

    def config(self) -> tuple[str, dict[str, object]]:
        """(kind, settings) of what the form says; ValueError with the reason when it cannot be added."""
        kind = str(self.kind.currentData())
        if kind == "cron":
            return kind, manage.cron_config(self.cron.text(), self.tz.currentText().strip() or "UTC")
        if kind == "interval":
            return kind, manage.interval_config(self.seconds.value())
        if kind == "folder":
            if not self.folder.text().strip():
                raise ValueError("choose the folder to watch")
            return kind, manage.folder_config(self.folder.text().strip(), self.file_input.text().strip() or "path")
        if kind == "after":
            if self.after.currentData() is None:
                raise ValueError("the library has no other workflow to wait for")
            return kind, manage.after_config(
                self.store.db, str(self.after.currentData()), self.after_status.currentText()
            )
        return kind, manage.webhook_config(self._mapping())

    def _mapping(self) -> dict[str, str]:
        found = {}
        for part in filter(None, (p.strip() for p in self.mapping.text().split(","))):
            name, sep, path = part.partition("=")
            if not sep or not name.strip() or not path.strip():
                raise ValueError(f"'{part}': write input=path.in.body")
            found[name.strip()] = path.strip()
        return found

    def _browse(self) -> None:
        folder = existing_directory(self, "The folder to watch", self.folder.text())  # reads no file in it
        if folder:
            self.folder.setText(folder)

    def say(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(bool(message))

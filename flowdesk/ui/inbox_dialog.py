"""Run > Inbox…: failed and waiting runs across workflows, with Retry, Resume and Dismiss.

Retry and Resume go through the running service (its queue runs them); without one the dialog
says how to start it. Dismiss only takes a failed run out of the inbox; the run stays in the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.store.queue import QueueStore
from flowdesk.store.store import Store
from flowdesk.ui.runs.runs_panel import when

if TYPE_CHECKING:
    from flowdesk.ui.service_control import ServiceControl

COLUMNS = ("Run", "Workflow", "Status", "Trigger", "Created", "Why")


class InboxDialog(QDialog):
    def __init__(self, parent: QWidget, store: Store, control: ServiceControl) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inbox")
        self.store = store
        self.control = control
        self.queue = QueueStore(store.db)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = QLabel("Nothing here: no failed or waiting runs.")
        buttons = QHBoxLayout()
        self.retry_button = QPushButton("&Retry")
        self.retry_button.setToolTip("A new run of the same workflow version with the same inputs")
        self.resume_button = QPushButton("Re&sume")
        self.resume_button.setToolTip("Continue the run; nodes that finished are not run again")
        self.dismiss_button = QPushButton("&Dismiss")
        for button, action in ((self.retry_button, "retry"), (self.resume_button, "resume")):
            button.clicked.connect(lambda _=False, a=action: self._through_service(a))
            buttons.addWidget(button)
        self.dismiss_button.clicked.connect(self._dismiss)
        buttons.addWidget(self.dismiss_button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.resize(820, 360)
        self.refresh()

    def refresh(self) -> None:
        items = self.queue.inbox()
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            run = item.run
            why = str((run.error or {}).get("message", "")) or (
                "waiting for an approval" if run.status == "waiting" else ""
            )
            cells = (run.id, run.workflow_name, run.status, item.trigger or "—", when(run.created_at), why)
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.empty.setVisible(not items)
        if items:
            self.table.selectRow(0)

    def selected_run(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).text() if rows else None

    def _through_service(self, action: str) -> None:
        from flowdesk.service.discovery import ServiceClient, ServiceError
        from flowdesk.service.token import service_token

        run_id = self.selected_run()
        if run_id is None:
            return
        token = service_token(create=False)
        if self.control.url is None or token is None:
            QMessageBox.information(self, "Inbox", f"{action.title()} needs the service: Run > Start service.")
            return
        try:
            with ServiceClient(self.control.url, token) as client:
                client.request("POST", f"/api/runs/{run_id}/{action}")
        except ServiceError as exc:
            QMessageBox.warning(self, "Inbox", str(exc))
        self.refresh()

    def _dismiss(self) -> None:
        run_id = self.selected_run()
        if run_id is not None and not self.queue.dismiss(run_id):
            QMessageBox.information(self, "Inbox", "A run waiting for an approval leaves the inbox once it is decided.")
        self.refresh()

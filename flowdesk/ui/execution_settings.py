"""Settings > Execution: where the app runs a workflow's map items and sub-workflow calls by default.

This computer, or a Dask cluster at dask://HOST:PORT (a workflow may say otherwise in its own run
settings). **Test connection** asks the scheduler and its workers in a plain thread, on a loop of
its own (:func:`flowdesk.cluster.probe.check_cluster_in_thread`), so the window never waits for a
cluster that does not answer; the one sentence it found is shown under the address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton
from shiboken6 import isValid

from flowdesk.model.executor import check_executor
from flowdesk.ui.theming import set_tone

log = logging.getLogger(__name__)

Launcher = Callable[[Coroutine[Any, Any, None]], Any]
THIS_COMPUTER, CLUSTER = "This computer", "A Dask cluster"
TEST_TIMEOUT_S = 5.0


class ExecutionGroup(QGroupBox):
    """The default executor and its connection test; ``value`` is what the settings file keeps."""

    def __init__(self, executor: str | None, launch: Launcher) -> None:
        super().__init__("Execution")
        self._launch = launch
        self.task: Any = None
        self.where = QComboBox()
        self.where.addItems([THIS_COMPUTER, CLUSTER])
        self.where.setToolTip("Where map items and sub-workflow calls run, for a workflow that does not say")
        self.address = QLineEdit(executor or "")
        self.address.setPlaceholderText("dask://HOST:PORT — the Dask scheduler's address")
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.start_test)
        self.test_result = QLabel("")
        self.test_result.setWordWrap(True)
        row = QHBoxLayout()  # the button under the address: the field keeps the group's width for a long host name
        row.addWidget(self.test_button)
        row.addStretch(1)
        form = QFormLayout(self)
        form.addRow("Run on", self.where)
        form.addRow("Scheduler", self.address)
        form.addRow("", row)
        form.addRow("", self.test_result)
        self.where.currentTextChanged.connect(self._where_changed)
        self.where.setCurrentText(CLUSTER if executor else THIS_COMPUTER)
        self._where_changed(self.where.currentText())

    def _where_changed(self, where: str) -> None:
        cluster = where == CLUSTER
        self.address.setEnabled(cluster)
        self.test_button.setEnabled(cluster)
        if not cluster:
            self._show("Map items and sub-workflows run in the app, on this computer.", ok=True)
        elif not self.test_result.text() or self.test_result.text().startswith("Map items"):
            self._show("Needs the dask extra on this computer and flowdesk on every worker.", ok=True)

    def value(self) -> str | None:
        """The default executor (None: this computer); ValueError naming the field when the address is bad."""
        if self.where.currentText() != CLUSTER:
            return None
        try:
            checked = check_executor(self.address.text())
        except ValueError as exc:
            raise ValueError(f"Execution: {exc}") from None
        if checked is None:
            raise ValueError("Execution: type the Dask scheduler's address (dask://HOST:PORT), or pick This computer")
        return checked

    # ------------------------------------------------------------ connection test
    def start_test(self) -> None:
        """Ask the cluster in a worker thread; the answer replaces the line under the address."""
        address = self.address.text().strip()
        self.test_button.setEnabled(False)
        self._show(f"Testing {address or 'the address'}…", ok=True)
        self.task = self._launch(self._test(address))

    async def _test(self, address: str) -> None:
        from flowdesk.cluster.probe import check_cluster_in_thread  # imports no dask itself

        found = await check_cluster_in_thread(address, timeout_s=TEST_TIMEOUT_S)
        self._done(found.sentence, ok=found.ok)

    def _done(self, text: str, *, ok: bool) -> None:
        if not isValid(self):  # the dialog was closed while the cluster answered
            return
        self._show(text, ok=ok)
        self.test_button.setEnabled(self.where.currentText() == CLUSTER)

    def _show(self, text: str, *, ok: bool) -> None:
        self.test_result.setText(text)
        set_tone(self.test_result, None if ok else "error")

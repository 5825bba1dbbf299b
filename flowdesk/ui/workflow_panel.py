"""The open workflow's own properties (name, description, run limits, where it runs), edited through commands.

The inspector shows this panel while no node is selected, so a person finds the workflow's
settings where they find a node's: click the empty canvas and they are there. Every edit is a
:class:`~flowdesk.model.commands.SetWorkflowProps` on the undo stack (typing a name is one step).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
)

from flowdesk.model.commands import CommandRefused, SetWorkflowProps
from flowdesk.model.document import Change, WorkflowChanged
from flowdesk.model.executor import LOCAL
from flowdesk.model.workflow import Settings, Workflow
from flowdesk.ui.inputs_table import InputsTable
from flowdesk.ui.theming import set_tone
from flowdesk.ui.undo import DocumentUndoStack

NO_LIMIT = "none"
APP_SETTING, CLUSTER = "app", "cluster"
FIELD_NAMES = {"on_failure": "On failure run", "executor": "Run on"}


class WorkflowPanel(QGroupBox):
    """Name, description, nodes at once, run time limit, on-failure handler, executor and declared inputs of the
    open workflow."""

    def __init__(self, stack: DocumentUndoStack) -> None:
        super().__init__("Workflow")
        self.stack = stack
        self.document = stack.document
        self._loading = False
        self.name = QLineEdit(placeholderText="the name in the library and the title bar")
        self.name.textEdited.connect(lambda text: self._push(name=text))
        self.description = QPlainTextEdit(placeholderText="what it does, for whoever opens it next")
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(self.description.fontMetrics().lineSpacing() * 6 + 12)
        self.description.textChanged.connect(self._description_edited)
        limits = Settings.model_fields
        self.concurrency = QSpinBox(minimum=1, maximum=10_000)
        self.concurrency.setToolTip(limits["max_concurrency"].description or "")
        self.timeout = QDoubleSpinBox(minimum=0.0, maximum=30 * 86400.0, decimals=1, suffix=" s")
        self.timeout.setSpecialValueText(NO_LIMIT)
        self.timeout.setToolTip("Time limit of a whole run; 'none' for no limit.")
        for spin in (self.concurrency, self.timeout):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._settings_edited)
        self.on_failure = QLineEdit(placeholderText="nothing; or a workflow to run when a run fails")
        self.on_failure.setToolTip(
            (limits["on_failure"].description or "") + " It is given the failed run's id, error and inputs "
            "(see the README: on-failure handler)."
        )
        self.on_failure.editingFinished.connect(self._settings_edited)
        self.executor, self.scheduler = self._executor_fields()
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_tone(self.message, "error")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Nodes at once", self.concurrency)
        form.addRow("Run time limit", self.timeout)
        form.addRow("On failure run", self.on_failure)
        form.addRow("Run on", self.executor)
        form.addRow("Scheduler", self.scheduler)
        self.inputs = InputsTable(stack)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.message)
        heading = QLabel("<b>Inputs</b> (what a run is given: F5 asks for them)")
        heading.setWordWrap(True)  # never wider than the dock
        box.addWidget(heading)
        box.addWidget(self.inputs)
        self._unsubscribe = self.document.subscribe(self._document_changed)
        self._show(self.document.workflow)

    def _executor_fields(self) -> tuple[QComboBox, QLineEdit]:
        """Where map items and sub-workflow calls run: the app's setting, here, or a cluster's address."""
        where = QComboBox()
        where.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        where.setMinimumContentsLength(12)  # never wider than the dock: the inspector does not scroll sideways
        where.addItem("the app's setting", APP_SETTING)
        where.addItem("this computer", LOCAL)
        where.addItem("a Dask cluster", CLUSTER)
        where.setToolTip(
            "Where map items and sub-workflow calls run. The app's setting: File > Settings > Execution; "
            "flowdesk run: this computer, unless --executor says otherwise."
        )
        where.currentIndexChanged.connect(self._settings_edited)
        scheduler = QLineEdit(placeholderText="dask://HOST:PORT")
        scheduler.setToolTip("The Dask scheduler's address; `flowdesk run --executor` overrides it")
        scheduler.editingFinished.connect(self._settings_edited)
        return where, scheduler

    def _show(self, workflow: Workflow) -> None:
        """Show the document's values without sending them back as edits (and without moving the cursor)."""
        self._loading = True
        try:
            if self.name.text() != workflow.name:
                self.name.setText(workflow.name)
            if self.description.toPlainText() != workflow.description:
                self.description.setPlainText(workflow.description)
            self.concurrency.setValue(workflow.settings.max_concurrency)
            self.timeout.setValue(workflow.settings.run_timeout_s or 0.0)
            if self.on_failure.text().strip() != (workflow.settings.on_failure or ""):
                self.on_failure.setText(workflow.settings.on_failure or "")
            executor = workflow.settings.executor
            where = APP_SETTING if executor is None else LOCAL if executor == LOCAL else CLUSTER
            self.executor.setCurrentIndex(self.executor.findData(where))
            if where == CLUSTER and self.scheduler.text().strip() != executor:
                self.scheduler.setText(executor or "")
            self.scheduler.setEnabled(where == CLUSTER)
        finally:
            self._loading = False

    def _document_changed(self, change: Change) -> None:
        if isinstance(change, WorkflowChanged):
            self._show(self.document.workflow)

    def _description_edited(self) -> None:
        if not self._loading:
            self._push(description=self.description.toPlainText())

    def _settings_edited(self, *_: Any) -> None:
        if self._loading:
            return
        where = self.executor.currentData()
        self.scheduler.setEnabled(where == CLUSTER)
        if where == CLUSTER and not self.scheduler.text().strip():
            self.message.setText("Run on: type the Dask scheduler's address (dask://HOST:PORT)")
            self.scheduler.setFocus()
            return
        edited = {
            "max_concurrency": self.concurrency.value(),
            "run_timeout_s": self.timeout.value() or None,
            "on_failure": self.on_failure.text().strip() or None,
            "executor": {APP_SETTING: None, LOCAL: LOCAL}.get(where, self.scheduler.text().strip()),
        }
        try:  # validated (model_copy is not): an over-long handler name or a bad address is refused with the reason
            settings = Settings.model_validate({**self.document.workflow.settings.model_dump(), **edited})
        except ValidationError as exc:
            error = exc.errors()[0]
            field = FIELD_NAMES.get(str(error["loc"][0]) if error["loc"] else "", "Settings")
            self.message.setText(f"{field}: {error['msg'].removeprefix('Value error, ')}")
            return
        if settings != self.document.workflow.settings:
            self._push(settings=settings)

    def _push(self, **fields: Any) -> None:
        """An edit the model refuses (an empty name is allowed; a 201-character one is not) is shown here."""
        try:
            command = SetWorkflowProps(self.document, **fields)
        except CommandRefused as exc:
            self.message.setText(str(exc))
            return
        self.message.clear()
        self.stack.push_command(command)

    def dispose(self) -> None:
        self._unsubscribe()
        self.inputs.dispose()

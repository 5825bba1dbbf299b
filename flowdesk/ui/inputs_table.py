"""The workflow panel's Inputs table: the run inputs a workflow declares, edited in the app.

A workflow built in the app could take no inputs at all; here a person declares them (name, type,
required, default, description), adds, removes and reorders them. Each change is one
:class:`~flowdesk.model.commands.SetInputs` on the undo stack; F5's inputs dialog and
``flowdesk run -i`` read the same declarations. A bad cell (a taken name, a default that is not
JSON for an object) is refused with a sentence and the table shows the document again.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.model.commands import CommandRefused, SetInputs
from flowdesk.model.document import Change, WorkflowChanged
from flowdesk.model.types import ValueType
from flowdesk.model.workflow import RunInput
from flowdesk.ui.theming import set_tone
from flowdesk.ui.undo import DocumentUndoStack

COLUMNS = ("Name", "Type", "Required", "Default", "Description")
NAME, TYPE, REQUIRED, DEFAULT, DESCRIPTION = range(len(COLUMNS))


def default_text(spec: RunInput) -> str:
    """A default as typed in its cell: strings as they are, other values as JSON, none as empty."""
    if spec.default is None:
        return ""
    if spec.type == ValueType.STRING and isinstance(spec.default, str):
        return spec.default
    return json.dumps(spec.default, ensure_ascii=False)


def parse_default(text: str, kind: ValueType, name: str) -> Any:
    """The default typed for input ``name``; ValueError with a sentence when it is not JSON where JSON is due."""
    if not text.strip():
        return None
    if kind == ValueType.STRING:
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if kind == ValueType.ANY:
            return text
        raise ValueError(f"the default of '{name}' is not valid JSON ({exc.msg}, column {exc.colno})") from exc


class InputsTable(QWidget):
    """Declared run inputs of the open workflow, one row each."""

    def __init__(self, stack: DocumentUndoStack) -> None:
        super().__init__()
        self.stack = stack
        self.document = stack.document
        self._loading = False
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()  # columns never widen the inspector: the table scrolls instead
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        for column, width in ((NAME, 90), (TYPE, 80), (REQUIRED, 64), (DEFAULT, 90)):
            self.table.setColumnWidth(column, width)
        self.table.setMinimumWidth(120)
        self.table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
        self.table.setMinimumHeight(self.table.fontMetrics().lineSpacing() * 7)
        self.table.itemChanged.connect(self._cell_edited)
        self.add_button = QToolButton(text="Add")
        self.remove_button = QToolButton(text="Remove")
        self.up_button = QToolButton(text="↑")
        self.down_button = QToolButton(text="↓")  # tool buttons: no push button's 80-pixel minimum
        self.up_button.setToolTip("Move the selected input up")
        self.down_button.setToolTip("Move the selected input down")
        self.add_button.clicked.connect(self.add_input)
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_tone(self.message, "error")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self._unsubscribe = self.document.subscribe(self._document_changed)
        self.show_inputs()

    # ------------------------------------------------------------ showing
    def show_inputs(self) -> None:
        """Fill the rows from the document (without sending anything back)."""
        self._loading = True
        try:
            inputs = self.document.workflow.inputs
            selected = self.table.currentRow()
            resized = self.table.rowCount() != len(inputs)
            self.table.setRowCount(len(inputs))
            for row, spec in enumerate(inputs):  # items are updated in place: one may be committing its edit
                self._set_text(row, NAME, spec.name)
                box = self.table.cellWidget(row, TYPE)
                if isinstance(box, QComboBox):
                    box.setCurrentText(spec.type.value)
                else:
                    self.table.setCellWidget(row, TYPE, self._type_box(row, spec.type))
                required = self.table.item(row, REQUIRED)
                if required is None:
                    required = QTableWidgetItem()
                    required.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
                    self.table.setItem(row, REQUIRED, required)
                required.setCheckState(Qt.CheckState.Checked if spec.required else Qt.CheckState.Unchecked)
                self._set_text(row, DEFAULT, default_text(spec))
                self._set_text(row, DESCRIPTION, spec.description)
            if resized and 0 <= selected < len(inputs):
                self.table.selectRow(selected)
        finally:
            self._loading = False

    def _set_text(self, row: int, column: int, text: str) -> None:
        item = self.table.item(row, column)
        if item is None:
            self.table.setItem(row, column, QTableWidgetItem(text))
        elif item.text() != text:
            item.setText(text)

    def _type_box(self, row: int, kind: ValueType) -> QComboBox:
        box = QComboBox()
        box.addItems([k.value for k in ValueType])
        box.setCurrentText(kind.value)
        box.currentTextChanged.connect(lambda text, r=row: self._type_chosen(r, text))
        return box

    def _document_changed(self, change: Change) -> None:
        if isinstance(change, WorkflowChanged):
            self.show_inputs()

    # ------------------------------------------------------------ editing
    def _push(self, inputs: list[RunInput], label: str) -> bool:
        try:
            command = SetInputs(self.document, inputs, label)
        except CommandRefused as exc:
            self.message.setText(str(exc))
            self.show_inputs()  # the cell shows what the workflow declares, not the refused text
            return False
        self.message.clear()
        return self.stack.push_command(command) is None

    def add_input(self) -> None:
        taken = {spec.name for spec in self.document.workflow.inputs}
        name = next(f"input_{n}" for n in range(1, len(taken) + 2) if f"input_{n}" not in taken)
        if self._push([*self.document.workflow.inputs, RunInput(name=name)], f"Add input '{name}'"):
            row = len(self.document.workflow.inputs) - 1
            self.table.selectRow(row)
            self.table.editItem(self.table.item(row, NAME))

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        inputs = list(self.document.workflow.inputs)
        if 0 <= row < len(inputs):
            gone = inputs.pop(row)
            self._push(inputs, f"Remove input '{gone.name}'")

    def move_selected(self, step: int) -> None:
        row = self.table.currentRow()
        inputs = list(self.document.workflow.inputs)
        to = row + step
        if 0 <= row < len(inputs) and 0 <= to < len(inputs):
            inputs[row], inputs[to] = inputs[to], inputs[row]
            if self._push(inputs, f"Move input '{inputs[to].name}'"):
                self.table.selectRow(to)

    def _type_chosen(self, row: int, text: str) -> None:
        if self._loading:
            return
        self._replace(row, f"Change the type of input {row + 1}", type=ValueType(text))

    def _cell_edited(self, item: QTableWidgetItem) -> None:
        if self._loading:
            return
        row, column = item.row(), item.column()
        spec = self.document.workflow.inputs[row]
        if column == NAME:
            self._replace(row, f"Rename input '{spec.name}'", name=item.text().strip())
        elif column == REQUIRED:
            self._replace(
                row, f"Change whether '{spec.name}' is required", required=item.checkState() == Qt.CheckState.Checked
            )
        elif column == DESCRIPTION:
            self._replace(row, f"Describe input '{spec.name}'", description=item.text())
        elif column == DEFAULT:
            try:
                value = parse_default(item.text(), spec.type, spec.name)
            except ValueError as exc:
                self.message.setText(str(exc))
                self.show_inputs()
                return
            self._replace(row, f"Change the default of '{spec.name}'", default=value)

    def _replace(self, row: int, label: str, **fields: Any) -> None:
        inputs = list(self.document.workflow.inputs)
        if not 0 <= row < len(inputs):
            return
        data = {**inputs[row].model_dump(), **fields}
        try:
            inputs[row] = RunInput.model_validate(data)
        except ValueError as exc:
            self.message.setText(f"input {row + 1}: {_first_line(exc)}")
            self.show_inputs()
            return
        if inputs[row] != self.document.workflow.inputs[row]:
            self._push(inputs, label)

    def dispose(self) -> None:
        self._unsubscribe()


def _first_line(exc: ValueError) -> str:
    """Pydantic's first message alone (its full text names classes and links)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))
    return str(exc).splitlines()[0]

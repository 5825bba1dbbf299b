"""Asking for a run's inputs before it starts: one field per declared input, last values remembered.

Values are typed as text and converted by the engine's own rule (numbers, booleans, JSON for
objects and lists), so the app and `flowdesk run --input` accept the same things; a value that
does not convert is refused in the dialog with the engine's message, before any run exists.
A workflow whose file tools need a folder also asks for that folder here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.engine.runner import RunInputError, prepare_inputs
from flowdesk.model.types import ValueType
from flowdesk.model.workflow import RunInput, Workflow
from flowdesk.paths import examples_dir
from flowdesk.ui.file_dialogs import existing_directory
from flowdesk.ui.theming import set_tone

FILE_TOOLS = ("file_read", "file_write")


def uses_files(workflow: Workflow) -> bool:
    """Does a node use a file tool (which only works inside a folder the person chose)?"""
    return any(node.kind == "tool" and node.config.get("tool") in FILE_TOOLS for node in workflow.nodes)


def example_files_folder(workflow: Workflow, beside: Path) -> str:
    """For a shipped example: a copy of the examples' data in ``beside``/example-data (made once).

    The example then runs as it is, the first time, and what it writes lands in the person's own
    folder, never inside the installed program.
    """
    data = examples_dir() / "data"
    if not (examples_dir() / f"{workflow.id}.json").is_file() or not data.is_dir():
        return ""
    target = beside / "example-data"
    if not target.exists():
        shutil.copytree(data, target)
    return str(target)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class RunInputsDialog(QDialog):
    def __init__(
        self, workflow: Workflow, settings: QSettings, parent: QWidget | None = None, default_folder: str = ""
    ) -> None:
        super().__init__(parent)
        self.workflow = workflow
        self.settings = settings
        self.values: dict[str, Any] = {}
        self.files_root: str | None = None
        self.setWindowTitle(f"Run '{workflow.name}'")
        self._fields: dict[str, QLineEdit | QPlainTextEdit | QCheckBox] = {}
        remembered = self._remembered()
        form = QFormLayout()
        for spec in workflow.inputs:
            field = self._field(spec, remembered.get(spec.name, spec.default))
            self._fields[spec.name] = field
            label = QLabel(f"{spec.name}{' *' if spec.required and spec.default is None else ''}")
            label.setToolTip(f"{spec.type.value}. {spec.description}".strip())
            form.addRow(label, field)
            if spec.description:
                hint = QLabel(spec.description)
                hint.setWordWrap(True)
                hint.setStyleSheet("color: palette(placeholder-text);")
                form.addRow("", hint)
        self.folder = QLineEdit(str(remembered.get("__files_root__", "")) or default_folder)
        if uses_files(workflow):
            browse = QPushButton("Choose…")
            browse.clicked.connect(self._choose_folder)
            row = QHBoxLayout()
            row.addWidget(self.folder, 1)
            row.addWidget(browse)
            holder = QWidget()
            holder.setLayout(row)
            row.setContentsMargins(0, 0, 0, 0)
            form.addRow("Files folder", holder)
            self.folder.setToolTip("The file tools of this workflow read and write only inside this folder")
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        set_tone(self.problem, "error")
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if not workflow.inputs:
            layout.addWidget(QLabel("This workflow declares no inputs."))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(460, self.sizeHint().height())
        for child in self.findChildren(QWidget):  # Ctrl+Enter runs from any field, a multi-line one too
            child.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            if ctrl and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.accept()
                return True
        return super().eventFilter(watched, event)

    def _field(self, spec: RunInput, value: Any) -> QLineEdit | QPlainTextEdit | QCheckBox:
        if spec.type == ValueType.BOOLEAN:
            box = QCheckBox()
            box.setChecked(bool(value))
            return box
        text = "" if value is None else _as_text(value)
        if spec.type in (ValueType.OBJECT, ValueType.ARRAY) or (spec.type == ValueType.STRING and "\n" in text):
            edit = QPlainTextEdit(text)
            edit.setFixedHeight(72)
            return edit
        line = QLineEdit(text)
        line.setPlaceholderText(spec.type.value)
        return line

    def _remembered(self) -> dict[str, Any]:
        raw = self.settings.value(f"run_inputs/{self.workflow.id}")
        try:
            data = json.loads(raw) if isinstance(raw, str) else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _choose_folder(self) -> None:
        chosen = existing_directory(self, "Folder the file tools may use", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def texts(self) -> dict[str, Any]:
        """What is typed: text per field (booleans as booleans)."""
        out: dict[str, Any] = {}
        for name, field in self._fields.items():
            if isinstance(field, QCheckBox):
                out[name] = field.isChecked()
            elif isinstance(field, QPlainTextEdit):
                out[name] = field.toPlainText()
            else:
                out[name] = field.text()
        return out

    def accept(self) -> None:
        given = {name: value for name, value in self.texts().items() if value != ""}
        try:
            self.values = prepare_inputs(self.workflow, given, from_text=True)
        except RunInputError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return
        self.files_root = self.folder.text().strip() or None
        memory = {**given, "__files_root__": self.files_root or ""}
        self.settings.setValue(f"run_inputs/{self.workflow.id}", json.dumps(memory, ensure_ascii=False))
        super().accept()

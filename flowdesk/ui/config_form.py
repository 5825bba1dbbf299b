"""A form generated from a node kind's pydantic config model, validating as the person types.

Each field gets the editor its JSON Schema asks for: text (a monospace multi-line editor for
templates), numbers with the model's bounds, a checkbox, a choice list, a credential picker that
offers names only (a secret is never shown), a model picker (model_picker.py) and a JSON editor
for lists and objects. A value is
sent on (``changed(field, value)``, which the inspector turns into an undoable command) only
when the whole config validates with it; otherwise the field shows the model's message inline
and nothing is changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from flowdesk.ui.model_picker import ModelPicker
from flowdesk.ui.theming import set_tone

_BIG = 2_000_000_000


def _field_schema(schema: dict[str, Any], name: str) -> tuple[dict[str, Any], bool]:
    """The field's own schema (``$ref`` and ``Optional`` unwrapped) and whether None is allowed."""
    prop = dict(schema.get("properties", {}).get(name, {}))
    nullable = False
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        nullable = len(options) < len(prop["anyOf"])
        merged = {k: v for k, v in prop.items() if k != "anyOf"}
        if len(options) == 1:
            merged.update(options[0])
        prop = merged
    return prop, nullable


class _Field:
    """One row: its editor, how to read and write it, and its inline error label."""

    def __init__(self, name: str, editor: QWidget, read: Callable[[], Any], write: Callable[[Any], None]) -> None:
        self.name, self.editor, self.read, self.write = name, editor, read, write
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        set_tone(self.error, "error")
        self.error.setWordWrap(True)
        self.error.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.error.hide()

    def show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))


class ConfigForm(QWidget):
    """Emits ``changed(field, value)`` for each valid edit."""

    changed = Signal(str, object)

    def __init__(
        self,
        model: type[BaseModel],
        values: Mapping[str, Any],
        *,
        credential_names: Callable[[], list[str]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._values = dict(values)
        self._credential_names = credential_names or (lambda: [])
        self._schema = model.model_json_schema()
        self.fields: dict[str, _Field] = {}
        self._loading = False
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, info in model.model_fields.items():
            field = self._make_field(name)
            self.fields[name] = field
            label = QLabel(info.title or name.replace("_", " ").capitalize())
            label.setToolTip(info.description or "")
            field.editor.setToolTip(info.description or "")
            box = QVBoxLayout()
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(2)
            box.addWidget(field.editor)
            box.addWidget(field.error)
            form.addRow(label, box)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(form)
        outer.addStretch(1)  # spare height goes below the form, not between a field and its message
        self.set_values(values)

    @staticmethod
    def monospace() -> QFont:
        """The system's fixed-pitch font, for templates, expressions and JSON."""
        return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    # ------------------------------------------------------------ editors
    def _make_field(self, name: str) -> _Field:
        prop, nullable = _field_schema(self._schema, name)
        widget = prop.get("widget")
        kind = prop.get("type")
        if "enum" in prop or "const" in prop:
            return self._choice(name, [str(v) for v in prop.get("enum", [prop.get("const")])])
        if widget == "credential":
            return self._credential(name)
        if widget == "model":
            picker = ModelPicker()
            picker.edited.connect(lambda _=None, n=name: self._edited(n))
            return _Field(name, picker, picker.text, lambda v, p=picker: p.set_text(str(v or "")))
        if kind == "string" and widget == "template":
            return self._text(name, multiline=True, nullable=nullable)
        if kind == "string":
            return self._text(name, multiline=False, nullable=nullable, mono=widget == "expression")
        if kind == "boolean":
            box = QCheckBox()
            box.toggled.connect(lambda _=None, n=name: self._edited(n))
            return _Field(name, box, box.isChecked, lambda v, b=box: b.setChecked(bool(v)))
        if kind in ("integer", "number") and not nullable:
            return self._number(name, prop, integer=kind == "integer")
        return self._json(name, nullable=nullable)

    def _text(self, name: str, *, multiline: bool, nullable: bool, mono: bool = False) -> _Field:
        if multiline:
            edit = QPlainTextEdit()
            edit.setFont(self.monospace())
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(90)
            edit.textChanged.connect(lambda n=name: self._edited(n))
            read: Callable[[], Any] = edit.toPlainText

            def write(v: Any, e: QPlainTextEdit = edit) -> None:
                if e.toPlainText() != (v or ""):
                    e.setPlainText(v or "")
        else:
            edit = QLineEdit()
            if mono:
                edit.setFont(self.monospace())
            edit.textEdited.connect(lambda _=None, n=name: self._edited(n))
            read = edit.text

            def write(v: Any, e: QLineEdit = edit) -> None:
                if e.text() != (v or ""):
                    e.setText(v or "")

        reader = (lambda r=read: r() or None) if nullable else read
        return _Field(name, edit, reader, write)

    def _choice(self, name: str, options: list[str]) -> _Field:
        combo = QComboBox()
        combo.addItems(options)
        combo.currentTextChanged.connect(lambda _=None, n=name: self._edited(n))
        return _Field(name, combo, combo.currentText, lambda v, c=combo: c.setCurrentText(str(v)))

    def _credential(self, name: str) -> _Field:
        combo = QComboBox()
        combo.setEditable(True)
        combo.lineEdit().setPlaceholderText("none: the provider's environment variable")
        combo.addItems(["", *self._credential_names()])
        combo.currentTextChanged.connect(lambda _=None, n=name: self._edited(n))
        return _Field(
            name, combo, lambda c=combo: c.currentText().strip() or None, lambda v, c=combo: c.setCurrentText(v or "")
        )

    def _number(self, name: str, prop: dict[str, Any], *, integer: bool) -> _Field:
        low = prop.get("minimum", prop.get("exclusiveMinimum", -_BIG))
        high = prop.get("maximum", prop.get("exclusiveMaximum", _BIG))
        spin: QSpinBox | QDoubleSpinBox
        if integer:
            spin = QSpinBox()
            spin.setRange(int(max(low, -_BIG)), int(min(high, _BIG)))
        else:
            spin = QDoubleSpinBox()
            spin.setDecimals(3)
            spin.setSingleStep(0.1)
            spin.setRange(float(low), float(high))
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda _=None, n=name: self._edited(n))
        return _Field(name, spin, spin.value, lambda v, s=spin: s.setValue(v if v is not None else 0))

    def _json(self, name: str, *, nullable: bool) -> _Field:
        edit = QPlainTextEdit()
        edit.setFont(self.monospace())
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(70)
        edit.setPlaceholderText("JSON" + (" (empty for none)" if nullable else ""))
        edit.textChanged.connect(lambda n=name: self._edited(n))

        def read(e: QPlainTextEdit = edit) -> Any:
            text = e.toPlainText().strip()
            if not text and nullable:
                return None
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc

        def write(v: Any, e: QPlainTextEdit = edit) -> None:
            text = "" if v is None else json.dumps(v, indent=2, ensure_ascii=False)
            try:
                same = read() == v
            except ValueError:
                same = False
            if not same:
                e.setPlainText(text)

        return _Field(name, edit, read, write)

    # ------------------------------------------------------------ values
    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show these values (after an undo, or another node selected) without sending edits back."""
        self._loading = True
        try:
            self._values = dict(values)
            defaults = self.model.model_construct().model_dump()
            for name, field in self.fields.items():
                field.write(self._values.get(name, defaults.get(name)))
                field.show_error(None)
        finally:
            self._loading = False

    def _edited(self, name: str) -> None:
        if self._loading:
            return
        field = self.fields[name]
        try:
            value = field.read()
        except ValueError as exc:
            field.show_error(str(exc))
            return
        candidate = {**self._values, name: value}
        try:
            self.model.model_validate(candidate)
        except ValidationError as exc:
            mine = [e for e in exc.errors() if e["loc"] and e["loc"][0] == name]
            if mine:
                field.show_error(mine[0]["msg"])
                return
        field.show_error(None)
        self._values = candidate
        self.changed.emit(name, value)

    def error_of(self, name: str) -> str | None:
        """The message shown under a field, if any (what a person sees)."""
        label = self.fields[name].error
        return label.text() if not label.isHidden() else None

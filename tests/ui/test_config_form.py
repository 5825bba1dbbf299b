"""The generated config form, typed into as a person would: valid edits go out, invalid ones say why."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QPlainTextEdit, QSpinBox
from pytestqt.qtbot import QtBot

from flowdesk.nodes.kinds.llm import HTTPConfig, LLMConfig
from flowdesk.ui.config_form import ConfigForm


def _form(qtbot: QtBot, model: type, values: dict, **kwargs: object) -> tuple[ConfigForm, list]:
    form = ConfigForm(model, values, **kwargs)
    qtbot.addWidget(form)
    form.show()
    sent: list = []
    form.changed.connect(lambda name, value: sent.append((name, value)))
    return form, sent


def test_each_field_gets_the_editor_its_type_asks_for(qtbot: QtBot) -> None:
    form, _ = _form(qtbot, LLMConfig, {}, credential_names=lambda: ["openai-work"])
    assert isinstance(form.fields["prompt"].editor, QPlainTextEdit)  # a template: multi-line, monospace
    assert form.fields["prompt"].editor.font().family() == ConfigForm.monospace().family()
    assert isinstance(form.fields["temperature"].editor, QDoubleSpinBox)
    assert form.fields["temperature"].editor.maximum() == 2.0  # the model's bound
    assert isinstance(form.fields["max_tokens"].editor, QSpinBox)
    assert isinstance(form.fields["output_schema"].editor, QPlainTextEdit)
    credential = form.fields["credential"].editor
    assert isinstance(credential, QComboBox)
    assert [credential.itemText(i) for i in range(credential.count())] == ["", "openai-work"]
    assert form.fields["prompt"].editor.toPlainText() == "{{ inputs.input }}"  # defaults shown
    http, _ = _form(qtbot, HTTPConfig, {"url": "https://x"})
    assert isinstance(http.fields["method"].editor, QComboBox)
    assert isinstance(http.fields["fail_on_status"].editor, QCheckBox)


def test_typing_a_valid_value_sends_it(qtbot: QtBot) -> None:
    form, sent = _form(qtbot, LLMConfig, {"prompt": "Hi"})
    editor = form.fields["prompt"].editor
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, " there")
    assert sent[-1] == ("prompt", "Hi there")
    spin = form.fields["max_tokens"].editor
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "256")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert sent[-1] == ("max_tokens", 256)


def test_an_invalid_value_is_shown_inline_and_not_sent(qtbot: QtBot) -> None:
    form, sent = _form(qtbot, LLMConfig, {"prompt": "x"})
    editor = form.fields["prompt"].editor
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)  # the prompt must not be empty
    assert sent == []
    assert "at least 1 character" in (form.error_of("prompt") or "")
    schema = form.fields["output_schema"].editor
    schema.setFocus()
    qtbot.keyClicks(schema, '{"type": ')
    assert "not valid JSON" in (form.error_of("output_schema") or "")
    qtbot.keyClicks(schema, '"object"}')
    assert form.error_of("output_schema") is None
    assert sent[-1] == ("output_schema", {"type": "object"})
    model = form.fields["model"].editor.combo.lineEdit()  # the model picker: free text is still allowed
    model.setFocus()
    model.selectAll()
    qtbot.keyClicks(model, "no colon")
    assert form.error_of("model") and not any(name == "model" for name, _ in sent)


def test_set_values_shows_an_undo_without_sending_it_back(qtbot: QtBot) -> None:
    form, sent = _form(qtbot, HTTPConfig, {"url": "https://a", "method": "GET"})
    form.set_values({"url": "https://b", "method": "POST", "fail_on_status": False})
    assert form.fields["url"].editor.toPlainText() == "https://b"  # a template field
    assert form.fields["method"].editor.currentText() == "POST"
    assert form.fields["fail_on_status"].editor.isChecked() is False
    assert sent == []

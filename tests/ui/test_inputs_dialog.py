"""The run inputs dialog from the keyboard: Ctrl+Enter runs, even from a multi-line field."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QPlainTextEdit
from pytestqt.qtbot import QtBot

from flowdesk.model.workflow import RunInput, ValueType, Workflow
from flowdesk.ui.runs.inputs_dialog import RunInputsDialog


def test_ctrl_enter_in_a_multi_line_field_runs(qtbot: QtBot, tmp_path: Path) -> None:
    workflow = Workflow(id="wf_in", name="In", inputs=(RunInput(name="payload", type=ValueType.OBJECT, default={}),))
    dialog = RunInputsDialog(workflow, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()  # shortcuts act in the active window
    field = dialog.findChild(QPlainTextEdit)
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, '{"a": 1}')
    qtbot.keyClick(field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.values == {"payload": {"a": 1}}

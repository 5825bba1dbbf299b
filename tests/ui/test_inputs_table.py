"""Declaring run inputs in the app: the workflow panel's Inputs table, one undo step per change, used by F5."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from flowdesk.model.types import ValueType
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.runs.inputs_dialog import RunInputsDialog


def _type_in_cell(qtbot: QtBot, window: MainWindow, row: int, column: int, text: str) -> None:
    table = window.inspector.workflow.inputs.table
    table.setCurrentCell(row, column)
    table.editItem(table.item(row, column))
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    QApplication.processEvents()


def test_declare_an_input_edit_it_undo_step_by_step(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.inspector.workflow.inputs
    assert panel.isVisible()  # nothing selected: the workflow's own panel, with its inputs
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)  # the new row's name is being edited
    editor.selectAll()
    qtbot.keyClicks(editor, "question")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    QApplication.processEvents()
    _type_in_cell(qtbot, window, 0, 3, "Why test?")
    _type_in_cell(qtbot, window, 0, 4, "what to ask")
    spec = window.document.workflow.inputs[0]
    assert (spec.name, spec.type, spec.default, spec.description) == (
        "question",
        ValueType.STRING,
        "Why test?",
        "what to ask",
    )
    window.stack.undo()
    assert window.document.workflow.inputs[0].description == ""
    assert panel.table.item(0, 4).text() == ""
    window.stack.undo()
    window.stack.undo()
    assert window.document.workflow.inputs[0].name == "input_1"
    window.stack.undo()
    assert window.document.workflow.inputs == ()
    assert panel.table.rowCount() == 0


def test_remove_and_reorder_and_a_taken_name_is_refused(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.inspector.workflow.inputs
    for _ in range(2):
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert [s.name for s in window.document.workflow.inputs] == ["input_1", "input_2"]
    panel.table.selectRow(1)
    qtbot.mouseClick(panel.up_button, Qt.MouseButton.LeftButton)
    assert [s.name for s in window.document.workflow.inputs] == ["input_2", "input_1"]
    _type_in_cell(qtbot, window, 0, 0, "input_1")
    assert "declared twice" in panel.message.text()
    assert [s.name for s in window.document.workflow.inputs] == ["input_2", "input_1"]
    assert panel.table.item(0, 0).text() == "input_2"
    panel.table.selectRow(0)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert [s.name for s in window.document.workflow.inputs] == ["input_1"]


def test_f5_asks_for_the_declared_inputs(qtbot: QtBot, window: MainWindow, answer_dialog: Callable[..., None]) -> None:
    window.add_node_at_centre("start")
    panel = window.inspector.workflow.inputs
    window.scene.clearSelection()
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(QApplication.focusWidget(), "topic")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    QApplication.processEvents()
    seen: list[list[str]] = []

    def look(dialog: object) -> None:
        assert isinstance(dialog, RunInputsDialog)
        seen.append([spec.name for spec in dialog.workflow.inputs])
        dialog.reject()

    answer_dialog(look)
    window.runs.run_workflow()
    assert seen == [["topic"]]


def test_the_start_card_lists_the_declared_inputs(qtbot: QtBot, window: MainWindow) -> None:
    window.add_node_at_centre("start")
    start = window.document.nodes[0].id
    item = window.scene.node_item(start)
    assert "no inputs declared" in item.layout.subtitle
    window.scene.clearSelection()
    panel = window.inspector.workflow.inputs
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(QApplication.focusWidget(), "topic")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    QApplication.processEvents()
    assert "topic" in item.toolTip() and "inputs: topic" in item.layout.subtitle
    window.stack.undo()
    window.stack.undo()
    assert "no inputs declared" in item.layout.subtitle

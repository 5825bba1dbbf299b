"""The inspector as a person uses it: every edit is an undoable command; undo shows up in the panel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import AddNode, RemoveNodes
from flowdesk.model.document import WorkflowDocument
from flowdesk.ui.inspector import Inspector
from flowdesk.ui.undo import DocumentUndoStack


def _inspector(qtbot: QtBot, doc: WorkflowDocument) -> tuple[Inspector, DocumentUndoStack]:
    stack = DocumentUndoStack(doc)
    inspector = Inspector(stack)
    qtbot.addWidget(inspector)
    inspector.resize(360, 700)
    inspector.show()
    return inspector, stack


def _add(stack: DocumentUndoStack, kind: str) -> str:
    command = AddNode.of_kind(stack.document, kind)
    assert stack.push_command(command) is None
    return command.node.id


def test_nothing_selected_shows_a_hint(qtbot: QtBot, doc: WorkflowDocument) -> None:
    inspector, _ = _inspector(qtbot, doc)
    assert inspector.hint.isVisible() and not inspector.options.isVisible()


def test_typing_a_prompt_is_one_undo_step_and_undo_shows_in_the_form(qtbot: QtBot, doc: WorkflowDocument) -> None:
    inspector, stack = _inspector(qtbot, doc)
    node_id = _add(stack, "llm")
    inspector.show_node(node_id)
    editor = inspector.form.fields["prompt"].editor
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClicks(editor, "Summarise this")
    assert doc.node(node_id).config["prompt"] == "Summarise this"
    assert stack.count() == 2  # the add, and one merged typing burst
    stack.undo()
    assert doc.node(node_id).config.get("prompt", "{{ inputs.input }}") == "{{ inputs.input }}"
    assert editor.toPlainText() == "{{ inputs.input }}"
    stack.redo()
    assert editor.toPlainText() == "Summarise this"


def test_rename_and_options_go_through_commands(qtbot: QtBot, doc: WorkflowDocument) -> None:
    inspector, stack = _inspector(qtbot, doc)
    node_id = _add(stack, "http")
    inspector.show_node(node_id)
    original = doc.node(node_id).name
    inspector.name.selectAll()
    qtbot.keyClicks(inspector.name, "Fetch feed")
    assert doc.node(node_id).name == "Fetch feed"
    inspector.options.attempts.setValue(3)
    inspector.options.timeout.setValue(30)
    inspector.options.on_error.setCurrentIndex(1)
    qtbot.mouseClick(inspector.options.breakpoint, Qt.MouseButton.LeftButton)
    node = doc.node(node_id)
    assert (node.retry.max_attempts, node.timeout_s, node.on_error, node.breakpoint) == (3, 30.0, "continue", True)
    while stack.index() > 1:  # everything but the add
        stack.undo()
    assert doc.node(node_id).retry.max_attempts == 1 and inspector.options.attempts.value() == 1
    assert doc.node(node_id).name == original and inspector.name.text() == original


def test_an_invalid_value_changes_nothing_and_says_why(qtbot: QtBot, doc: WorkflowDocument) -> None:
    inspector, stack = _inspector(qtbot, doc)
    node_id = _add(stack, "llm")
    inspector.show_node(node_id)
    before = stack.count()
    model = inspector.form.fields["model"].editor.combo.lineEdit()
    model.selectAll()
    qtbot.keyClicks(model, "gpt4")  # not provider:model
    assert stack.count() == before
    assert inspector.form.error_of("model")
    inspector.name.clear()
    qtbot.keyClicks(inspector.name, "x" * 201)  # longer than a name may be
    assert len(doc.node(node_id).name) == 200
    assert "200" in inspector.message.text()


def test_deleting_the_shown_node_clears_the_panel(qtbot: QtBot, doc: WorkflowDocument) -> None:
    inspector, stack = _inspector(qtbot, doc)
    node_id = _add(stack, "transform")
    inspector.show_node(node_id)
    stack.push_command(RemoveNodes([node_id]))
    assert inspector.node_id is None and inspector.hint.isVisible()


def _type_pin(qtbot: QtBot, inspector: Inspector, text: str) -> None:
    box = inspector.pinned.text
    box.setFocus()
    box.selectAll()
    qtbot.keyClick(box, Qt.Key.Key_Delete)
    qtbot.keyClicks(box, text)


def test_pinning_typed_outputs_is_one_undo_step(qtbot: QtBot, doc: WorkflowDocument) -> None:
    inspector, stack = _inspector(qtbot, doc)
    node_id = _add(stack, "llm")
    inspector.show_node(node_id)
    assert inspector.pinned.isVisible() and "Not pinned" in inspector.pinned.state.text()
    assert not inspector.pinned.unpin_button.isEnabled()
    _type_pin(qtbot, inspector, '{"text": "A ready answer"}')
    qtbot.mouseClick(inspector.pinned.pin_button, Qt.MouseButton.LeftButton)
    pinned = doc.node(node_id).pinned
    assert pinned is not None and pinned.outputs == {"text": "A ready answer"} and pinned.source_run is None
    assert "Pinned by hand" in inspector.pinned.state.text() and inspector.pinned.unpin_button.isEnabled()
    assert stack.count() == 2
    stack.undo()
    assert doc.node(node_id).pinned is None and "Not pinned" in inspector.pinned.state.text()
    stack.redo()
    qtbot.mouseClick(inspector.pinned.unpin_button, Qt.MouseButton.LeftButton)
    assert doc.node(node_id).pinned is None and stack.count() == 3


def test_a_bad_pin_is_named_and_changes_nothing(qtbot: QtBot, doc: WorkflowDocument) -> None:
    inspector, stack = _inspector(qtbot, doc)
    node_id = _add(stack, "llm")
    inspector.show_node(node_id)
    _type_pin(qtbot, inspector, '{"text": "unclosed}')
    qtbot.mouseClick(inspector.pinned.pin_button, Qt.MouseButton.LeftButton)
    assert "line 1, column" in inspector.pinned.message.text()
    _type_pin(qtbot, inspector, '{"answer": 1}')
    qtbot.mouseClick(inspector.pinned.pin_button, Qt.MouseButton.LeftButton)
    assert "'answer' is not an output of this node (its outputs: text, json)" in inspector.pinned.message.text()
    _type_pin(qtbot, inspector, '["text"]')
    qtbot.mouseClick(inspector.pinned.pin_button, Qt.MouseButton.LeftButton)
    assert "one value per output port" in inspector.pinned.message.text()
    assert doc.node(node_id).pinned is None and stack.count() == 1


def test_a_node_without_outputs_has_no_pin_box(qtbot: QtBot, doc: WorkflowDocument) -> None:
    inspector, stack = _inspector(qtbot, doc)
    inspector.show_node(_add(stack, "output"))
    assert inspector.options.isVisible() and not inspector.pinned.isVisible()


def test_run_on_the_cluster_is_an_undoable_option_of_kinds_that_can_go_there(
    qtbot: QtBot, doc: WorkflowDocument
) -> None:
    inspector, stack = _inspector(qtbot, doc)
    node_id = _add(stack, "llm")
    inspector.show_node(node_id)
    box = inspector.options.remote
    assert box.isVisible() and not box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert doc.node(node_id).remote is True
    stack.undo()
    assert doc.node(node_id).remote is False and not box.isChecked()
    output_id = _add(stack, "output")
    inspector.show_node(output_id)
    assert not inspector.options.remote.isVisible()  # an Output node's work is the run itself

"""The Qt undo stack drives model commands exactly as History does: refusals leave no step, bursts merge."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import AddNode, Command, CommandRefused, Connect, Macro, MoveNodes, Rename, SetConfig
from flowdesk.model.document import WorkflowDocument
from flowdesk.ui.undo import DocumentUndoStack


@pytest.fixture
def stack(qtbot: QtBot, doc: WorkflowDocument) -> DocumentUndoStack:
    return DocumentUndoStack(doc)


def test_push_does_once_and_undo_redo_replay(stack: DocumentUndoStack, doc: WorkflowDocument) -> None:
    assert stack.push_command(AddNode.of_kind(doc, "llm", (10, 20))) is None
    assert [n.kind for n in doc.nodes] == ["llm"]
    assert stack.count() == 1 and stack.undoText() == "Add LLM"
    stack.undo()
    assert doc.nodes == ()
    stack.redo()
    assert [n.id for n in doc.nodes] == ["llm_1"]


def test_refused_command_changes_nothing_and_pushes_nothing(
    qtbot: QtBot, stack: DocumentUndoStack, doc: WorkflowDocument
) -> None:
    stack.push_command(AddNode.of_kind(doc, "start"))
    second = AddNode.of_kind(doc, "transform")
    stack.push_command(second)
    before = doc.workflow
    with qtbot.waitSignal(stack.refused) as refused:
        message = stack.push_command(_Refusing())
    assert message == "no, because" and refused.args == ["no, because"]
    assert doc.workflow == before and stack.count() == 2
    with pytest.raises(CommandRefused, match="no, because"):
        stack.push_or_raise(_Refusing())
    assert stack.count() == 2


def test_typing_burst_merges_into_one_step(stack: DocumentUndoStack, doc: WorkflowDocument) -> None:
    stack.push_command(AddNode.of_kind(doc, "transform"))
    for text in ("a", "ab", "abc"):
        stack.push_command(SetConfig(doc, "transform_1", {"expression": text}))
    assert stack.count() == 2
    assert doc.node("transform_1").config["expression"] == "abc"
    stack.undo()
    assert doc.node("transform_1").config["expression"] == "inputs.input"
    stack.redo()
    assert doc.node("transform_1").config["expression"] == "abc"


def test_different_fields_and_clean_state_do_not_merge(stack: DocumentUndoStack, doc: WorkflowDocument) -> None:
    stack.push_command(AddNode.of_kind(doc, "transform"))
    stack.push_command(Rename(doc, "transform_1", "A"))
    stack.push_command(SetConfig(doc, "transform_1", {"expression": "x"}))
    assert stack.count() == 3
    stack.setClean()
    stack.push_command(SetConfig(doc, "transform_1", {"expression": "xy"}))
    assert stack.count() == 4, "a save point must stay reachable by undo"
    stack.push_command(SetConfig(doc, "transform_1", {"expression": "xyz"}))
    assert stack.count() == 4
    stack.undo()
    assert stack.isClean() and doc.node("transform_1").config["expression"] == "x"


def test_moves_do_not_merge(stack: DocumentUndoStack, doc: WorkflowDocument) -> None:
    stack.push_command(AddNode.of_kind(doc, "transform"))
    stack.push_command(MoveNodes(doc, {"transform_1": (10, 0)}))
    stack.push_command(MoveNodes(doc, {"transform_1": (20, 0)}))
    assert stack.count() == 3


def test_recorded_macro_is_one_step(stack: DocumentUndoStack, doc: WorkflowDocument) -> None:
    stack.push_command(AddNode.of_kind(doc, "start"))

    def build(run):  # type: ignore[no-untyped-def]
        add = AddNode.of_kind(doc, "llm", (200, 0))
        run(add)
        run(Connect(doc, "start_1", "inputs", add.node.id, "input"))

    assert stack.push_command(Macro.record(doc, "Add and connect", build)) is None
    assert stack.count() == 2 and len(doc.edges) == 1
    stack.undo()
    assert [n.id for n in doc.nodes] == ["start_1"] and doc.edges == ()
    stack.redo()
    assert len(doc.nodes) == 2 and len(doc.edges) == 1


class _Refusing(Command):
    label = "Refuse"

    def do(self, doc: WorkflowDocument) -> None:
        raise CommandRefused("no, because")

    def undo(self, doc: WorkflowDocument) -> None:
        raise AssertionError("never done, never undone")

"""Declaring run inputs through a command: each change one named undo step; a bad declaration refused."""

from __future__ import annotations

import pytest

from flowdesk.model.commands import CommandRefused, SetInputs
from flowdesk.model.history import History
from flowdesk.model.types import ValueType
from flowdesk.model.workflow import RunInput


def test_each_inputs_change_is_its_own_named_undo_step(history: History) -> None:
    code = RunInput(name="code")
    history.push(SetInputs(history.doc, [code], "Add input 'code'"))
    history.push(SetInputs(history.doc, [code.model_copy(update={"description": "the diff"})], "Describe 'code'"))
    assert history.doc.workflow.inputs[0].description == "the diff"
    history.undo()
    assert history.doc.workflow.inputs == (code,)
    history.undo()
    assert history.doc.workflow.inputs == ()


def test_a_duplicate_or_badly_named_input_is_refused(history: History) -> None:
    with pytest.raises(CommandRefused):
        SetInputs(history.doc, [RunInput(name="a"), RunInput(name="a", type=ValueType.NUMBER)])
    with pytest.raises(CommandRefused):
        SetInputs(history.doc, [{"name": "not an id"}])  # type: ignore[list-item]
    assert history.doc.workflow.inputs == ()

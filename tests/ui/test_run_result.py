"""Seeing the result of a run where a person looks: the status bar says it, the Output node's record shows it."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot
from test_run_inspect import chain, run_once

from flowdesk.model.fileformat import read_workflow
from flowdesk.paths import examples_dir
from flowdesk.ui.main_window import MainWindow


def test_a_finished_run_says_its_result_and_the_output_node_shows_it(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    win.load(chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    assert "value = 41" in win.statusBar().currentMessage()
    win.scene.select(["out"])
    assert win.runs.record.outputs.value == {"value": 41}


def test_a_loop_stopped_at_its_limit_before_the_output_says_so(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    example = read_workflow(examples_dir() / "code_review_loop.json")
    never_approved = (example.inputs[0].model_copy(update={"default": "def add(x, y):\n    return x - y"}),)
    run_window.load(example.model_copy(update={"inputs": never_approved}), "library")
    assert run_once(qtbot, run_window, answer_dialog) == "succeeded"
    message = run_window.statusBar().currentMessage()
    assert "no outputs" in message and "limit of 3 passes" in message and "Review" in message

"""Seeing the result of a run where a person looks: the status bar says it, the Output node's record shows it."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot
from test_run_inspect import chain, run_once

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

"""Running the for_each and race example from the window (issue 16.4, 16.5): the loop's card shows
its items done, each item is a page of its record, and the branch that lost the race is shown
cancelled with the reason, not failed."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot
from test_run_window import click_run_in_dialog, log_text, press_run, states, wait_finished

from flowdesk.paths import examples_dir
from flowdesk.ui.main_window import MainWindow


def test_the_triage_example_loops_and_races_in_the_window(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    assert win.open_workflow(str(examples_dir() / "ticket_triage.json"))
    answer_dialog(click_run_in_dialog)
    press_run(qtbot, win)
    assert wait_finished(qtbot, win) == "succeeded"
    shown = states(win)
    assert shown["each"] == shown["gather"] == shown["first"] == shown["report"] == "succeeded"
    assert shown["review"] == shown["review_says"] == "cancelled"
    assert shown["quick"] == "succeeded"
    # the body's nodes show how their items went (each ran once per ticket, in sub-runs)
    assert shown["classify"] == shown["priority"] == "succeeded"
    assert win.scene.node_item("each").detail == "4/4"
    assert "cancelled: lost the race" in log_text(win)
    win.scene.select(["each"])
    pages = [p.title for p in win.runs.record.pages]
    assert [t for t in pages if t.startswith("item")] == [f"item {i} of 4" for i in range(1, 5)]

"""The on-failure handler in the app: set in the workflow panel (one undo step), and a failed run's view
says which run handled it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from support.failing_flows import handler
from support.wfbuild import node, workflow
from test_run_window import log_text, press_run, wait_finished

from flowdesk.model.workflow import Settings
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow


def test_the_workflow_panel_sets_the_on_failure_handler_through_undo(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.inspector.workflow
    assert panel.isVisible() and panel.on_failure.text() == ""
    qtbot.keyClicks(panel.on_failure, "notify_team")
    qtbot.keyClick(panel.on_failure, Qt.Key.Key_Return)
    assert window.document.workflow.settings.on_failure == "notify_team"
    assert window.stack.count() == 1
    panel.on_failure.selectAll()
    qtbot.keyClick(panel.on_failure, Qt.Key.Key_Delete)
    qtbot.keyClick(panel.on_failure, Qt.Key.Key_Return)
    assert window.document.workflow.settings.on_failure is None  # emptied: no handler
    window.stack.undo()
    assert window.document.workflow.settings.on_failure == "notify_team" and panel.on_failure.text() == "notify_team"
    window.stack.undo()
    assert window.document.workflow.settings.on_failure is None and panel.on_failure.text() == ""


def test_a_failed_run_in_the_window_says_which_run_handled_it(
    qtbot: QtBot, run_window: MainWindow, run_store: Store
) -> None:
    run_store.workflows.save(handler("notify", inputs=("error_message", "failed_node_id")))
    wf = workflow(
        [node("start", "start"), node("boom", "transform", expression="inputs.input.missing.deeper"),
         node("out", "output", name="value")],
        ["start.inputs -> boom.input", "boom.output -> out.value"],
    ).model_copy(update={"id": "failing", "name": "failing", "settings": Settings(on_failure="notify")})  # fmt: skip
    win = run_window
    win.load(wf, "library")
    press_run(qtbot, win)
    assert wait_finished(qtbot, win) == "failed"
    failed = win.runs.shown
    [handled] = [r for r in run_store.runs.list(parent_run_id=failed, limit=None) if r.kind == "handler"]
    assert handled.status == "succeeded"
    expected = f"handled by run {handled.id[:8]} (Notify the team, succeeded)"
    assert expected in win.statusBar().toolTip()  # the whole line (the bar ends a long one with "…")
    assert win.runs.log_panel.run_label.text() == f"Run {failed[:8]}; {expected}"
    assert "FAILED" in log_text(win)  # the failed run's own log, not the handler's
    _, outputs = run_store.runs.run_values(handled.id)
    assert outputs["seen"]["failed_node_id"] == "boom"


def test_f5_with_a_handler_that_does_not_exist_says_so_and_runs_nothing(
    qtbot: QtBot, run_window: MainWindow, run_store: Store
) -> None:
    wf = workflow([node("start", "start"), node("out", "output", name="value")], ["start.inputs -> out.value"])
    win = run_window
    win.load(wf.model_copy(update={"id": "lonely", "name": "lonely", "settings": Settings(on_failure="nobody")}),
             "library")  # fmt: skip
    press_run(qtbot, win)
    assert win.statusBar().currentMessage() == (
        "Cannot run: The on-failure handler 'nobody' (settings.on_failure) cannot run: there is no library "
        "workflow 'nobody' (see `flowdesk list`)."
    )
    assert run_store.runs.list() == [] and not win.runs.controller.running_ids()

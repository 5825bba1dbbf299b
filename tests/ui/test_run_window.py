"""Running from the window as a person would: F5, the inputs dialog, watching, stopping, pausing, stepping.

The engine runs on the same loop as the widgets (qasync), and every assertion is on what the
person sees: node states on the canvas, log lines, the runs list, the status bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot
from support.wfbuild import node, workflow

from flowdesk.model.commands import AddNode, Connect
from flowdesk.model.workflow import RunInput, Workflow
from flowdesk.paths import examples_dir
from flowdesk.store.store import Store
from flowdesk.ui.canvas.theme import NodeState
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.runs.inputs_dialog import RunInputsDialog

TIMEOUT = 20_000


def states(win: MainWindow) -> dict[str, str]:
    assert win.scene is not None
    return {item.node_id: item.state.value for item in win.scene.node_items()}


def log_text(win: MainWindow) -> str:
    return "\n".join(win.runs.log_panel.shown_lines())


def activate(qtbot: QtBot, win: MainWindow) -> None:
    """Bring the window forward (a person clicks on it after a dialog; offscreen, nothing does)."""
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)


def press_run(qtbot: QtBot, win: MainWindow) -> None:
    activate(qtbot, win)
    qtbot.keyClick(win.view, Qt.Key.Key_F5)


def wait_finished(qtbot: QtBot, win: MainWindow) -> str:
    qtbot.waitUntil(lambda: not win.runs.controller.running_ids(), timeout=TIMEOUT)
    assert win.runs.shown is not None
    return win.runs.controller.trace(win.runs.shown).status


def click_run_in_dialog(dialog: Any) -> None:
    assert isinstance(dialog, RunInputsDialog)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def named(wf: Workflow, wid: str) -> Workflow:
    return wf.model_copy(update={"id": wid, "name": wid.replace("_", " ")})


def slow_chain() -> Workflow:
    """start -> wait (long) -> out: long enough to stop, pause or step while it runs."""
    return named(
        workflow(
            [node("start", "start"), node("wait", "delay", seconds=30), node("out", "output", name="value")],
            ["start.inputs -> wait.value", "wait.value -> out.value"],
        ),
        "slow_chain",
    )


@pytest.mark.parametrize(
    "example", ["ask_llm", "code_review_loop", "etl_orders", "feed_discovery", "summarise_document"]
)
def test_each_example_runs_from_the_window_to_success(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None], example: str, run_store: Store
) -> None:
    win = run_window
    assert win.open_workflow(str(examples_dir() / f"{example}.json"))
    answer_dialog(click_run_in_dialog)  # the example's declared inputs keep their defaults
    press_run(qtbot, win)
    assert wait_finished(qtbot, win) == "succeeded"
    painted = states(win)
    runnable = {n.id for n in win.document.nodes if n.kind != "note"}
    assert {painted[n] for n in runnable} <= {"succeeded", "skipped"}
    assert "succeeded" in painted.values()
    assert "run succeeded" in log_text(win)
    assert win.runs.runs_panel.tree.topLevelItemCount() == 1
    assert "succeeded" in win.runs.runs_panel.tree.topLevelItem(0).text(0)
    assert "succeeded" in win.statusBar().currentMessage()
    if example == "etl_orders":  # its file tools worked in a copy of the example data beside the library
        assert (run_store.path.parent / "example-data" / "orders_report.json").is_file()
        assert not (examples_dir() / "data" / "orders_report.json").exists()


def test_the_approval_example_waits_and_the_person_approves_in_run_data(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None], run_store: Store
) -> None:
    win = run_window
    assert win.open_workflow(str(examples_dir() / "parallel_summaries.json"))
    answer_dialog(click_run_in_dialog)
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: states(win).get("approve") == "waiting", timeout=TIMEOUT)
    # the app prompts: the waiting node is selected and its Run data shows the decision buttons
    assert win.scene.selected_node_ids() == ["approve"]
    assert win.inspector_tabs.currentWidget() is win.runs.record
    assert "Approval needed" in win.statusBar().currentMessage()
    record = win.runs.record
    qtbot.waitUntil(record.approve_button.isVisible, timeout=TIMEOUT)
    qtbot.keyClicks(record.comment, "looks right")
    qtbot.mouseClick(record.approve_button, Qt.MouseButton.LeftButton)
    assert wait_finished(qtbot, win) == "succeeded"
    assert states(win)["published"] == "succeeded"
    assert states(win)["rejected"] == "skipped"
    assert states(win)["summaries"] == "succeeded"
    assert win.scene.node_item("summaries").detail == "3/3"  # the map's progress stays on its card
    # the map's items are pages of its record, each with the item it got and what it made of it
    win.scene.select(["summaries"])
    pages = [p.title for p in record.pages]
    assert [t for t in pages if t.startswith("item")] == ["item 1 of 3", "item 2 of 3", "item 3 of 3"]
    record.show_page(pages.index("item 2 of 3"))
    assert "Desktop tools keep data" in record.inputs.raw_text()
    assert record.outputs.value  # the summary of that document


def test_a_sub_workflow_nodes_run_data_pages_through_its_record_and_its_workflows_run(
    qtbot: QtBot, run_window: MainWindow, run_store: Store
) -> None:
    child = workflow(
        [node("twice", "transform", expression="run.inputs.n * 2"), node("o", "output", name="value")],
        ["twice.output -> o.value"],
        inputs=[{"name": "n", "type": "any"}],  # type: ignore[list-item]
    )
    run_store.workflows.save(named(child, "doubler"))
    parent = workflow(
        [
            node("given", "transform", expression="{'n': 21}"),
            node("call", "subworkflow", workflow="doubler"),
            node("out", "output", name="result"),
        ],
        ["given.output -> call.inputs", "call.outputs -> out.value"],
    )
    win = run_window
    win.load(named(parent, "calls_doubler"), "library")
    press_run(qtbot, win)
    assert wait_finished(qtbot, win) == "succeeded"
    win.scene.select(["call"])
    record = win.runs.record
    assert [p.title for p in record.pages] == ["the run's record", "sub-workflow run"]
    record.show_page(1)
    assert record.heading.text().endswith("sub-workflow run ✔ succeeded") and "item" not in record.heading.text()
    assert record.outputs.value == {"value": 42}


def test_a_run_can_be_stopped_mid_way(qtbot: QtBot, run_window: MainWindow, run_store: Store) -> None:
    win = run_window
    win.load(slow_chain(), "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: states(win)["wait"] == "running", timeout=TIMEOUT)
    assert win.runs.stop_action.isEnabled()
    win.runs.stop_action.trigger()
    assert wait_finished(qtbot, win) == "cancelled"
    assert states(win)["wait"] == "cancelled"
    assert states(win)["out"] == "not_run"  # the run ended before it: unlike a node no run touched
    (run,) = run_store.runs.list("slow_chain")
    assert run.status == "cancelled"
    assert not win.runs.stop_action.isEnabled()
    assert win.runs.resume_action.isEnabled()  # a cancelled run can be continued


def test_pause_holds_new_nodes_until_continue(qtbot: QtBot, run_window: MainWindow) -> None:
    wf = named(
        workflow(
            [node("start", "start"), node("a", "delay", seconds=0.3), node("b", "delay", seconds=0),
             node("out", "output", name="value")],
            ["start.inputs -> a.value", "a.value -> b.value", "b.value -> out.value"],
        ),
        "pausable",
    )  # fmt: skip
    win = run_window
    win.load(wf, "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: states(win)["a"] == "running", timeout=TIMEOUT)
    qtbot.keyClick(win.view, Qt.Key.Key_F6)  # Pause
    qtbot.waitUntil(lambda: win.runs.controller.trace(win.runs.shown).status == "paused", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: states(win)["a"] == "succeeded", timeout=TIMEOUT)
    qtbot.wait(300)
    assert states(win)["b"] in ("idle", "queued")  # nothing new started while paused
    assert win.runs.continue_action.isEnabled()
    assert "paused" in win.runs.run_status.text()
    qtbot.keyClick(win.view, Qt.Key.Key_F8)  # Continue
    assert wait_finished(qtbot, win) == "succeeded"
    assert states(win)["b"] == "succeeded"


def test_a_breakpoint_pauses_before_its_node_and_step_runs_one_node(qtbot: QtBot, run_window: MainWindow) -> None:
    wf = named(
        workflow(
            [node("start", "start"), node("a", "delay", seconds=0), node("b", "delay", seconds=0),
             node("c", "delay", seconds=0), node("out", "output", name="value")],
            ["start.inputs -> a.value", "a.value -> b.value", "b.value -> c.value", "c.value -> out.value"],
        ),
        "stepping",
    )  # fmt: skip
    win = run_window
    win.load(wf, "library")
    win.scene.select(["b"])
    qtbot.keyClick(win.view, Qt.Key.Key_F9)  # toggle breakpoint on the selected node
    assert win.document.node("b").breakpoint
    press_run(qtbot, win)
    trace = lambda: win.runs.controller.trace(win.runs.shown)  # noqa: E731
    qtbot.waitUntil(lambda: win.runs.shown is not None and trace().status == "paused", timeout=TIMEOUT)
    assert trace().paused_at == "b"
    assert states(win)["a"] == "succeeded" and states(win)["b"] != "succeeded"
    assert "before 'b'" in win.runs.run_status.text()
    qtbot.keyClick(win.view, Qt.Key.Key_F10)  # Step: b runs, then the run pauses again
    qtbot.waitUntil(lambda: states(win)["b"] == "succeeded" and trace().status == "paused", timeout=TIMEOUT)
    assert states(win)["c"] != "succeeded"
    qtbot.keyClick(win.view, Qt.Key.Key_F8)
    assert wait_finished(qtbot, win) == "succeeded"


def test_a_failed_run_names_the_node_and_the_button_selects_it(qtbot: QtBot, run_window: MainWindow) -> None:
    wf = named(
        workflow(
            [node("start", "start"), node("boom", "transform", expression="inputs.input.missing.deeper"),
             node("out", "output", name="value")],
            ["start.inputs -> boom.input", "boom.output -> out.value"],
        ),
        "failing",
    )  # fmt: skip
    win = run_window
    win.load(wf, "library")
    press_run(qtbot, win)
    assert wait_finished(qtbot, win) == "failed"
    assert states(win)["boom"] == "failed"
    message = win.statusBar().currentMessage()
    assert "failed" in message and "boom" in message
    assert "Traceback" not in message
    assert win.runs.failed_button.isVisible()
    win.scene.clearSelection()
    qtbot.mouseClick(win.runs.failed_button, Qt.MouseButton.LeftButton)
    assert win.scene.selected_node_ids() == ["boom"]
    assert win.inspector_tabs.currentWidget() is win.runs.record  # its error, not its settings
    assert "FAILED" in log_text(win)
    item = win.scene.node_item("boom")
    assert item.state == NodeState.FAILED


def test_the_inputs_dialog_refuses_a_bad_value_and_remembers_good_ones(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None], run_store: Store
) -> None:
    wf = named(
        workflow(
            [node("start", "start"), node("out", "output", name="value")],
            ["start.inputs -> out.value"],
            inputs=[RunInput(name="count", type="integer"), RunInput(name="label", type="string", default="x")],
        ),
        "with_inputs",
    )
    win = run_window
    win.load(wf, "library")
    seen: dict[str, Any] = {}

    def type_bad_then_good(dialog: Any) -> None:
        count = dialog._fields["count"]
        assert isinstance(count, QLineEdit)
        count.setText("many")
        click_run_in_dialog(dialog)
        seen["problem"] = dialog.problem.text()
        assert dialog.isVisible()  # refused: still open
        count.setText("7")
        click_run_in_dialog(dialog)

    answer_dialog(type_bad_then_good)
    press_run(qtbot, win)
    assert wait_finished(qtbot, win) == "succeeded"
    assert "count" in seen["problem"] and "integer" in seen["problem"]
    (run,) = run_store.runs.list("with_inputs")
    assert run_store.runs.run_values(run.id)[0] == {"count": 7, "label": "x"}
    # the next run offers the last values
    dialog = RunInputsDialog(win.document.workflow, win.settings, win)
    assert dialog.texts()["count"] == "7"
    dialog.deleteLater()


def test_an_invalid_workflow_cannot_be_run_and_the_window_says_why(qtbot: QtBot, run_window: MainWindow) -> None:
    wf = named(workflow([node("out", "output", name="value")]), "invalid")  # its required input is unwired
    win = run_window
    win.load(wf, "library")
    qtbot.waitUntil(lambda: not win.runs.run_action.isEnabled())  # once the problems are known
    reason = win.runs.run_action.toolTip()
    assert reason.startswith("Cannot run:") and "out" in reason.lower()
    assert "Cannot run" in win.runs.run_status.text()
    press_run(qtbot, win)
    assert not win.runs.controller.live
    win.runs.run_workflow()  # started some other way, it still refuses and points at the culprit
    assert "Cannot run" in win.statusBar().currentMessage()
    assert not win.runs.controller.live
    assert win.scene.selected_node_ids() == ["out"]
    # wiring the input makes the workflow runnable again
    win.stack.push_command(AddNode.of_kind(win.document, "start", (0.0, 0.0)))
    start = next(n.id for n in win.document.nodes if n.kind == "start")
    win.stack.push_command(Connect(win.document, start, "inputs", "out", "value"))
    qtbot.waitUntil(win.runs.run_action.isEnabled)
    assert win.runs.run_status.text() == ""


def test_runs_of_two_workflows_go_on_at_once_and_the_canvas_shows_the_open_ones(
    qtbot: QtBot, run_window: MainWindow, run_store: Store
) -> None:
    win = run_window
    win.load(slow_chain(), "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: states(win)["wait"] == "running", timeout=TIMEOUT)
    first = win.runs.shown
    quick = named(
        workflow([node("start", "start"), node("out", "output", name="value")], ["start.inputs -> out.value"]),
        "quick",
    )
    win.load(quick, "library")
    assert win.runs.shown is None  # the other workflow's run is not painted on this one
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: win.runs.shown != first and states(win)["out"] == "succeeded", timeout=TIMEOUT)
    # the quick run ends (its last events may follow the node's success by a tick); the slow one goes on
    qtbot.waitUntil(lambda: win.runs.controller.running_ids() == [first], timeout=TIMEOUT)
    win.open_workflow("slow_chain")
    assert win.runs.shown == first and states(win)["wait"] == "running"
    win.runs.stop_action.trigger()
    assert wait_finished(qtbot, win) == "cancelled"


def test_the_node_context_menu_sets_a_breakpoint_and_offers_rerun(qtbot: QtBot, run_window: MainWindow) -> None:
    win = run_window
    win.load(slow_chain(), "library")
    item = win.scene.node_item("out")
    where = win.view.mapFromScene(item.sceneBoundingRect().center())
    win.runs._canvas_menu(where)  # what a right-click on the node opens
    menu = win.runs.context_menu
    texts = [a.text() for a in menu.actions()]
    assert "Set breakpoint" in texts and "Re-run from here" not in texts  # no run shown yet
    assert win.scene.selected_node_ids() == ["out"]
    next(a for a in menu.actions() if a.text() == "Set breakpoint").trigger()
    menu.close()
    assert win.document.node("out").breakpoint
    assert "breakpoint" in item._tooltip_at(item.boundingRect().topLeft() + QPointF(40, 20))
    win.runs._canvas_menu(where)
    assert "Remove breakpoint" in [a.text() for a in win.runs.context_menu.actions()]
    win.runs.context_menu.close()


def test_closing_with_a_run_going_asks_then_cancels_it_cleanly(
    qtbot: QtBot, run_window: MainWindow, run_store: Store, answer_dialog: Callable[..., None]
) -> None:
    from PySide6.QtWidgets import QMessageBox

    win = run_window
    win.load(slow_chain(), "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: states(win)["wait"] == "running", timeout=TIMEOUT)
    answer_dialog(lambda box: box.button(QMessageBox.StandardButton.No).click())
    assert not win.close()  # the person keeps it running
    assert win.runs.controller.running_ids()
    answer_dialog(lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    assert win.close()
    (run,) = run_store.runs.list("slow_chain")
    assert run.status == "cancelled"  # journaled before the window went

"""Inspecting runs in the window: past runs, a node's record, loop pages, re-run, pin, resume, the log.

Runs are made the way a person makes them (F5 in the window), or by the CLI's path (a run that
suspended at an approval) for the "after a restart" cases, and then looked at through the panels.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from support.wfbuild import edge, node, workflow
from test_run_window import activate, click_run_in_dialog, named, press_run, states, wait_finished

from flowdesk.model.commands import SetConfig
from flowdesk.model.workflow import Position, RunInput, Workflow
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow

TIMEOUT = 20_000


def chain() -> Workflow:
    return named(
        workflow(
            [node("start", "start"), node("double", "transform", expression="inputs.input.n * 2"),
             node("plus", "transform", expression="inputs.input + 1"), node("out", "output", name="value")],
            ["start.inputs -> double.input", "double.output -> plus.input", "plus.output -> out.value"],
            inputs=[RunInput(name="n", type="integer", default=20)],
        ),
        "chain",
    )  # fmt: skip


def run_once(qtbot: QtBot, win: MainWindow, answer: Callable[..., None] | None = None) -> str:
    if answer is not None:
        answer(click_run_in_dialog)
    press_run(qtbot, win)
    status = wait_finished(qtbot, win)
    return status


def test_a_past_run_paints_its_states_and_shows_recorded_values(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None], run_store: Store
) -> None:
    win = run_window
    win.load(chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    run_id = win.runs.shown
    win.new_workflow()  # away, and back: the run is read from the library now
    assert win.runs.shown is None
    win.open_workflow("chain")
    assert set(states(win).values()) == {"idle"}
    assert win.runs.runs_panel.tree.topLevelItemCount() == 1
    win.runs.runs_panel.tree.setCurrentItem(win.runs.runs_panel.tree.topLevelItem(0))
    assert win.runs.shown == run_id
    assert states(win)["plus"] == "succeeded"
    win.scene.select(["plus"])
    record = win.runs.record
    assert record.outputs.value == {"output": 41}
    assert record.inputs.value == {"input": 40}
    assert '"output": 41' in record.outputs.raw_text()
    assert "succeeded" in record.heading.text()
    assert any("ok" in line or "succeeded" in line for line in win.runs.log_panel.shown_lines())
    assert win.runs.timeline.chart.rows[:3] == ["start", "double", "plus"]  # rows in the order nodes started


def counting_loop() -> Workflow:
    """count -> check -> done | again -> back to count: 'count' makes three passes."""
    return named(
        workflow(
            [node("start", "start"),
             node("count", "transform", expression="{'n': (inputs.input.n if inputs.input.n is defined else 0) + 1}"),
             node("check", "condition", expression="inputs.value.n >= 3"),
             node("again", "transform", expression="inputs.input"), node("done", "output", name="final")],
            ["start.inputs -> count.input", "count.output -> check.value", "check.true -> done.value",
             "check.false -> again.input", edge("again.output -> count.input", loop=10)],
        ),
        "counting_loop",
    )  # fmt: skip


def test_loop_passes_are_pages_to_step_through(qtbot: QtBot, run_window: MainWindow) -> None:
    win = run_window
    win.load(counting_loop(), "library")
    assert run_once(qtbot, win) == "succeeded"
    assert win.runs.controller.trace(win.runs.shown).nodes["count"].passes == 3
    assert win.scene.node_item("count").detail == "×3"
    win.scene.select(["count"])
    record = win.runs.record
    assert record.page_label.text().startswith("pass 3 of 3")  # the latest pass first
    assert record.outputs.value == {"output": {"n": 3}}
    qtbot.mouseClick(record.prev_button, Qt.MouseButton.LeftButton)
    assert record.outputs.value == {"output": {"n": 2}}
    qtbot.mouseClick(record.prev_button, Qt.MouseButton.LeftButton)
    assert record.page_label.text().startswith("pass 1 of 3")
    assert record.outputs.value == {"output": {"n": 1}}
    assert not record.prev_button.isEnabled()
    qtbot.mouseClick(record.next_button, Qt.MouseButton.LeftButton)
    assert record.page_label.text().startswith("pass 2 of 3")


def test_rerun_from_a_node_reuses_upstream_and_is_listed_under_its_parent(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None], run_store: Store
) -> None:
    win = run_window
    win.load(chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    parent = win.runs.shown
    win.scene.select(["plus"])
    activate(qtbot, win)
    qtbot.keyClick(win.view, Qt.Key.Key_F5, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    status = wait_finished(qtbot, win)
    child = win.runs.shown
    assert status == "succeeded" and child != parent
    info = run_store.runs.get(child)
    assert (info.kind, info.parent_run_id, info.parent_node_id) == ("rerun", parent, "plus")
    sources = {s.node_id: s.source for s in run_store.runs.steps(child)}
    assert sources["double"] == "restored" and sources["plus"] == "run"
    tree = win.runs.runs_panel.tree
    assert tree.topLevelItemCount() == 1
    top = tree.topLevelItem(0)
    assert top.childCount() == 1 and "from plus" in top.child(0).text(0)


def test_rerun_saves_and_runs_what_is_on_the_canvas_now(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None], run_store: Store
) -> None:
    """Edit a node after a run, re-run from a node after it: the edit is saved and runs; 'start' is reused."""
    win = run_window
    win.load(chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    parent = win.runs.shown
    assert run_store.runs.run_values(parent)[1] == {"value": 41}
    win.stack.push_command(SetConfig(win.document, "double", {"expression": "inputs.input.n * 3"}))
    assert win.dirty
    win.scene.select(["out"])
    activate(qtbot, win)
    qtbot.keyClick(win.view, Qt.Key.Key_F5, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert wait_finished(qtbot, win) == "succeeded"
    child = win.runs.shown
    assert not win.dirty and run_store.workflows.get("chain").current_version == 2  # saved first, as F5 does
    assert run_store.runs.run_values(child)[1] == {"value": 61}  # the edited expression ran
    info = run_store.runs.get(child)
    assert (info.kind, info.parent_run_id, info.workflow_version) == ("rerun", parent, 2)
    sources = {s.node_id: s.source for s in run_store.runs.steps(child)}
    assert sources == {"start": "restored", "double": "run", "plus": "run", "out": "run"}
    row = win.runs.runs_panel.tree.topLevelItem(0).child(0)
    assert "from out · 1 reused" in row.text(0) and row.text(5) == "v2"
    assert "on version 2" in row.toolTip(0) and "reused: start" in row.toolTip(0)
    assert "changed since, so run again: double, plus" in row.toolTip(0)


def test_pin_an_output_from_a_run_and_undo_it(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    win.load(chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    win.scene.select(["double"])
    record = win.runs.record
    assert record.pin_button.isEnabled()
    qtbot.mouseClick(record.pin_button, Qt.MouseButton.LeftButton)
    pinned = win.document.node("double").pinned
    assert pinned is not None and pinned.outputs == {"output": 40} and pinned.source_run == win.runs.shown
    assert "pinned" in win.scene.node_item("double")._tooltip_at(QPointF(30, 12))
    # the next run does not run the pinned node: its value flows on
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    latest = win.runs.controller.trace(win.runs.shown)
    assert any(s.node_id == "double" and s.source == "pinned" for s in latest.spans)
    win.stack.undo()
    assert win.document.node("double").pinned is None


def test_a_cancelled_run_resumes_without_rerunning_finished_nodes(
    qtbot: QtBot, run_window: MainWindow, run_store: Store
) -> None:
    wf = named(
        workflow(
            [node("start", "start"), node("first", "transform", expression="1"), node("wait", "delay", seconds=1),
             node("out", "output", name="value")],
            ["start.inputs -> first.input", "first.output -> wait.value", "wait.value -> out.value"],
        ),
        "resumable",
    )  # fmt: skip
    win = run_window
    win.load(wf, "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: states(win)["wait"] == "running", timeout=TIMEOUT)
    win.runs.stop_action.trigger()
    assert wait_finished(qtbot, win) == "cancelled"
    run_id = win.runs.shown
    assert win.runs.resume_action.isEnabled()
    win.runs.resume_action.trigger()
    assert wait_finished(qtbot, win) == "succeeded"
    assert win.runs.shown == run_id  # the same run continued
    steps = run_store.runs.steps(run_id)
    assert [s.segment for s in steps if s.node_id == "first"] == [0]  # ran once, in the first segment
    assert run_store.runs.get(run_id).restored_nodes >= 1


def test_a_suspended_approval_is_decided_after_a_restart(
    qtbot: QtBot, run_window: MainWindow, run_store: Store
) -> None:
    wf = named(
        workflow(
            [node("start", "start"), node("ask", "approval", message="Ship it?"),
             node("yes", "output", name="shipped"), node("no", "output", name="held")],
            ["start.inputs -> ask.value", "ask.approved -> yes.value", "ask.rejected -> no.value"],
        ),
        "approval_later",
    )  # fmt: skip
    run_store.workflows.save(wf)
    service = run_window.runs.controller.service
    started = service.start(wf, {}, workflow_version=1, suspend_on_wait=True)  # as `flowdesk run` does, unattended
    qtbot.waitUntil(started.handle.task.done, timeout=TIMEOUT)
    assert run_store.runs.get(started.run_id).status == "waiting"
    win = run_window
    win.open_workflow("approval_later")
    win.runs.runs_panel.tree.setCurrentItem(win.runs.runs_panel.tree.topLevelItem(0))
    assert states(win)["ask"] == "waiting"
    win.scene.select(["ask"])
    record = win.runs.record
    assert record.approval.isVisibleTo(record)
    qtbot.mouseClick(record.reject_button, Qt.MouseButton.LeftButton)
    assert wait_finished(qtbot, win) == "succeeded"
    assert states(win)["no"] == "succeeded" and states(win)["yes"] == "skipped"


def test_the_log_filters_by_node_level_and_text_and_a_click_selects_the_node(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    win.load(chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    panel = win.runs.log_panel
    everything = panel.shown_lines()
    assert any("\tdouble\t" in line for line in everything) and any("\tplus\t" in line for line in everything)
    panel.show_node("plus")
    assert panel.shown_lines() and all("\tplus\t" in line for line in panel.shown_lines())
    panel.show_node(None)
    panel.level_box.setCurrentIndex(3)  # errors only
    assert panel.shown_lines() == []
    panel.level_box.setCurrentIndex(1)
    qtbot.keyClicks(panel.search, "queued")
    assert panel.shown_lines() and all("queued" in line for line in panel.shown_lines())
    panel.search.clear()
    row = next(r for r in range(panel.proxy.rowCount()) if panel.proxy.index(r, 1).data() == "double")
    rect = panel.table.visualRect(panel.proxy.index(row, 3))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.scene.selected_node_ids() == ["double"]
    panel.table.selectRow(row)
    panel.copy_selected()
    assert "double" in QGuiApplication.clipboard().text()


def test_a_log_line_shows_its_level_in_the_level_column_only(qtbot: QtBot) -> None:
    from flowdesk.engine.events import NodeLog
    from flowdesk.ui.runs.log_model import COLUMNS, LogModel

    model = LogModel("r1")
    model.append_events(
        [NodeLog(run_id="r1", ts=time.time(), node_id="n", message="the host answered slowly", level="warning")]
    )
    shown = {name: model.data(model.index(0, column)) for column, name in enumerate(COLUMNS)}
    assert shown["Message"] == "the host answered slowly", "the level is not repeated in the text"
    assert "warning" in shown["Level"]


def test_the_log_follows_the_tail_until_the_person_scrolls_up(qtbot: QtBot, run_window: MainWindow) -> None:
    from flowdesk.engine.events import NodeLog
    from flowdesk.ui.runs.log_model import LogModel

    panel = run_window.runs.log_panel
    model = LogModel("r1")
    panel.show_model(model, "Run r1")
    panel.resize(600, 200)
    qtbot.waitExposed(panel.window())
    events = [NodeLog(run_id="r1", ts=time.time(), node_id="n", message=f"line {i}") for i in range(300)]
    model.append_events(events[:200])
    bar = panel.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    bar.setValue(0)  # the person scrolls up to read
    assert not panel.follow
    model.append_events(events[200:])
    assert bar.value() == 0
    bar.setValue(bar.maximum())
    assert panel.follow


def test_the_window_keeps_ticking_during_a_thousand_node_run(qtbot: QtBot, run_window: MainWindow) -> None:
    width = 1000
    nodes = [node("start", "start")] + [
        node(f"t{i}", "transform", expression=f"{i}").model_copy(
            update={"position": Position(x=300 + 240 * (i % 40), y=180 * (i // 40))}
        )
        for i in range(width)
    ]
    wf = named(workflow(nodes, [f"start.inputs -> t{i}.input" for i in range(width)], concurrency=64), "wide")
    win = run_window
    win.load(wf, "library")
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    press_run(qtbot, win)
    started = time.monotonic()
    assert wait_finished(qtbot, win) == "succeeded"
    ended = time.monotonic()
    timer.stop()
    # The run's first and last moments block by design (validation and planning; the final repaint),
    # and take longer on a busy machine; what must never happen is a freeze while the nodes run.
    margin = (ended - started) / 10
    during = [t for t in ticks if started + margin <= t <= ended - margin]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert len(during) >= 5, "Qt's loop turned while the run went on"
    assert max(gaps) < 0.5, f"the window froze for {max(gaps):.2f} s while the nodes ran"
    assert sum(1 for s in states(win).values() if s == "succeeded") == width + 1
    assert win.runs.log_panel.model is not None and win.runs.log_panel.model.rowCount() > 2 * width

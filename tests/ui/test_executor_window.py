"""Where runs run, in the window: the workflow's executor set in the workflow panel (undoable), and F5
on a workflow that names a Dask cluster — its map items run on the cluster's workers, the status bar
says where the run runs, the Run data names the worker of each item, and an unreachable cluster is one
sentence with no run and no hang."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from support.dask_process import ClusterProcess, cluster_process
from support.wfbuild import node, workflow
from test_run_window import press_run, wait_finished

from flowdesk.model.workflow import Settings
from flowdesk.providers.settings import LLMSettings, save_settings
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.runs import cluster_runs
from flowdesk.ui.runs.cluster_runs import ClusterRuns

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterProcess]:
    with cluster_process() as running:  # out of this process: see dask_process.py
        yield running


def test_the_workflow_panel_sets_the_executor_through_undo(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.inspector.workflow
    assert panel.executor.currentData() == "app" and not panel.scheduler.isEnabled()
    panel.executor.setCurrentIndex(panel.executor.findData("cluster"))
    assert "type the Dask scheduler's address" in panel.message.text() and window.stack.count() == 0
    qtbot.keyClicks(panel.scheduler, "dask://sched.example.org:8786")
    qtbot.keyClick(panel.scheduler, Qt.Key.Key_Return)
    assert window.document.workflow.settings.executor == "dask://sched.example.org:8786"
    assert window.stack.count() == 1
    panel.executor.setCurrentIndex(panel.executor.findData("local"))
    assert window.document.workflow.settings.executor == "local" and not panel.scheduler.isEnabled()
    window.stack.undo()
    assert panel.executor.currentData() == "cluster" and panel.scheduler.text() == "dask://sched.example.org:8786"
    window.stack.undo()
    assert window.document.workflow.settings.executor is None and panel.executor.currentData() == "app"


def test_a_bad_scheduler_address_is_named_and_changes_nothing(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.inspector.workflow
    panel.executor.setCurrentIndex(panel.executor.findData("cluster"))
    qtbot.keyClicks(panel.scheduler, "sched:8786")
    qtbot.keyClick(panel.scheduler, Qt.Key.Key_Return)
    assert panel.message.text().startswith("Run on: an executor is 'local' or dask://HOST:PORT")
    assert window.document.workflow.settings.executor is None and window.stack.count() == 0


def _batch(executor: str) -> Any:
    return workflow(
        [
            node("src", "transform", expression="[1, 2, 3]"),
            node("each", "map", workflow="double", concurrency=3),
            node("out", "output", name="all"),
        ],
        ["src.output -> each.items", "each.results -> out.value"],
    ).model_copy(update={"id": "batch", "name": "batch", "settings": Settings(executor=executor)})


def _save_doubler(store: Store) -> None:
    child = workflow(
        [node("twice", "transform", expression="run.inputs.item * 2"), node("o", "output", name="value")],
        ["twice.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    ).model_copy(update={"id": "double", "name": "double"})
    store.workflows.save(child)


def _facts(win: MainWindow) -> dict[str, str]:
    record = win.runs.record
    out = {}
    for row in range(record.facts.rowCount()):
        label = record.facts.itemAt(row, record.facts.ItemRole.LabelRole).widget()
        field = record.facts.itemAt(row, record.facts.ItemRole.FieldRole).widget()
        assert isinstance(label, QLabel) and isinstance(field, QLabel)
        out[label.text()] = field.text()
    return out


def test_f5_on_a_cluster_runs_the_items_there_and_run_data_names_each_worker(
    qtbot: QtBot, run_window: MainWindow, run_store: Store, cluster: ClusterProcess
) -> None:
    _save_doubler(run_store)
    executor = cluster.scheduler_address.replace("tcp://", "dask://")
    win = run_window
    win.load(_batch(executor), "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: win.runs.shown is not None, timeout=TIMEOUT)
    assert win.runs.status_line.where.text() == f"on the Dask cluster at {executor} ·"
    assert f"started on the Dask cluster at {executor}" in win.statusBar().toolTip()
    assert wait_finished(qtbot, win) == "succeeded"
    assert win.runs.status_line.where.isVisible()
    _, outputs = run_store.runs.run_values(win.runs.shown)
    assert outputs == {"all": [{"value": 2}, {"value": 4}, {"value": 6}]}
    win.scene.select(["each"])
    record = win.runs.record
    items = [i for i, page in enumerate(record.pages) if page.item_run is not None]
    assert len(items) == 3
    workers = set(cluster.workers)
    for index in items:
        record.show_page(index)
        ran_on = _facts(win)["Ran on"]
        assert ran_on.startswith("Dask worker ") and ran_on.removeprefix("Dask worker ") in workers


def test_f5_on_an_unreachable_cluster_is_one_sentence_no_run_and_no_freeze(
    qtbot: QtBot, run_window: MainWindow, run_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_runs, "CONNECT_TIMEOUT_S", 1.5)
    _save_doubler(run_store)
    win = run_window
    win.load(_batch("dask://127.0.0.1:9"), "library")
    ticks = [0]
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    press_run(qtbot, win)
    assert win.runs.status_line.where.text() == "on the Dask cluster at dask://127.0.0.1:9 (connecting) ·"
    qtbot.waitUntil(lambda: win.runs.connecting is not None and win.runs.connecting.done(), timeout=TIMEOUT)
    timer.stop()
    said = win.statusBar().toolTip()  # the whole message (the bar may end a long one with "…")
    assert said.startswith("Cannot run on the Dask cluster: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert "\n" not in said and "Traceback" not in said
    assert ticks[0] >= 20  # the window went on painting while the port did not answer
    assert run_store.runs.list(limit=None) == [] and not win.runs.controller.running_ids()
    assert not win.runs.status_line.where.isVisible()


def test_a_workflow_that_does_not_say_uses_settings_execution_and_local_overrides_it() -> None:
    save_settings(LLMSettings(default_executor="dask://sched.example.org:8786"))
    assert ClusterRuns.executor_for(_batch("local")) is None
    unsaid = _batch("local").model_copy(update={"settings": Settings()})
    assert ClusterRuns.executor_for(unsaid) == "dask://sched.example.org:8786"
    assert ClusterRuns.executor_for(_batch("dask://other:1")) == "dask://other:1"
    save_settings(LLMSettings())
    assert ClusterRuns.executor_for(unsaid) is None


def test_resuming_a_stopped_cluster_run_goes_back_to_the_cluster(
    qtbot: QtBot, run_window: MainWindow, run_store: Store, cluster: ClusterProcess
) -> None:
    slow = workflow(
        [
            node("item", "transform", expression="run.inputs.item"),
            node("wait", "delay", seconds=0.3),
            node("o", "output", name="value"),
        ],
        ["item.output -> wait.value", "wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    ).model_copy(update={"id": "double", "name": "double"})  # the batch calls "double"
    run_store.workflows.save(slow)
    executor = cluster.scheduler_address.replace("tcp://", "dask://")
    win = run_window
    batch = _batch(executor)
    each = batch.node("each")
    assert each is not None
    one_at_a_time = each.model_copy(update={"config": {**each.config, "concurrency": 1}})
    win.load(batch.model_copy(update={"nodes": tuple(one_at_a_time if n.id == "each" else n for n in batch.nodes)}),
             "library")  # fmt: skip
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: win.runs.shown is not None, timeout=TIMEOUT)
    first = win.runs.shown

    def items_done() -> int:
        children = run_store.runs.list(parent_run_id=first, include_children=True, limit=None)
        return sum(c.status == "succeeded" for c in children)

    qtbot.waitUntil(lambda: items_done() >= 1, timeout=TIMEOUT)
    win.runs.stop()
    assert wait_finished(qtbot, win) == "cancelled"
    win.runs.resume_shown()
    assert win.runs.status_line.where.text() == f"on the Dask cluster at {executor} (connecting) ·"
    qtbot.waitUntil(lambda: win.runs.connecting is not None and win.runs.connecting.done(), timeout=TIMEOUT)
    assert wait_finished(qtbot, win) == "succeeded" and win.runs.shown == first
    _, outputs = run_store.runs.run_values(first)
    assert outputs == {"all": [{"value": 1}, {"value": 2}, {"value": 3}]}
    workers = set(cluster.workers)
    events = run_store.runs.events(first)
    ran = [e for e in events if e.type == "run_started" and e.parent_run_id == first]
    assert ran and all(e.worker in workers for e in ran)  # before and after the resume: on the cluster


def test_run_data_names_the_worker_of_a_remote_nodes_attempt(
    qtbot: QtBot, run_window: MainWindow, run_store: Store, cluster: ClusterProcess
) -> None:
    executor = cluster.scheduler_address.replace("tcp://", "dask://")
    sum_there = node("sum", "transform", expression="inputs.input | sum").model_copy(update={"remote": True})
    wf = workflow(
        [node("src", "transform", expression="[1, 2, 3]"), sum_there, node("out", "output", name="total")],
        ["src.output -> sum.input", "sum.output -> out.value"],
    ).model_copy(update={"id": "summing", "name": "summing", "settings": Settings(executor=executor)})
    win = run_window
    win.load(wf, "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: win.runs.shown is not None, timeout=TIMEOUT)
    assert wait_finished(qtbot, win) == "succeeded"
    win.scene.select(["sum"])
    ran_on = _facts(win).get("Ran on", "")
    assert ran_on.startswith("Dask worker ") and ran_on.removeprefix("Dask worker ") in set(cluster.workers)
    win.scene.select(["src"])
    assert "Ran on" not in _facts(win), "a node that ran here names no worker"

"""Deciding a recorded waiting run from the window continues it where its workflow runs: a workflow
that names a Dask cluster goes on there after the approval (as F5 and Resume do), not in the window's
own process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from support.dask_process import ClusterProcess, cluster_process
from support.wfbuild import node, workflow
from test_run_window import states, wait_finished

from flowdesk.model.workflow import Settings, Workflow
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterProcess]:
    with cluster_process() as running:  # out of this process: see dask_process.py
        yield running


def _approved_batch(executor: str) -> Workflow:
    """A person approves the items, then a map doubles each (on the workflow's cluster)."""
    return workflow(
        [
            node("src", "transform", expression="[1, 2, 3]"),
            node("ask", "approval", message="Send them?"),
            node("each", "map", workflow="double", concurrency=3),
            node("out", "output", name="all"),
        ],
        ["src.output -> ask.value", "ask.approved -> each.items", "each.results -> out.value"],
    ).model_copy(update={"id": "approved_batch", "name": "approved batch", "settings": Settings(executor=executor)})


def _save_doubler(store: Store) -> None:
    child = workflow(
        [node("twice", "transform", expression="run.inputs.item * 2"), node("o", "output", name="value")],
        ["twice.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    ).model_copy(update={"id": "double", "name": "double"})
    store.workflows.save(child)


def test_approving_a_recorded_waiting_run_continues_it_on_its_cluster(
    qtbot: QtBot, run_window: MainWindow, run_store: Store, cluster: ClusterProcess
) -> None:
    _save_doubler(run_store)
    executor = cluster.scheduler_address.replace("tcp://", "dask://")
    wf = _approved_batch(executor)
    run_store.workflows.save(wf)
    service = run_window.runs.controller.service
    started = service.start(wf, {}, workflow_version=1, suspend_on_wait=True)  # as `flowdesk run` does, unattended
    qtbot.waitUntil(started.handle.task.done, timeout=TIMEOUT)
    assert run_store.runs.get(started.run_id).status == "waiting"
    win = run_window
    win.open_workflow("approved_batch")
    win.runs.runs_panel.tree.setCurrentItem(win.runs.runs_panel.tree.topLevelItem(0))
    assert win.runs.shown == started.run_id and states(win)["ask"] == "waiting"
    win.scene.select(["ask"])
    qtbot.mouseClick(win.runs.record.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: started.run_id in win.runs.controller.live, timeout=TIMEOUT)  # connected, continued
    assert win.runs.status_line.where.text() == f"on the Dask cluster at {executor} ·"
    assert wait_finished(qtbot, win) == "succeeded"
    _, outputs = run_store.runs.run_values(started.run_id)
    assert outputs == {"all": [{"value": 2}, {"value": 4}, {"value": 6}]}
    items = [
        event
        for event in run_store.runs.events(started.run_id)
        if event.type == "run_started" and event.run_id != started.run_id
    ]
    assert len(items) == 3
    assert all(event.worker in cluster.workers for event in items), [event.worker for event in items]

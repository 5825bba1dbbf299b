"""Each run records where its map items, sub-workflows and remote nodes went: a Dask cluster's address, or
this computer; the Runs list says so (a continued or re-run run says where it went on)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store
from flowdesk.ui.runs.runs_panel import STATUS_MARK, RunsPanel
from flowdesk.ui.runs.trace import RunTrace

SCHEDULER = "tcp://scheduler.example.internal:8786"


class _Cluster:
    """A cluster connection that is asked for nothing here (the nodes all run on this computer)."""

    address = SCHEDULER

    def takes(self, workflow: Any, workflows: Any) -> bool:
        return False

    async def run(self, job: Any) -> Any:
        raise AssertionError("nothing was to go to the cluster")

    async def run_node(self, job: Any) -> Any:
        raise AssertionError("nothing was to go to the cluster")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


async def _run_here_and_there(store: Store, wf: Any) -> tuple[str, str]:
    """A run sent with a cluster connection, then a re-run of it from this computer alone."""
    calls: list[tuple[str, int, int]] = []
    on_cluster = RunService(store, catalog_with(calls), EngineServices(remote=_Cluster()))  # type: ignore[arg-type]
    here = RunService(store, catalog_with(calls), EngineServices())
    first = on_cluster.start(wf)
    assert first.handle is not None and (await first.handle.wait()).status == "succeeded"
    again = here.rerun(first.run_id, from_node="b")
    assert again.handle is not None and (await again.handle.wait()).status == "succeeded"
    return first.run_id, again.run_id


def test_a_run_records_the_cluster_it_used_and_a_rerun_where_it_went_on(store: Store, qtbot: QtBot) -> None:
    wf = workflow([node("a", "t.noop"), node("b", "t.noop")], ["a.output -> b.input"])
    store.workflows.save(wf)
    first, rerun = asyncio.run(_run_here_and_there(store, wf))
    assert store.runs.get(first).options["cluster"] == SCHEDULER
    assert store.runs.get(rerun).options["cluster"] is None

    panel = RunsPanel(store)
    qtbot.addWidget(panel)
    panel.show_workflow(wf.id)
    parent = panel.tree.topLevelItem(0)
    assert parent.text(0) == "✔ succeeded · on a cluster"
    assert f"ran with the Dask cluster at {SCHEDULER}" in parent.toolTip(0)
    child = parent.child(0)
    assert "cluster" not in child.text(0) + child.toolTip(0), "the re-run went on on this computer"
    live = RunTrace(run_id=first, status="running", started_at=time.time())
    panel.update_live(first, live)  # a row followed live keeps what it says after its status
    assert parent.text(0) == f"{STATUS_MARK['running']} running · on a cluster"

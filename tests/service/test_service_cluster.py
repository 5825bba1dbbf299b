"""The service honours a workflow's executor: a workflow whose settings name a Dask cluster runs its
remote work there when the service starts it, and an unreachable cluster fails only that run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest
from support.service_flows import wait_for_run
from support.service_thread import ServiceThread
from support.wfbuild import node, workflow

from flowdesk.model.fileformat import dumps_workflow
from flowdesk.store.store import open_store


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None, host="127.0.0.1", protocol="tcp://"
    ) as local:
        yield local


def _scoring(executor: str, wf_id: str) -> Any:
    wf = workflow(
        [node("b", "transform", expression="run.inputs.k * 6 + 1"), node("o", "output", name="score")],
        ["b.output -> o.value"],
        inputs=[{"name": "k", "type": "integer"}],  # type: ignore[list-item]
    )
    nodes = tuple(n.model_copy(update={"remote": n.id == "b"}) for n in wf.nodes)
    settings = wf.settings.model_copy(update={"executor": executor})
    return wf.model_copy(update={"id": wf_id, "name": wf_id, "nodes": nodes, "settings": settings})


def test_a_workflow_naming_a_cluster_runs_its_remote_node_there_from_the_service(library: Path, cluster: Any) -> None:
    address = cluster.scheduler_address.replace("tcp://", "dask://")
    with ServiceThread(library, limit=2) as service, service.client() as api:
        assert api.post("/api/workflows", content=dumps_workflow(_scoring(address, "wf_on_cluster"))).is_success
        run_id = api.post("/api/workflows/wf_on_cluster/runs", json={"inputs": {"k": 10}}).json()["run_id"]
        body = wait_for_run(api, run_id, timeout=60)
    assert body["status"] == "succeeded", body
    assert body["outputs"] == {"score": 61}
    store = open_store(library)
    try:
        done = [e for e in store.runs.events(run_id) if e.type == "node_succeeded" and e.node_id == "b"]
    finally:
        store.close()
    assert len(done) == 1 and done[0].worker in set(cluster.scheduler_info["workers"])


def test_an_unreachable_cluster_fails_that_run_in_one_sentence_and_the_service_goes_on(library: Path) -> None:
    with ServiceThread(library, limit=1) as service, service.client() as api:
        assert api.post(
            "/api/workflows", content=dumps_workflow(_scoring("dask://127.0.0.1:9", "wf_nowhere"))
        ).is_success
        lost = api.post("/api/workflows/wf_nowhere/runs", json={"inputs": {"k": 1}}).json()["run_id"]
        fine = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}}).json()["run_id"]
        failed = wait_for_run(api, lost, timeout=60)
        assert wait_for_run(api, fine, timeout=60)["status"] == "succeeded"
    assert failed["status"] == "failed"
    message = failed["error"]["message"] if isinstance(failed.get("error"), dict) else str(failed.get("error"))
    assert "127.0.0.1:9" in message and "Traceback" not in message

"""A service killed (SIGKILL) mid-run resumes its runs when it starts again; finished nodes are not run again."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from support.service_flows import slow_chain, wait_for_run
from support.service_process import ServiceProcess

from flowdesk.store.store import open_store


def wait_until(api: httpx.Client, run_id: str, running: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while api.get(f"/api/runs/{run_id}").json()["running_nodes"] != [running]:
        assert time.monotonic() < deadline, f"run {run_id} never reached {running}"
        time.sleep(0.02)


@pytest.mark.slow
def test_runs_resume_after_the_service_is_killed_twice(library: Path) -> None:
    store = open_store(library)
    store.workflows.save(slow_chain(1.0, "wf_kill", "kill me"))
    store.close()
    service = ServiceProcess(library, limit=1).start()
    try:
        with service.client() as api:
            run_id = api.post("/api/workflows/wf_kill/runs", json={"inputs": {"text": "survive"}}).json()["run_id"]
            queued = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "later"}}).json()["run_id"]
            wait_until(api, run_id, "second")  # 'first' has finished
        service.kill()
        service.start()
        with service.client() as api:
            wait_until(api, run_id, "second")  # resumed: 'first' is not run again
            assert api.get(f"/api/runs/{queued}").json()["status"] == "queued"  # still waiting its turn
        service.kill()
        service.start()
        with service.client() as api:
            done = wait_for_run(api, run_id, ("succeeded", "failed"), timeout=30)
            assert done["status"] == "succeeded" and done["outputs"] == {"result": {"text": "survive"}}
            assert wait_for_run(api, queued, timeout=30)["status"] == "succeeded"  # the queued one too
    finally:
        service.stop()
    store = open_store(library)
    try:
        steps = store.runs.steps(run_id)
        assert store.runs.get(run_id).segment == 2
    finally:
        store.close()
    ran = [(s.node_id, s.segment) for s in steps if s.source == "run" and s.status != "interrupted"]
    assert [node for node, _ in ran].count("first") == 1  # run once, in the first service
    assert ("second", 2) in ran and [node for node, _ in ran].count("second") == 1
    interrupted = [(s.node_id, s.segment) for s in steps if s.status == "interrupted"]
    assert interrupted == [("second", 0), ("second", 1)]

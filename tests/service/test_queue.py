"""The run queue: one limit across runs, queued runs visible and cancellable, the inbox with retry and resume."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from support.service_flows import slow_chain, wait_for_run
from support.service_thread import ServiceThread
from support.wfbuild import node, workflow

from flowdesk.model.fileformat import dumps_workflow
from flowdesk.store.queue import QueueStore
from flowdesk.store.store import open_store


def test_the_limit_holds_across_workflows_and_waiting_runs_show_as_queued(library: Path) -> None:
    with ServiceThread(library, limit=1) as service, service.client() as api:
        api.post("/api/workflows", content=dumps_workflow(slow_chain(0.15, "wf_other", "other")))
        ids = [api.post(f"/api/workflows/{wf}/runs", json={"inputs": {"text": wf}}).json()["run_id"]
               for wf in ("wf_slow", "wf_other", "wf_slow")]  # fmt: skip
        statuses = [api.get(f"/api/runs/{run_id}").json()["status"] for run_id in ids]
        assert statuses[1:] == ["queued", "queued"]
        assert api.get("/api/runs", params={"status": "queued"}).json()["runs"] != []
        assert api.get("/health").json()["queued"] >= 1
        runs = [wait_for_run(api, run_id) for run_id in ids]
    assert [r["status"] for r in runs] == ["succeeded"] * 3
    spans = sorted((r["started_at"], r["finished_at"]) for r in runs)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end  # one at a time, in the order given
    assert [r["id"] for r in sorted(runs, key=lambda r: r["started_at"])] == ids


def test_a_queued_run_is_cancelled_before_it_starts(library: Path) -> None:
    with ServiceThread(library, limit=1) as service, service.client() as api:
        first = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "a"}}).json()["run_id"]
        second = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "b"}}).json()["run_id"]
        assert api.post(f"/api/runs/{second}/cancel").json()["result"] == "cancelled"
        assert wait_for_run(api, first)["status"] == "succeeded"
        cancelled = api.get(f"/api/runs/{second}").json()
        assert cancelled["status"] == "cancelled" and cancelled["started_at"] is None
        assert api.post(f"/api/runs/{second}/cancel").status_code == 409


def failing() -> object:
    wf = workflow([node("start", "start"), node("boom", "transform", expression="inputs.input.missing.deeper"),
                   node("out", "output", name="result")],
                  ["start.inputs -> boom.input", "boom.output -> out.value"])  # fmt: skip
    return wf.model_copy(update={"id": "wf_fails", "name": "fails"})


def test_a_failed_run_lands_in_the_inbox_and_is_retried_from_there(service: ServiceThread, library: Path) -> None:
    with service.client() as api:
        assert api.post("/api/workflows", content=dumps_workflow(failing())).status_code == 201
        run_id = api.post("/api/workflows/wf_fails/runs", json={}).json()["run_id"]
        assert wait_for_run(api, run_id)["status"] == "failed"
        time.sleep(0.1)  # the queue closes its entry after the run's end is recorded
        store = open_store(library)
        try:
            inbox = QueueStore(store.db).inbox()
            assert [(i.run.id, i.trigger) for i in inbox] == [(run_id, "api")]
        finally:
            store.close()
        retried = api.post(f"/api/runs/{run_id}/retry")
        assert retried.status_code == 201
        new_id = retried.json()["run_id"]
        assert new_id != run_id and wait_for_run(api, new_id)["status"] == "failed"
        time.sleep(0.1)
        store = open_store(library)
        try:
            assert [i.run.id for i in QueueStore(store.db).inbox()] == [new_id]  # the first one was dealt with
            assert store.runs.get(new_id).options["retry_of"] == run_id
        finally:
            store.close()


def test_a_waiting_run_is_in_the_inbox_until_decided(service: ServiceThread, library: Path) -> None:
    with service.client() as api:
        run_id = api.post("/api/workflows/wf_approve/runs", json={"inputs": {"text": "x"}}).json()["run_id"]
        assert wait_for_run(api, run_id)["status"] == "waiting"
        store = open_store(library)
        try:
            assert [i.run.id for i in QueueStore(store.db).inbox()] == [run_id]
        finally:
            store.close()
        decided = api.post(f"/api/runs/{run_id}/approve", json={"node_id": "ok", "approved": False})
        assert decided.status_code == 200, decided.text
        assert wait_for_run(api, run_id, ("succeeded", "failed"))["status"] == "succeeded"
        store = open_store(library)
        try:
            assert QueueStore(store.db).inbox() == []
        finally:
            store.close()

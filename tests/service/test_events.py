"""The run's server-sent events: live, to the run's end, resumable, and for runs of other processes too."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from support.service_flows import slow_chain
from support.service_thread import ServiceThread

from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import default_registry
from flowdesk.store.running import RunService
from flowdesk.store.store import open_store


def read_stream(api: httpx.Client, run_id: str, last_event_id: str | None = None) -> list[tuple[str, str, dict]]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[tuple[str, str, dict]] = []
    with api.stream("GET", f"/api/runs/{run_id}/events", headers=headers, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        current: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if current:
                    events.append((current.get("id", ""), current["event"], json.loads(current["data"])))
                current = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(": ")
                current[field] = value
    return events


def test_a_run_streams_to_its_end(api: httpx.Client) -> None:
    run_id = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}}).json()["run_id"]
    events = read_stream(api, run_id)  # from the moment it is queued: the stream waits for it
    kinds = [kind for _, kind, _ in events]
    assert kinds[0] == "run_started" and kinds[-2:] == ["run_finished", "end"]
    assert events[-1][2] == {"status": "succeeded"}
    succeeded = [data["node_id"] for _, kind, data in events if kind == "node_succeeded"]
    assert sorted(succeeded) == ["first", "out", "second", "start"]
    first = next(data for _, kind, data in events if kind == "node_succeeded" and data["node_id"] == "first")
    assert first["outputs"] == {"value": {"text": "x"}}  # values put back, not the journal's hashes
    ids = [event_id for event_id, kind, _ in events if kind != "end"]
    assert len(set(ids)) == len(ids)


def test_a_stream_resumes_after_the_last_event_id(api: httpx.Client) -> None:
    run_id = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}}).json()["run_id"]
    whole = read_stream(api, run_id)
    cut = whole[3][0]
    rest = read_stream(api, run_id, last_event_id=cut)
    assert [e[0] for e in rest] == [e[0] for e in whole[4:]]
    assert [e[1] for e in rest] == [e[1] for e in whole[4:]]


def test_a_bad_last_event_id_is_refused(api: httpx.Client) -> None:
    run_id = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}}).json()["run_id"]
    refused = api.get(f"/api/runs/{run_id}/events", headers={"Last-Event-ID": "yesterday"})
    assert refused.status_code == 400 and "SEQ:INDEX" in refused.json()["detail"]
    assert api.get("/api/runs/nope/events").status_code == 404


def test_a_run_of_another_process_streams_from_the_library(library: Path, service: ServiceThread) -> None:
    async def run_elsewhere() -> str:
        store = open_store(library)
        try:
            started = RunService(store, default_registry(), EngineServices()).start(
                slow_chain(), {"text": "elsewhere"}, workflow_version=1
            )
            assert started.handle is not None
            await started.handle.wait()
            return started.run_id
        finally:
            store.close()

    run_id = asyncio.run(run_elsewhere())
    with service.client() as api:
        events = read_stream(api, run_id)
    assert events[-1][1:] == ("end", {"status": "succeeded"})
    assert any(kind == "node_succeeded" and data["node_id"] == "second" for _, kind, data in events)

"""Live server-sent events of the service's own runs: fed batch by batch as the run is journaled, each
event with the place and data it has in the journal; resumable mid-run with Last-Event-ID; a client that
stops reading neither stalls the run nor loses events (it is given what it missed from the journal)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service.test_events import read_stream
from support.service_flows import item_loop, wait_for_run
from support.service_thread import ServiceThread

from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import default_registry
from flowdesk.service.sse import run_stream
from flowdesk.store import live_feed
from flowdesk.store.journal_follow import JournalFollower
from flowdesk.store.live_feed import LiveFeed
from flowdesk.store.running import RunService
from flowdesk.store.store import open_store

Event = tuple[str, str, dict[str, Any]]


class Followed(list[str]):
    """The runs a stream of the service followed live (not by polling the journal), and the feed it used."""

    feed: LiveFeed | None = None


@pytest.fixture
def followed(monkeypatch: pytest.MonkeyPatch) -> Followed:
    runs = Followed()
    follow = LiveFeed.follow

    def spy(self: LiveFeed, run_id: str, maxsize: int | None = None) -> Any:
        runs.append(run_id)
        runs.feed = self
        return follow(self, run_id, maxsize)

    monkeypatch.setattr(LiveFeed, "follow", spy)
    return runs


@pytest.fixture
def items_service(library: Path) -> Iterator[ServiceThread]:
    store = open_store(library)
    try:
        store.workflows.save(item_loop(12, seconds=0.1, concurrency=2, wf_id="wf_paced"))
        store.workflows.save(item_loop(300, wf_id="wf_many"))
    finally:
        store.close()
    with ServiceThread(library, limit=2) as running:
        yield running


def test_a_live_stream_has_the_journals_places_and_data(items_service: ServiceThread, followed: Followed) -> None:
    with items_service.client() as api:
        run_id = api.post("/api/workflows/wf_paced/runs", json={}).json()["run_id"]
        live = read_stream(api, run_id)  # connected while the run is queued or running: followed live
        assert followed == [run_id]
        again = read_stream(api, run_id)  # the finished run: from the journal alone
    assert followed == [run_id]
    assert live == again  # the same ids (places), types and data, the results' output values included
    assert live[-1][1:] == ("end", {"status": "succeeded"})
    collected = [data for _, kind, data in live if kind == "node_succeeded" and data["node_id"] == "c"]
    assert collected[-1]["outputs"] == {"results": list(range(12))}
    assert sum(kind == "node_succeeded" and data["node_id"] == "wait" for _, kind, data in live) == 12


def test_a_live_stream_resumes_mid_run_after_its_last_event_id(items_service: ServiceThread) -> None:
    with items_service.client() as api:
        run_id = api.post("/api/workflows/wf_paced/runs", json={}).json()["run_id"]
        first = read_until(api, run_id, lambda kind, data: kind == "node_succeeded" and data["node_id"] == "wait")
        assert api.get(f"/api/runs/{run_id}").json()["status"] == "running"  # cut mid-run
        rest = read_stream(api, run_id, last_event_id=first[-1][0])
        whole = read_stream(api, run_id)
    assert first + rest == whole  # nothing twice, nothing missing
    assert len(rest) > len(first)


def test_a_client_that_stops_reading_does_not_stall_the_run(
    items_service: ServiceThread, monkeypatch: pytest.MonkeyPatch, followed: Followed
) -> None:
    monkeypatch.setattr(live_feed, "FOLLOWER_BUFFER", 2)  # falls behind after two batches
    with items_service.client() as api, items_service.client() as watcher:
        run_id = api.post("/api/workflows/wf_many/runs", json={}).json()["run_id"]
        with api.stream("GET", f"/api/runs/{run_id}/events", timeout=30) as response:
            lines = response.iter_lines()
            head = [next(lines) for _ in range(4)]  # the first event, then no more reading for now
            assert wait_for_run(watcher, run_id, timeout=60)["status"] == "succeeded"  # the run went on
            got = parse(head + list(lines))
        whole = read_stream(api, run_id)
    assert followed == [run_id]
    assert got == whole


def test_a_client_that_leaves_mid_run_is_forgotten(items_service: ServiceThread, followed: Followed) -> None:
    with items_service.client() as api:
        run_id = api.post("/api/workflows/wf_paced/runs", json={}).json()["run_id"]
        read_until(api, run_id, lambda kind, data: kind == "node_succeeded" and data["node_id"] == "wait")
        assert api.get(f"/api/runs/{run_id}").json()["status"] == "running"  # it left mid-run
        wait_for_run(api, run_id)
    assert followed == [run_id] and followed.feed is not None
    assert not followed.feed.wants(run_id)  # its buffer went with it: the run's batches are built for nobody


def test_a_follower_that_falls_behind_gets_the_missed_batches_from_the_journal(private_library: Path) -> None:
    """The stream itself, not read while the run runs: its two-batch buffer overflows; read after, it is whole."""
    taken: list[Any] = []

    async def scenario() -> tuple[list[bytes], str]:
        store = open_store(private_library)
        try:
            store.workflows.save(item_loop(40, wf_id="wf_forty"))
            runs = RunService(store, default_registry(), EngineServices())
            runs.live = LiveFeed()
            started = runs.start(store.workflows.load("wf_forty"), {}, workflow_version=1)
            assert started.handle is not None
            stream = run_stream(Connected(), JournalFollower(store.db, started.run_id), Following(runs.live, taken))
            chunks = [await anext(stream)]  # the journal so far; then it follows live
            await started.handle.wait()  # meanwhile nobody reads the stream
            chunks += [chunk async for chunk in stream]
            return chunks, started.run_id
        finally:
            store.close()

    chunks, run_id = asyncio.run(scenario())
    assert taken and taken[0].dropped_total > 0  # it fell behind
    streamed = parse(b"".join(chunks).decode().split("\n"))
    recorded = journal_all(private_library, run_id)
    assert [(event_id, kind) for event_id, kind, _ in streamed[:-1]] == recorded
    assert streamed[-1][1:] == ("end", {"status": "succeeded"})


class Connected:
    """A request whose client stays connected (what the stream asks of Starlette's request)."""

    async def is_disconnected(self) -> bool:
        return False


class Following(LiveFeed):
    """The run's live feed with a two-batch buffer per follower, keeping the subscriptions it gave."""

    def __init__(self, feed: LiveFeed, taken: list[Any]) -> None:
        self.feed = feed
        self.taken = taken

    def follow(self, run_id: str, maxsize: int | None = None) -> Any:
        subscription = self.feed.follow(run_id, 2)
        self.taken.append(subscription)
        return subscription

    def unfollow(self, run_id: str, subscription: Any) -> None:
        self.feed.unfollow(run_id, subscription)


def journal_all(library: Path, run_id: str) -> list[tuple[str, str]]:
    store = open_store(library)
    try:
        batch = JournalFollower(store.db, run_id).read_json(limit=100_000)
        return [(str(place), event["type"]) for place, event in batch.events]
    finally:
        store.close()


def read_until(api: httpx.Client, run_id: str, stop: Any) -> list[Event]:
    """The stream's events up to the first one ``stop(kind, data)`` picks; then the connection is closed."""
    lines: list[str] = []
    with api.stream("GET", f"/api/runs/{run_id}/events", timeout=30) as response:
        for line in response.iter_lines():
            lines.append(line)
            if line.startswith("data: ") and stop(lines[-2].partition(": ")[2], json.loads(line[6:])):
                break
    return parse([*lines, ""])


def parse(lines: list[str]) -> list[Event]:
    events: list[Event] = []
    current: dict[str, str] = {}
    for line in lines:
        if line == "":
            if current:
                events.append((current.get("id", ""), current["event"], json.loads(current["data"])))
            current = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            current[field] = value
    return events

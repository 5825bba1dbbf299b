"""One truth for a run: the read model folded live equals the one reopened from the library.

Every example and every engine regression case runs recorded; the events a live listener folded
and the events the journal replays must give the same picture: node and pass states, attempt
spans, usage, log lines word for word.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowdesk.engine import runner
from flowdesk.engine.bus import EventBus
from flowdesk.engine.readmodel import NodeState, RunView
from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import read_workflow
from flowdesk.nodes.registry import default_registry
from flowdesk.nodes.tools import default_tools
from flowdesk.paths import examples_dir
from flowdesk.providers.resolver import default_providers
from flowdesk.store.recorder import RunRecorder
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store

REGRESSIONS = Path(__file__).resolve().parents[1] / "engine" / "regressions"
EXAMPLES = [p for p in sorted(examples_dir().glob("*.json")) if p.stem != "summarise_document"]
EXAMPLE_INPUTS: dict[str, dict[str, Any]] = {
    "ask_llm": {"question": "Why keep a journal?"},
    "code_review_loop": {"code": "def f(x): return x+1"},
    "feed_discovery": {"topic": "sqlite"},
    "parallel_summaries": {"documents": ["one text", "another text", "a third"]},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


def assert_same(live: RunView, reopened: RunView) -> None:
    a, b = live.picture(), reopened.picture()
    for key in a:
        assert a[key] == b[key], f"{key} differ between the live view and the reopened one"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_reopened_reads_as_it_did_live(path: Path, store: Store, tmp_path: Path) -> None:
    shutil.copytree(examples_dir() / "data", tmp_path / "data")
    for sub in examples_dir().glob("*.json"):
        store.workflows.save(read_workflow(sub))
    workflow = read_workflow(path)
    services = EngineServices(providers=default_providers(), tools=default_tools(), files_root=tmp_path / "data")
    service = RunService(store, default_registry(), services)

    async def go() -> tuple[str, RunView]:
        bus = EventBus()
        subscription = bus.subscribe(maxsize=1_000_000)
        started = service.start(
            workflow, EXAMPLE_INPUTS.get(path.stem, {}), bus=bus, decisions={"approve": (True, "fine")}
        )
        assert started.handle is not None
        result = await started.handle.wait()
        assert result.status == "succeeded", result.error
        live = RunView(started.run_id)
        for event in subscription.drain():
            live.apply(event)
        return started.run_id, live

    run_id, live = asyncio.run(go())
    reopened = store.runs.view(run_id)
    assert_same(live, reopened)
    assert reopened.status == "succeeded" and reopened.lines and reopened.spans
    for node_id, node in reopened.nodes.items():  # a branch that lost a race is cancelled, and says why
        lost = node.status == NodeState.CANCELLED and reopened.passes[(node_id, 0)].note.startswith("lost the race")
        assert node.status in (NodeState.SUCCEEDED, NodeState.SKIPPED) or lost, node_id


class _Tee:
    """Their journal first (some cases make it fail on purpose), the library's recorder after."""

    def __init__(self, theirs: Any, recorder: RunRecorder) -> None:
        self.theirs, self.recorder = theirs, recorder

    def record(self, event: Any) -> None:
        self.theirs.record(event)
        self.recorder.record(event)

    async def commit(self) -> None:
        await self.theirs.commit()
        await self.recorder.commit()


def _regression_cases() -> list[Any]:
    sys.path.insert(0, str(REGRESSIONS))
    cases = []
    for path in sorted(REGRESSIONS.glob("test_regress_*.py")):
        module = importlib.import_module(path.stem)
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("test_") and func.__module__ == module.__name__:
                cases.append(pytest.param(module, func, id=f"{path.stem[13:]}::{name[5:]}"))
    return cases


@pytest.mark.parametrize(("module", "case"), _regression_cases())
def test_a_regression_case_reopened_reads_as_it_did_live(
    module: Any, case: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each case runs as its test does; every top-level run it starts is also recorded and listened to."""
    original = runner.start_run
    service = RunService(store, default_registry(), EngineServices())
    followed: list[tuple[str, Any]] = []

    def recorded_start(workflow: Any, catalog: Any, services: Any, inputs: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("parent_run_id") is not None:  # a sub-run: journaled with its parent
            return original(workflow, catalog, services, inputs, **kwargs)
        run_id = kwargs.pop("run_id", None) or runner.new_run_id()
        service._insert_run(run_id, workflow, {}, source="test", version=None, key=None, options={})
        recorder = RunRecorder(store.db, run_id, owner=store.owner.token)
        theirs = kwargs.pop("journal", None)
        bus = kwargs.pop("bus", None) or EventBus()
        followed.append((run_id, bus.subscribe(maxsize=1_000_000)))
        journal = recorder if theirs is None else _Tee(theirs, recorder)
        return original(workflow, catalog, services, inputs, run_id=run_id, journal=journal, bus=bus, **kwargs)

    monkeypatch.setattr(runner, "start_run", recorded_start)
    monkeypatch.setattr(module, "start_run", recorded_start, raising=False)
    case()
    compared = 0
    for run_id, subscription in followed:
        live = RunView(run_id)
        for event in subscription.drain():
            live.apply(event)
        if live.finished:  # (a case may leave a run unfinished on purpose, to check it does not hang)
            assert_same(live, store.runs.view(run_id))
            compared += 1
    assert compared, "the case finished no run to compare"


def test_a_run_recorded_before_the_library_kept_events_reopens_from_its_steps(store: Store) -> None:
    """Libraries upgraded from schema 2 hold runs with step rows only: they still show each node's end."""
    from support.wfbuild import catalog_with, node, workflow

    wf = workflow(
        [node("a", "t.noop"), node("b", "t.flaky", fail_times=1, retry={"max_attempts": 2, "initial_delay_s": 0.0}),
         node("c", "condition", expression="false"), node("d", "t.noop")],
        ["a.output -> b.input", "b.output -> c.value", "c.true -> d.input"],
    )  # fmt: skip
    service = RunService(store, catalog_with([]), EngineServices())

    async def go() -> tuple[str, RunView]:
        bus = EventBus()
        subscription = bus.subscribe()
        store.workflows.save(wf)
        started = service.start(wf, bus=bus)
        assert started.handle is not None
        await started.handle.wait()
        return started.run_id, RunView.replay(started.run_id, subscription.drain())

    run_id, live = asyncio.run(go())
    with store.db.write() as conn:
        conn.exec_driver_sql("DELETE FROM run_event")
    old = store.runs.view(run_id)
    assert {k: n.status for k, n in old.nodes.items()} == {k: n.status for k, n in live.nodes.items()}
    assert [(s.node_id, s.attempt, s.status) for s in old.spans] == [
        (s.node_id, s.attempt, s.status) for s in live.spans
    ]
    assert old.status == "succeeded" and old.passes[("d", 0)].note.startswith("no value arrived")


def test_a_resumed_run_followed_live_reads_as_it_does_reopened(store: Store) -> None:
    """The window follows a resumed run from its record on: what the resume replays is not shown twice."""
    from support.wfbuild import catalog_with, node, workflow

    calls: list[tuple[str, int, int]] = []
    wf = workflow(
        [node("a", "t.noop"), node("b", "t.sleep", seconds=0.2), node("c", "t.noop")],
        ["a.output -> b.input", "b.output -> c.input"],
    )
    service = RunService(store, catalog_with(calls), EngineServices())

    async def go() -> tuple[str, RunView]:
        store.workflows.save(wf)
        started = service.start(wf)
        assert started.handle is not None
        while ("b", 0, 1) not in calls:
            await asyncio.sleep(0.005)
        started.handle.cancel()
        await started.handle.wait()
        live = store.runs.view(started.run_id)  # as the window starts following a resumed run
        bus = EventBus()
        subscription = bus.subscribe()
        result = await service.resume(started.run_id, bus=bus).wait()
        assert result.status == "succeeded"
        for event in subscription.drain():
            live.apply(event)
        return started.run_id, live

    run_id, live = asyncio.run(go())
    assert_same(live, store.runs.view(run_id))
    assert {k: n.status for k, n in live.nodes.items()} == dict.fromkeys("abc", "succeeded")
    assert sum(1 for line in live.lines if line.node_id == "a" and line.kind == "node_succeeded") == 1


def test_the_run_of_the_issue_retry_error_port_and_skip_reads_the_same_reopened(store: Store) -> None:
    """A retry, an error sent on through the error port and a skipped node: once 13 lines live and 10
    reopened, in other words, and a bar on the timeline for the node that never ran."""
    from support.wfbuild import catalog_with, node, workflow

    wf = workflow(
        [
            node("a", "t.flaky", fail_times=1, retry={"max_attempts": 2, "initial_delay_s": 0.0}),
            node("b", "t.flaky", fail_times=9, on_error="continue"),
            node("handled", "t.noop"),
            node("result", "t.noop"),
        ],
        ["a.output -> b.input", "b.error -> handled.input", "b.output -> result.input"],
    )
    service = RunService(store, catalog_with([]), EngineServices())

    async def go() -> tuple[str, RunView]:
        bus = EventBus()
        subscription = bus.subscribe()
        store.workflows.save(wf)
        started = service.start(wf, bus=bus)
        assert started.handle is not None
        assert (await started.handle.wait()).status == "succeeded"
        return started.run_id, RunView.replay(started.run_id, subscription.drain())

    run_id, live = asyncio.run(go())
    reopened = store.runs.view(run_id)
    assert_same(live, reopened)
    result = [line.text for line in reopened.lines if line.node_id == "result"]
    assert result == ["skipped: no value arrived on 'input' ('b'.output did not fire)"]
    assert not [span for span in reopened.spans if span.node_id == "result"]
    assert [line.text for line in reopened.lines if line.node_id == "b"][-1].startswith(
        "FAILED (sent to its error port)"
    )


def test_a_run_whose_process_died_reopens_as_interrupted(tmp_path: Path) -> None:
    """The window offers Resume by the reopened run's state; a dead process's run must not read 'running'."""
    from support.wfbuild import catalog_with, node, workflow

    store = open_store(tmp_path / "lib.db")
    calls: list[tuple[str, int, int]] = []
    wf = workflow([node("a", "t.noop"), node("b", "t.sleep", seconds=30)], ["a.output -> b.input"])

    async def go() -> str:
        store.workflows.save(wf)
        started = RunService(store, catalog_with(calls), EngineServices()).start(wf)
        assert started.handle is not None
        while ("b", 0, 1) not in calls:
            await asyncio.sleep(0.005)
        for _ in range(100):  # until the journal holds b's start
            if getattr(store.runs.view(started.run_id).nodes.get("b"), "status", "") == "running":
                break
            await asyncio.sleep(0.01)
        with sqlite3.connect(tmp_path / "copy.db") as copy:  # the library as a process killed now leaves it
            store.db.raw().backup(copy)
        started.handle.cancel()
        await started.handle.wait()
        return started.run_id

    run_id = asyncio.run(go())
    store.close()  # its owner (this process, in the copy too) goes with this store: the copy's run is a dead one
    other = open_store(tmp_path / "copy.db")
    try:
        view = other.runs.view(run_id)
    finally:
        other.close()
    assert view.status == "interrupted"
    assert view.nodes["a"].status == "succeeded" and view.nodes["b"].status == "interrupted"
    assert [s.status for s in view.spans if s.node_id == "b"] == ["interrupted"]
    assert view.lines[-1].text == "run interrupted: the process running it stopped"

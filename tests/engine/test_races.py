"""Control calls that cross each other, and the durability barrier of the journal."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from typing import Any

import pytest
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.events import NodeStarted, NodeSucceeded
from flowdesk.engine.journal import MemoryJournal
from flowdesk.engine.runner import run_workflow, start_run
from flowdesk.engine.services import EngineServices

Calls = list[tuple[str, int, int]]


@pytest.fixture
def calls() -> Calls:
    return []


async def _until(pred: Any, timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        assert loop.time() < end
        await asyncio.sleep(0.002)


def _approval_and_work() -> Any:
    return workflow(
        [node("ask", "approval", message="go?"), node("work", "t.sleep", seconds=0.1), node("after", "t.noop")],
        ["ask.approved -> after.input"],
    )


def test_cancel_while_paused_ends_cancelled(calls: Calls) -> None:
    async def go() -> Any:
        wf = workflow([node("a", "t.sleep", seconds=0.05), node("b", "t.noop")], ["a.output -> b.input"])
        handle = start_run(wf, catalog_with(calls), EngineServices())
        handle.pause()
        await asyncio.sleep(0.1)
        handle.cancel()
        return await handle.wait()

    result = asyncio.run(go())
    assert result.status == "cancelled" and result.node_status["b"] != "succeeded"


def test_cancel_while_waiting_for_approval_and_late_decisions_are_refused(calls: Calls) -> None:
    async def go() -> tuple[Any, bool]:
        handle = start_run(_approval_and_work(), catalog_with(calls), EngineServices())
        await _until(lambda: handle.waiting_for == ["ask"])
        handle.cancel()
        result = await handle.wait()
        return result, handle.approve("ask")

    result, late = asyncio.run(go())
    assert result.status == "cancelled" and late is False


def test_decision_twice_counts_once_and_pause_holds_the_approved_branch(calls: Calls) -> None:
    async def go() -> Any:
        handle = start_run(_approval_and_work(), catalog_with(calls), EngineServices())
        await _until(lambda: handle.waiting_for == ["ask"])
        handle.pause()
        assert handle.approve("ask") is True
        assert handle.reject("ask") is False
        await asyncio.sleep(0.15)
        assert handle.node_status["after"] == "queued"  # paused: approved, but nothing new starts
        handle.resume()
        return await handle.wait()

    result = asyncio.run(go())
    assert result.ok and result.node_status["after"] == "succeeded"


def test_step_then_cancel_at_a_breakpoint(calls: Calls) -> None:
    async def go() -> Any:
        wf = workflow(
            [node("a", "t.noop", breakpoint=True), node("b", "t.noop", breakpoint=True)], ["a.output -> b.input"]
        )
        handle = start_run(wf, catalog_with(calls), EngineServices())
        await _until(lambda: handle.status == "paused")
        handle.resume()
        await _until(lambda: handle.status == "paused" and handle.node_status["a"] == "succeeded")
        handle.cancel()
        return await handle.wait()

    result = asyncio.run(go())
    assert result.status == "cancelled" and [c[0] for c in calls] == ["a"]


def test_failure_while_others_wait_for_approval_fails_the_run(calls: Calls) -> None:
    wf = workflow([node("ask", "approval"), node("bad", "t.flaky", fail_times=1)])
    result = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices()))
    assert result.status == "failed" and "bad" in result.error.message


class CheckingJournal(MemoryJournal):
    """Notes, at each node start, every upstream success not yet committed; its commits take time."""

    def __init__(self, parents: dict[str, list[str]]) -> None:
        super().__init__()
        self.parents = parents
        self.violations: list[str] = []

    def record(self, event: Any) -> None:
        if isinstance(event, NodeStarted):
            committed = {e.node_id for e in self.events[: self.committed] if isinstance(e, NodeSucceeded)}
            for parent in self.parents.get(event.node_id, ()):
                if parent not in committed:
                    self.violations.append(f"{event.node_id} started before {parent} was committed")
        super().record(event)

    async def commit(self) -> None:
        await asyncio.sleep(0.001)  # a real disk takes time; successors must wait for it
        await super().commit()


def test_results_are_committed_before_any_successor_starts(calls: Calls) -> None:
    wf = workflow(
        [node(n, "t.noop") for n in "abcd"], ["a.output -> b.input", "a.output -> c.input", "b.output -> d.input"]
    )
    journal = CheckingJournal({"b": ["a"], "c": ["a"], "d": ["b"]})
    result = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(), journal=journal))
    assert result.ok
    assert journal.violations == []
    assert journal.committed == len(journal.events) and journal.commits >= 3


def _chain(n: int) -> tuple[list[str], Any]:
    names = [f"n{i}" for i in range(n)]
    return names, workflow([node(x, "t.noop") for x in names], [f"{a}.output -> {b}.input" for a, b in pairwise(names)])


def test_a_chain_commits_each_result_before_the_next_node_starts(calls: Calls) -> None:
    """A chain's node commits in its own task and runs the next node there: the barrier still holds."""
    names, wf = _chain(8)
    journal = CheckingJournal({b: [a] for a, b in pairwise(names)})
    result = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(), journal=journal))
    assert result.ok and [c[0] for c in calls] == names
    assert journal.violations == []
    assert journal.committed == len(journal.events) and journal.commits >= len(names)


def test_a_chain_cancelled_while_a_result_commits_starts_nothing_more(calls: Calls) -> None:
    names, wf = _chain(50)

    async def go() -> Any:
        journal = CheckingJournal({})
        handle = start_run(wf, catalog_with(calls), EngineServices(), journal=journal)
        await _until(lambda: journal.commits >= 5, timeout=5.0)
        handle.cancel()
        return await handle.wait(), journal

    result, journal = asyncio.run(go())
    assert result.status == "cancelled"
    ran = len(calls)
    assert 5 <= ran < len(names)
    assert journal.committed == len(journal.events)  # the run's end reached the journal too

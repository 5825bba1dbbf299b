"""Control calls that cross each other, and the durability barrier of the journal."""

from __future__ import annotations

import asyncio
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


def test_results_are_committed_before_any_successor_starts(calls: Calls) -> None:
    class CheckingJournal(MemoryJournal):
        """Asserts, at each node start, that every upstream success is already committed."""

        violations: list[str] = []

        def record(self, event: Any) -> None:
            if isinstance(event, NodeStarted):
                committed = {e.node_id for e in self.events[: self.committed] if isinstance(e, NodeSucceeded)}
                for parent in PARENTS.get(event.node_id, ()):
                    if parent not in committed:
                        self.violations.append(f"{event.node_id} started before {parent} was committed")
            super().record(event)

        async def commit(self) -> None:
            await asyncio.sleep(0.001)  # a real disk takes time; successors must wait for it
            await super().commit()

    PARENTS = {"b": ["a"], "c": ["a"], "d": ["b"]}
    wf = workflow(
        [node(n, "t.noop") for n in "abcd"], ["a.output -> b.input", "a.output -> c.input", "b.output -> d.input"]
    )
    journal = CheckingJournal()
    result = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(), journal=journal))
    assert result.ok
    assert journal.violations == []
    assert journal.committed == len(journal.events) and journal.commits >= 3

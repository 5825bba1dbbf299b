"""Resuming from recorded results (docs/architecture.md §3): a run cut short inside a loop
continues that loop where it stopped.

A crash is simulated with a journal that dies at its k-th commit: what it committed before is
the record a resume gets (as the store's library would hold it after a kill -9), and the run is
stopped there. Then a second run starts from those results. Whatever the moment of the crash,
the two segments together must do what one uninterrupted run does: every recorded result is
reused and never run again, the loop passes continue with their numbers, ``max_iterations``
counts the passes of both segments, and the outputs are the same.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.wfbuild import catalog_with, counting_loop, edge, node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import LoopIterated, NodeLog, NodeSucceeded
from flowdesk.engine.journal import MemoryJournal
from flowdesk.engine.results import PriorOutcome
from flowdesk.engine.reuse import finished_outcomes
from flowdesk.engine.runner import run_workflow, start_run
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Workflow

Calls = list[tuple[str, int, int]]


class DyingJournal(MemoryJournal):
    """Commits normally until its ``lives``-th commit, which fails like a dead process's would."""

    def __init__(self, lives: int) -> None:
        super().__init__()
        self.lives = lives

    async def commit(self) -> None:
        if self.commits >= self.lives:
            raise OSError("the process died here")
        await super().commit()


def nested_loops() -> Workflow:
    """An outer loop of 3 passes around an inner loop of 3 passes (tests/engine/regressions)."""
    return workflow(
        [
            node("o", "transform", expression="(inputs.input if inputs.input is defined else 0) + 1"),
            node(
                "i",
                "transform",
                expression="{'k': inputs.input, 'j': 1} if inputs.input is number"
                " else {'k': inputs.input.k, 'j': inputs.input.j + 1}",
            ),
            node("ic", "condition", expression="inputs.value.j < 3"),
            node("iback", "t.noop"),
            node("oc", "condition", expression="inputs.value.k < 3"),
            node("oback", "transform", expression="inputs.input.k"),
            node("out", "output", name="final"),
        ],
        [
            "o.output -> i.input",
            "i.output -> ic.value",
            "ic.true -> iback.input",
            edge("iback.output -> i.input", loop=3),
            "ic.false -> oc.value",
            "oc.true -> oback.input",
            edge("oback.output -> o.input", loop=3),
            "oc.false -> out.value",
        ],
    )


async def _run(wf: Workflow, calls: Calls, **kwargs: Any) -> Any:
    return await asyncio.wait_for(run_workflow(wf, catalog_with(calls), EngineServices(), **kwargs), 10)


def _prior(journal: MemoryJournal) -> dict[tuple[str, int], PriorOutcome]:
    return finished_outcomes(journal.recorded_results())


def _finished(journal: MemoryJournal) -> set[tuple[str, int]]:
    return {key for key, (status, _) in journal.recorded_results().items() if status in ("succeeded", "skipped")}


def _check_resume_after_every_commit(wf: Workflow) -> int:
    """Crash at each commit point in turn, resume, and compare with an uninterrupted run."""
    whole_calls: Calls = []
    whole_journal = MemoryJournal()
    whole = asyncio.run(_run(wf, whole_calls, journal=whole_journal))
    assert whole.ok, whole.error
    whole_work = {(n, it) for n, it, _ in whole_calls}
    resumed_mid_loop = 0
    for lives in range(1, whole_journal.commits):
        first_calls: Calls = []
        dying = DyingJournal(lives)
        first = asyncio.run(_run(wf, first_calls, journal=dying))
        assert first.status == "failed", f"[crash at commit {lives}] the run went on after its journal died"
        done = _finished(dying)
        second_calls: Calls = []
        second_journal = MemoryJournal()
        second = asyncio.run(_run(wf, second_calls, prior=_prior(dying), journal=second_journal))
        where = f"[crash at commit {lives}, {len(done)} results recorded]"
        assert second.ok, f"{where} {second.error}"
        assert second.outputs == whole.outputs, where
        assert second.iterations == whole.iterations, f"{where} the loop passes were numbered anew"
        ran_again = {(n, it) for n, it, _ in second_calls}
        assert not ran_again & done, f"{where} recorded results ran again: {sorted(ran_again & done)}"
        assert ran_again | {(n, it) for n, it, _ in first_calls} == whole_work, f"{where} not the same work"
        new_record = {(e.node_id, e.iteration) for e in second_journal.events if getattr(e, "source", "") == "run"}
        assert not new_record & done, f"{where} recorded again as new: {sorted(new_record & done)}"
        resumed_mid_loop += any(it > 0 for _, it in done) and any(it > 0 for _, it in ran_again)
    return resumed_mid_loop


def test_a_loop_resumed_after_a_crash_at_any_commit_continues_where_it_stopped() -> None:
    mid_loop = _check_resume_after_every_commit(counting_loop(stop_below=5, max_iterations=10))
    assert mid_loop >= 3, "too few crashes landed inside the loop for this test to prove much"


def test_max_iterations_counts_the_passes_before_and_after_a_crash() -> None:
    mid_loop = _check_resume_after_every_commit(counting_loop(stop_below=100, max_iterations=5))
    assert mid_loop >= 3


def test_nested_loops_resumed_after_a_crash_keep_both_counts() -> None:
    mid_loop = _check_resume_after_every_commit(nested_loops())
    assert mid_loop >= 5


def test_resume_during_pass_three_of_five_runs_only_the_rest() -> None:
    """The issue's case, step by step: five passes, the process gone while pass 3 sleeps."""
    wf = counting_loop(stop_below=100, max_iterations=5, slow_s=0.05)
    calls: Calls = []

    async def stopped_in_pass_three() -> MemoryJournal:
        journal = MemoryJournal()
        handle = start_run(wf, catalog_with(calls), EngineServices(), journal=journal)
        while ("slow", 2, 1) not in calls:
            await asyncio.sleep(0.002)
        handle.cancel()
        assert (await handle.wait()).status == "cancelled"
        return journal

    journal = asyncio.run(stopped_in_pass_three())
    assert ("count", 2) in _finished(journal) and ("slow", 2) not in _finished(journal)
    calls.clear()

    async def resume() -> tuple[Any, list[Any]]:
        bus = EventBus()
        sub = bus.subscribe()
        result = await _run(wf, calls, prior=_prior(journal), bus=bus)
        return result, sub.drain()

    result, events = asyncio.run(resume())
    assert result.ok and result.outputs == {"n": 5}
    assert [(n, it) for n, it, _ in calls] == [
        ("slow", 2),
        ("again", 2),
        ("slow", 3),
        ("again", 3),
        ("slow", 4),
        ("again", 4),
    ]
    assert result.iterations["count"] == 4
    ran = [(e.node_id, e.iteration) for e in events if isinstance(e, NodeSucceeded) and e.source == "run"]
    assert ("count", 3) in ran and ("count", 4) in ran and ("count", 5) not in ran
    assert [(e.iteration, e.source) for e in events if isinstance(e, LoopIterated)] == [
        (1, "restored"),
        (2, "restored"),
        (3, "run"),
        (4, "run"),
    ]
    warnings = [e.message for e in events if isinstance(e, NodeLog) and e.level == "warning"]
    assert len(warnings) == 1 and "maximum of 5 iterations" in warnings[0]


@pytest.mark.parametrize("status", ["succeeded", "skipped"])
def test_a_result_recorded_for_a_later_pass_is_not_reused_for_the_first(status: str) -> None:
    wf = counting_loop(stop_below=3, max_iterations=10)
    calls: Calls = []
    prior = {("slow", 1): PriorOutcome(status, {"output": 99} if status == "succeeded" else {})}
    result = asyncio.run(_run(wf, calls, prior={**prior, ("count", 0): PriorOutcome("succeeded", {"output": 1})}))
    assert result.ok and ("count", 0, 1) not in calls and ("slow", 0, 1) in calls
    assert ("slow", 1, 1) not in calls, "the recorded second pass was run again"

"""Parallel waits (issue 16.4): a merge in mode 'first' or 'count' is a race. It goes on as soon as
enough values arrived and cancels the branches still running toward it (only those), which end
'cancelled' with the reason, not failed; the run succeeds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import NodeCancelled, NodeStarted, NodeSucceeded, RunFinished
from flowdesk.engine.readmodel import RunView
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.model.validation import validate
from flowdesk.nodes.kinds.logic import MergeConfig

Calls = list[tuple[str, int, int]]


def _run(wf: Any) -> tuple[Any, list[Any]]:
    calls: Calls = []

    async def go() -> tuple[Any, list[Any]]:
        bus = EventBus()
        sub = bus.subscribe()
        result = await run_workflow(wf, catalog_with(calls), EngineServices(), bus=bus)
        return result, sub.drain()

    return asyncio.run(go())


def _branch(name: str, seconds: float) -> list[Any]:
    """A branch: a sleep, then a transform naming the branch (so the value says who won)."""
    return [node(name, "t.sleep", seconds=seconds), node(f"{name}_says", "transform", expression=f"'{name}'")]


def _race(mode: str = "first", **merge: Any) -> Any:
    sleeps = {"fast": 0.5, "slow": 2.0, "slower": 2.5}
    nodes = [
        node("start", "start"),
        node("m", "merge", inputs=3, mode=mode, **merge),
        node("out", "output", name="won"),
    ]
    edges = ["m.output -> out.value"]
    for port, (name, seconds) in enumerate(sleeps.items(), start=1):
        nodes += _branch(name, seconds)
        edges += [
            f"start.inputs -> {name}.input",
            f"{name}.output -> {name}_says.input",
            f"{name}_says.output -> m.in_{port}",
        ]
    return workflow(nodes, edges)


def _index(events: list[Any], kind: type, node_id: str) -> int:
    return next(i for i, e in enumerate(events) if isinstance(e, kind) and getattr(e, "node_id", None) == node_id)


def test_first_goes_on_with_the_first_arrival_and_cancels_the_slower_branches() -> None:
    result, events = _run(_race())
    assert result.status == "succeeded" and result.outputs == {"won": "fast"}
    status = result.node_status
    assert (status["fast"], status["fast_says"], status["m"], status["out"]) == ("succeeded",) * 4
    assert {status[n] for n in ("slow", "slow_says", "slower", "slower_says")} == {"cancelled"}
    # the merge ran as soon as the fast branch arrived, before the slow branches were cancelled
    merged = _index(events, NodeSucceeded, "m")
    assert _index(events, NodeSucceeded, "fast_says") < _index(events, NodeStarted, "m") < merged
    for loser in ("slow", "slower"):
        cancelled = events[_index(events, NodeCancelled, loser)]
        assert "lost the race" in cancelled.reason and "'m'" in cancelled.reason
    # the transforms after the slow sleeps never started: cancelled while they waited
    assert not [e for e in events if isinstance(e, NodeStarted) and e.node_id.endswith("_says") and "slow" in e.node_id]
    assert not [e for e in events if isinstance(e, NodeSucceeded) and e.node_id in ("slow", "slower")]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "succeeded" and finished.error is None


def test_count_goes_on_with_the_first_n_in_arrival_order() -> None:
    wf = _race("count", count=2)
    wf = wf.model_copy(
        update={"nodes": tuple(n.model_copy(update={"config": {**n.config, "seconds": 0.05}}) if n.id == "slow" else n
                               for n in wf.nodes)}
    )  # fmt: skip
    result, _ = _run(wf)
    assert result.status == "succeeded" and result.outputs == {"won": ["slow", "fast"]}
    assert result.node_status["slower"] == result.node_status["slower_says"] == "cancelled"
    assert result.node_status["fast"] == "succeeded"


def test_shared_upstream_work_is_not_cancelled_only_what_leads_into_the_merge() -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("quick", "t.noop"),
            node("shared", "t.sleep", seconds=0.3),  # feeds the merge and a report: it must finish
            node("dedicated", "t.sleep", seconds=1.0),  # only leads into the merge: cancelled before it starts
            node("report", "output", name="report"),
            node("m", "merge", inputs=2, mode="first"),
            node("out", "output", name="won"),
        ],
        [
            "start.inputs -> quick.input",
            "start.inputs -> shared.input",
            "shared.output -> dedicated.input",
            "shared.output -> report.value",
            "quick.output -> m.in_1",
            "dedicated.output -> m.in_2",
            "m.output -> out.value",
        ],
    )
    result, events = _run(wf)
    assert result.status == "succeeded"
    assert result.node_status["shared"] == result.node_status["report"] == "succeeded"
    assert result.node_status["dedicated"] == "cancelled"
    assert not [e for e in events if isinstance(e, NodeStarted) and e.node_id == "dedicated"]
    assert "report" in result.outputs


def test_the_run_view_shows_losers_as_cancelled_with_the_reason() -> None:
    result, events = _run(_race())
    view = RunView.replay(result.run_id, events)
    assert view.status == "succeeded"
    assert view.nodes["slow"].status == "cancelled" and view.nodes["fast"].status == "succeeded"
    assert view.passes[("slow", 0)].note.startswith("lost the race")
    lines = [line.text for line in view.lines if line.node_id == "slow"]
    assert any(text.startswith("cancelled: lost the race") for text in lines)


def test_waiting_for_all_still_waits_for_every_branch() -> None:
    wf = _race("all")
    wf = wf.model_copy(
        update={"nodes": tuple(n.model_copy(update={"config": {**n.config, "seconds": 0.05}}) if n.id in ("slow", "slower")
                               else n for n in wf.nodes)}
    )  # fmt: skip
    result, _ = _run(wf)
    assert result.outputs == {"won": ["fast", "slow", "slower"]}
    assert "cancelled" not in result.node_status.values()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"mode": "count", "inputs": 2, "count": 3}, "count 3 is more than the 2 inputs"),
        ({"mode": "count", "inputs": 3, "count": 4}, "count 4 is more than the 3 inputs"),
    ],
)
def test_count_is_checked_against_the_inputs(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MergeConfig.model_validate(config)
    wf = workflow([node("m", "merge", **config)])
    problems = [p for p in validate(wf, catalog_with([])) if p.node_id == "m"]
    assert any(message in p.message for p in problems)


def test_a_race_resumed_after_a_crash_at_any_commit_never_runs_a_recorded_winner_again() -> None:
    from flowdesk.engine.journal import MemoryJournal
    from flowdesk.engine.reuse import finished_outcomes

    class DyingJournal(MemoryJournal):
        def __init__(self, lives: int) -> None:
            super().__init__()
            self.lives = lives

        async def commit(self) -> None:
            if self.commits >= self.lives:
                raise OSError("the process died here")
            await super().commit()

    wf = workflow(
        [
            node("start", "start"),
            node("fast", "t.sleep", seconds=0.05),
            node("slow", "t.sleep", seconds=0.6),
            node("m", "merge", inputs=2, mode="first"),
            node("after", "t.noop"),
            node("out", "output", name="won"),
        ],
        ["start.inputs -> fast.input", "start.inputs -> slow.input", "fast.output -> m.in_1",
         "slow.output -> m.in_2", "m.output -> after.input", "after.output -> out.value"],
    )  # fmt: skip

    def run(calls: Calls, **kw: Any) -> Any:
        return asyncio.run(asyncio.wait_for(run_workflow(wf, catalog_with(calls), EngineServices(), **kw), 10))

    whole_journal = MemoryJournal()
    whole = run([], journal=whole_journal)
    assert whole.ok and whole.node_status["slow"] == "cancelled"
    for lives in range(1, whole_journal.commits):
        dying, first_calls = DyingJournal(lives), []
        assert run(first_calls, journal=dying).status == "failed"
        recorded = {key for key, (status, _) in dying.recorded_results().items() if status == "succeeded"}
        second_calls: Calls = []
        second = run(second_calls, prior=finished_outcomes(dying.recorded_results()), journal=MemoryJournal())
        where = f"[crash at commit {lives}, recorded {sorted(recorded)}]"
        assert second.ok and second.outputs == whole.outputs, where
        ran_again = {(n, it) for n, it, _ in second_calls}
        assert not ran_again & recorded, f"{where} ran again: {sorted(ran_again & recorded)}"
        if ("fast", 0) in recorded:  # the winner is known: the slow branch is cancelled, not run to its end
            assert second.node_status["slow"] == "cancelled", where


@pytest.mark.parametrize("slow_first", [True, False], ids=["slow branch queued first", "fast branch queued first"])
@pytest.mark.parametrize(
    "recorded",
    [("start", "fast", "fast_says"), ("start", "fast", "fast_says", "m")],
    ids=["winner", "winner and merge"],
)
def test_a_resumed_run_never_starts_a_branch_the_recorded_race_decided_against(
    slow_first: bool, recorded: tuple[str, ...]
) -> None:
    """The record already says who won: the loser is cancelled without starting, even for a moment
    (a start is a request sent, a file written, a model called)."""
    from flowdesk.engine.journal import MemoryJournal
    from flowdesk.engine.reuse import finished_outcomes

    edges = ["start.inputs -> fast.input", "start.inputs -> slow.input"]
    wf = workflow(
        [
            node("start", "start"),
            node("fast", "t.sleep", seconds=0.05),
            node("fast_says", "transform", expression="'fast'"),  # the winner's branch is two nodes long
            node("slow", "t.sleep", seconds=0.6),
            node("m", "merge", inputs=2, mode="first"),
            node("out", "output", name="won"),
        ],
        [*(reversed(edges) if slow_first else edges), "fast.output -> fast_says.input",
         "fast_says.output -> m.in_1", "slow.output -> m.in_2", "m.output -> out.value"],
    )  # fmt: skip

    async def run(calls: Calls, **kw: Any) -> tuple[Any, list[Any]]:
        bus = EventBus()
        sub = bus.subscribe()
        result = await asyncio.wait_for(run_workflow(wf, catalog_with(calls), EngineServices(), bus=bus, **kw), 10)
        return result, sub.drain()

    journal = MemoryJournal()
    whole, _ = asyncio.run(run([], journal=journal))
    assert whole.ok and whole.node_status["slow"] == "cancelled"
    results = {key: value for key, value in journal.recorded_results().items() if key[0] in recorded}
    calls: Calls = []
    resumed, events = asyncio.run(run(calls, prior=finished_outcomes(results), journal=MemoryJournal()))
    assert resumed.ok and resumed.outputs == whole.outputs
    assert [c for c in calls if c[0] == "slow"] == []
    assert not [e for e in events if isinstance(e, NodeStarted) and e.node_id == "slow"]
    assert resumed.node_status["slow"] == "cancelled"

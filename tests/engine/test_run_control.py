"""Run control: cancel, pause/resume, breakpoints and stepping, approvals, retries and timeouts, reuse of results."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.clock import FakeClock
from flowdesk.engine.events import NodeRetrying, RunPaused
from flowdesk.engine.journal import MemoryJournal
from flowdesk.engine.results import PriorOutcome
from flowdesk.engine.runner import run_workflow, start_run
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Workflow

Calls = list[tuple[str, int, int]]


@pytest.fixture
def calls() -> Calls:
    return []


async def _settle(handle: Any, condition: Any, timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"condition not reached; node states: {handle.node_status}"
        await asyncio.sleep(0.005)


def test_cancel_stops_every_running_node_promptly(calls: Calls) -> None:
    async def go() -> tuple[Any, float]:
        nodes = [node(f"s{i}", "t.sleep", seconds=30) for i in range(20)]
        handle = start_run(workflow(nodes, concurrency=20), catalog_with(calls), EngineServices())
        await _settle(handle, lambda: len(calls) == 20)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        handle.cancel()
        result = await handle.wait()
        elapsed = loop.time() - t0
        leaked = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leaked == []
        return result, elapsed

    result, elapsed = asyncio.run(go())
    assert result.status == "cancelled"
    assert set(result.node_status.values()) == {"cancelled"}
    assert elapsed < 0.05


def test_a_long_chain_of_quick_nodes_lets_the_loop_turn_between_nodes_and_a_cancel_in(calls: Calls) -> None:
    """A finished node hands its task to the next one; the loop must still turn in between."""
    n = 2000
    wf = workflow([node(f"n{i}", "t.noop") for i in range(n)], [f"n{i}.output -> n{i + 1}.input" for i in range(n - 1)])

    async def go() -> tuple[Any, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        other = asyncio.create_task(ticker())
        handle = start_run(wf, catalog_with(calls), EngineServices())
        await _settle(handle, lambda: len(calls) >= 100)
        handle.cancel()
        result = await handle.wait()
        other.cancel()
        return result, ticks

    result, ticks = asyncio.run(go())
    assert result.status == "cancelled" and 100 <= len(calls) < n, f"{len(calls)} nodes ran"
    assert ticks >= len(calls) - 1, f"other tasks ran {ticks} times while {len(calls)} nodes ran"


def test_pause_holds_new_nodes_and_resume_continues(calls: Calls) -> None:
    async def go() -> Any:
        wf = workflow([node("a", "t.sleep", seconds=0.05), node("b", "t.noop")], ["a.output -> b.input"])
        handle = start_run(wf, catalog_with(calls), EngineServices())
        await _settle(handle, lambda: calls)
        handle.pause()
        await asyncio.sleep(0.15)
        assert handle.node_status == {"a": "succeeded", "b": "queued"} and handle.status == "paused"
        handle.resume()
        return await handle.wait()

    assert asyncio.run(go()).ok
    assert [c[0] for c in calls] == ["a", "b"]


def test_breakpoint_pauses_before_the_node_then_step_and_continue(calls: Calls) -> None:
    async def go() -> list[Any]:
        bus = EventBus()
        sub = bus.subscribe()
        wf = workflow(
            [node("a", "t.noop", breakpoint=True), node("b", "t.noop"), node("c", "t.noop")],
            ["a.output -> b.input", "b.output -> c.input"],
        )
        handle = start_run(wf, catalog_with(calls), EngineServices(), bus=bus)
        await _settle(handle, lambda: handle.status == "paused")
        assert calls == [] and handle.node_status["a"] == "queued"
        handle.step()  # runs a, pauses before b
        await _settle(handle, lambda: handle.status == "paused" and handle.node_status["a"] == "succeeded")
        assert [c[0] for c in calls] == ["a"]
        handle.resume()
        await handle.wait()
        return [e for e in sub.drain() if isinstance(e, RunPaused)]

    paused = asyncio.run(go())
    assert [(p.reason, p.node_id) for p in paused] == [("breakpoint", "a"), ("step", "b")]
    assert [c[0] for c in calls] == ["a", "b", "c"]


def _approval_wf() -> Workflow:
    return workflow(
        [
            node("src", "t.noop"),
            node("ask", "approval", message="ship {{ inputs.value }}?"),
            node("yes", "output", name="shipped"),
            node("no", "output", name="dropped"),
        ],
        ["src.output -> ask.value", "ask.approved -> yes.value", "ask.rejected -> no.value"],
    )


@pytest.mark.parametrize("approve", [True, False])
def test_approval_waits_for_a_decision(calls: Calls, approve: bool) -> None:
    async def go() -> Any:
        handle = start_run(_approval_wf(), catalog_with(calls), EngineServices())
        await _settle(handle, lambda: handle.status == "waiting")
        assert handle.waiting_for == ["ask"]
        assert not handle.approve("src")  # not waiting
        assert (handle.approve if approve else handle.reject)("ask", "looks good")
        return await handle.wait()

    result = asyncio.run(go())
    assert result.ok
    assert result.node_status["yes" if approve else "no"] == "succeeded"
    assert result.node_status["no" if approve else "yes"] == "skipped"


def test_approval_without_a_listener_suspends_the_run_as_waiting_then_resumes_with_the_decision(calls: Calls) -> None:
    first = asyncio.run(run_workflow(_approval_wf(), catalog_with(calls), EngineServices(), suspend_on_wait=True))
    assert first.status == "waiting" and first.waiting == ["ask"]
    assert first.node_status["src"] == "succeeded"
    prior = {(nid, 0): PriorOutcome("succeeded", out) for nid, out in first.node_outputs.items()}
    second = asyncio.run(
        run_workflow(_approval_wf(), catalog_with(calls), EngineServices(), prior=prior, decisions={"ask": (True, "")})
    )
    assert second.ok and second.outputs == {"shipped": None}
    assert [c[0] for c in calls] == ["src"], "a finished node ran again on resume"


def test_a_restored_output_node_puts_its_value_into_the_run_outputs_again(calls: Calls) -> None:
    """A run's outputs are recorded when it ends: a resume must not lose those set before the interruption."""
    wf = workflow(
        [node("a", "t.noop"), node("early", "output", name="early"), node("b", "t.noop"), node("late", "output")],
        ["a.output -> early.value", "a.output -> b.input", "b.output -> late.value"],
    )
    prior = {("a", 0): PriorOutcome("succeeded", {"output": 7}), ("early", 0): PriorOutcome("succeeded", {})}
    result = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(), {}, prior=prior))
    assert result.ok and result.outputs == {"early": 7, "result": 7}
    assert [c[0] for c in calls] == ["b"]


def test_retry_backoff_follows_the_policy_with_bounded_jitter(calls: Calls) -> None:
    clock = FakeClock()
    wf = workflow(
        [
            node(
                "f",
                "t.flaky",
                fail_times=4,
                error_class="rate_limit",
                retry={
                    "max_attempts": 5,
                    "initial_delay_s": 1,
                    "multiplier": 3,
                    "max_delay_s": 20,
                    "jitter": 0.1,
                    "retry_on": ["rate_limit"],
                },
            )
        ]
    )
    result = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(clock=clock)))
    assert result.ok and [c[2] for c in calls] == [1, 2, 3, 4, 5]
    for slept, nominal in zip(clock.sleeps, [1, 3, 9, 20], strict=True):
        assert nominal * 0.9 <= slept <= nominal * 1.1


def test_errors_outside_retry_on_are_not_retried(calls: Calls) -> None:
    wf = workflow(
        [node("f", "t.flaky", fail_times=1, error_class="node", retry={"max_attempts": 3, "retry_on": ["timeout"]})]
    )
    result = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(clock=FakeClock())))
    assert result.status == "failed" and len(calls) == 1


def test_per_attempt_timeout_then_retry_events(calls: Calls) -> None:
    async def go() -> tuple[Any, list[Any]]:
        bus = EventBus()
        sub = bus.subscribe()
        wf = workflow(
            [
                node(
                    "s",
                    "t.sleep",
                    seconds=5,
                    timeout_s=0.05,
                    retry={"max_attempts": 2, "initial_delay_s": 0, "jitter": 0, "retry_on": ["timeout"]},
                )
            ]
        )
        res = await run_workflow(wf, catalog_with(calls), EngineServices(), bus=bus)
        return res, [e for e in sub.drain() if isinstance(e, NodeRetrying)]

    result, retries = asyncio.run(go())
    assert result.status == "failed" and "timed out after 0.05 s" in result.error.message
    assert len(retries) == 1 and retries[0].error.error_class == "timeout"
    assert len(calls) == 2


def test_whole_run_timeout(calls: Calls) -> None:
    wf = workflow([node("s", "t.sleep", seconds=5)], run_timeout_s=0.1)
    result = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices()))
    assert result.status == "failed" and "limit of 0.1 s" in result.error.message
    assert result.node_status["s"] == "cancelled"


def test_rerun_from_a_node_reuses_everything_not_downstream(calls: Calls) -> None:
    wf = workflow(
        [node("a", "t.noop"), node("b", "t.noop"), node("side", "t.noop"), node("c", "t.noop")],
        ["a.output -> b.input", "b.output -> c.input"],
    )
    journal = MemoryJournal()
    first = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(), journal=journal))
    assert first.ok
    from flowdesk.engine.reuse import rerun_prior

    prior = rerun_prior(wf, journal.recorded_results(), from_node="b")
    assert set(prior) == {("a", 0), ("side", 0)}
    calls.clear()
    second = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(), prior=prior))
    assert second.ok and sorted(c[0] for c in calls) == ["b", "c"]


class DictResolver:
    def __init__(self, workflows: dict[str, Workflow]) -> None:
        self.workflows = workflows

    def resolve(self, ref: str) -> Workflow:
        return self.workflows[ref]


def _doubler() -> Workflow:
    from flowdesk.model.workflow import RunInput

    return workflow(
        [
            node("start", "start"),
            node("check", "condition", expression="inputs.value.item >= 0"),
            node("double", "transform", expression="inputs.input.item * 2"),
            node("out", "output", name="value"),
            node("neg", "t.flaky", fail_times=9),
        ],
        [
            "start.inputs -> check.value",
            "check.true -> double.input",
            "double.output -> out.value",
            "check.false -> neg.input",
        ],
        inputs=[RunInput(name="item", type="integer")],
    )


def test_map_runs_each_item_in_order_with_bounded_concurrency(calls: Calls) -> None:
    wf = workflow(
        [
            node("src", "transform", expression="[3, 1, 2, 5]"),
            node("m", "map", workflow="doubler", concurrency=2),
            node("out", "output", name="all"),
        ],
        ["src.output -> m.items", "m.results -> out.value"],
    )
    services = EngineServices(workflows=DictResolver({"doubler": _doubler()}))
    result = asyncio.run(run_workflow(wf, catalog_with(calls), services))
    assert result.ok, result.error
    assert result.outputs == {"all": [{"value": 6}, {"value": 2}, {"value": 4}, {"value": 10}]}


def _map_with_a_failing_second_item(calls: Calls, item_errors: str = "fail") -> Any:
    """A map of the doubler over [1, -1, 2], whose second item fails; the run's result."""
    wf = workflow(
        [
            node("src", "transform", expression="[1, -1, 2]"),
            node("m", "map", workflow="doubler", item_errors=item_errors),
            node("out", "output", name="all"),
        ],
        ["src.output -> m.items", "m.results -> out.value"],
    )
    services = EngineServices(workflows=DictResolver({"doubler": _doubler()}))
    return asyncio.run(run_workflow(wf, catalog_with(calls), services))


@pytest.mark.parametrize("mode", ["fail", "include"])
def test_map_with_failing_items(calls: Calls, mode: str) -> None:
    result = _map_with_a_failing_second_item(calls, mode)
    if mode == "fail":
        assert result.status == "failed" and "item 2 failed" in result.error.message  # -1, the second item
    else:
        assert result.ok
        assert result.outputs["all"][0] == {"value": 2} and "injected failure" in result.outputs["all"][1]["error"]


def test_subworkflow_and_runaway_recursion(calls: Calls) -> None:
    outer = workflow(
        [
            node("src", "transform", expression="{'item': 4}"),
            node("sub", "subworkflow", workflow="doubler"),
            node("out", "output", name="r"),
        ],
        ["src.output -> sub.inputs", "sub.outputs -> out.value"],
    )
    services = EngineServices(workflows=DictResolver({"doubler": _doubler()}))
    assert asyncio.run(run_workflow(outer, catalog_with(calls), services)).outputs == {"r": {"value": 8}}
    selfish = workflow([node("sub", "subworkflow", workflow="me")])
    services = EngineServices(workflows=DictResolver({"me": selfish}), max_depth=5)
    result = asyncio.run(run_workflow(selfish, catalog_with(calls), services))
    assert result.status == "failed" and "nest more than 5 deep" in result.error.message


def test_approval_inside_a_subworkflow_is_answered_through_the_parent(calls: Calls) -> None:
    inner = workflow(
        [node("ask", "approval", message="inner?"), node("yes", "output", name="ok")], ["ask.approved -> yes.value"]
    )
    outer = workflow(
        [node("sub", "subworkflow", workflow="inner"), node("out", "output", name="r")], ["sub.outputs -> out.value"]
    )
    services = EngineServices(workflows=DictResolver({"inner": inner}))

    async def go() -> Any:
        handle = start_run(outer, catalog_with(calls), services)
        await _settle(handle, lambda: handle.waiting_for == ["ask"])
        handle.pause()
        handle.resume()
        assert handle.approve("ask", "fine")
        return await handle.wait()

    result = asyncio.run(go())
    assert result.ok and result.outputs == {"r": {"ok": None}}
    suspended = asyncio.run(run_workflow(outer, catalog_with(calls), services, suspend_on_wait=True))
    assert suspended.status == "failed" and "decide them in advance" in suspended.error.message


def test_a_failed_map_item_is_named_once_in_the_runs_error(calls: Calls) -> None:
    """The map says which item failed; the child's own words follow without naming it again."""
    result = _map_with_a_failing_second_item(calls)
    assert result.status == "failed" and result.error is not None
    message = result.error.message
    assert "item 2 failed: workflow 'doubler' failed:" in message, message  # counted from 1, as Run data pages
    assert message.count("item 2") == 1, message

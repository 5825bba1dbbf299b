"""The executor's semantics (docs/architecture.md §3): ordering, concurrency, branches and skips, merge, loops, failure."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.wfbuild import catalog_with, edge, node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import LoopIterated, NodeLog, NodeSkipped, NodeSucceeded, RunFinished
from flowdesk.engine.runner import InvalidWorkflowError, RunInputError, run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import RunInput

Calls = list[tuple[str, int, int]]


@pytest.fixture
def calls() -> Calls:
    return []


def run(wf: Any, calls: Calls, inputs: dict[str, Any] | None = None, **kw: Any) -> Any:
    return asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(), inputs or {}, **kw))


def test_chain_runs_in_order_and_outputs_flow(calls: Calls) -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("a", "t.noop"),
            node("b", "transform", expression="inputs.input.q * 2"),
            node("out", "output", name="answer"),
        ],
        ["start.inputs -> a.input", "a.output -> b.input", "b.output -> out.value"],
        inputs=[RunInput(name="q", type="integer")],
    )
    result = run(wf, calls, {"q": 21})
    assert result.status == "succeeded"
    assert result.outputs == {"answer": 42}
    assert calls == [("a", 0, 1)]
    assert set(result.node_status.values()) == {"succeeded"}


def test_independent_branches_run_concurrently_up_to_the_limit(calls: Calls) -> None:
    nodes = [node(f"s{i}", "t.sleep", seconds=0.2) for i in range(6)]
    started = asyncio.run(_timed(workflow(nodes, concurrency=3), calls))
    assert 0.35 < started < 0.6, f"6 x 0.2 s at concurrency 3 should take ~0.4 s, took {started:.2f}"


async def _timed(wf: Any, calls: Calls) -> float:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    result = await run_workflow(wf, catalog_with(calls), EngineServices())
    assert result.ok
    return loop.time() - t0


def _branchy(cond_expr: str) -> Any:
    return workflow(
        [
            node("start", "start"),
            node("c", "condition", expression=cond_expr),
            node("yes", "t.noop"),
            node("yes2", "t.noop"),
            node("no", "t.noop"),
            node("join", "t.noop"),
            node("m", "merge", inputs=2),
            node("out", "output", name="merged"),
        ],
        [
            "start.inputs -> c.value",
            "c.true -> yes.input",
            "yes.output -> yes2.input",
            "c.false -> no.input",
            "yes2.output -> join.input",
            "yes2.output -> m.in_1",
            "no.output -> m.in_2",
            "m.output -> out.value",
        ],
    )


def test_untaken_branch_is_skipped_downstream_and_merge_runs_on_what_arrived(calls: Calls) -> None:
    result = run(_branchy("false"), calls)
    assert result.status == "succeeded"
    st = result.node_status
    assert (st["yes"], st["yes2"], st["join"]) == ("skipped", "skipped", "skipped")
    assert st["no"] == "succeeded" and st["m"] == "succeeded"
    assert result.outputs == {"merged": [{}]}
    assert {c[0] for c in calls} == {"no"}


def test_merge_is_skipped_only_when_all_inputs_were_skipped(calls: Calls) -> None:
    wf = workflow(
        [
            node("c", "condition", expression="false"),
            node("src", "t.noop"),
            node("a", "t.noop"),
            node("b", "t.noop"),
            node("m", "merge", inputs=2, mode="first"),
            node("after", "t.noop"),
        ],
        [
            "src.output -> c.value",
            "c.true -> a.input",
            "c.true -> b.input",
            "a.output -> m.in_1",
            "b.output -> m.in_2",
            "m.output -> after.input",
        ],
    )
    result = run(wf, calls)
    assert result.ok
    assert result.node_status["m"] == "skipped" and result.node_status["after"] == "skipped"


def test_skip_events_name_the_reason(calls: Calls) -> None:
    async def go() -> list[Any]:
        bus = EventBus()
        sub = bus.subscribe()
        await run_workflow(_branchy("true"), catalog_with(calls), EngineServices(), bus=bus)
        return sub.drain()

    skipped = [e for e in asyncio.run(go()) if isinstance(e, NodeSkipped)]
    assert [e.node_id for e in skipped] == ["no"]
    assert "did not fire" in skipped[0].reason and "'false'" not in skipped[0].reason


def test_switch_routes_to_named_case_or_default(calls: Calls) -> None:
    def wf(expr: str) -> Any:
        return workflow(
            [
                node("src", "t.noop"),
                node("sw", "switch", expression=expr, cases=["red", "blue"]),
                node("r", "t.noop"),
                node("b", "t.noop"),
                node("d", "t.noop"),
            ],
            ["src.output -> sw.value", "sw.red -> r.input", "sw.blue -> b.input", "sw.default -> d.input"],
        )

    assert run(wf("'blue'"), calls).node_status == {
        "src": "succeeded",
        "sw": "succeeded",
        "r": "skipped",
        "b": "succeeded",
        "d": "skipped",
    }
    assert run(wf("'green'"), calls).node_status["d"] == "succeeded"


def _review_loop(max_iterations: int, until: str | None = None) -> Any:
    """review -> check -> approve | fix -> back to review; 'review' counts passes in its output."""
    return workflow(
        [
            node("start", "start"),
            node("review", "transform", expression="{'n': (inputs.input.n if inputs.input.n is defined else 0) + 1}"),
            node("check", "condition", expression="inputs.value.n >= 3"),
            node("fix", "t.noop"),
            node("approve", "output", name="final"),
        ],
        [
            "start.inputs -> review.input",
            "review.output -> check.value",
            "check.true -> approve.value",
            "check.false -> fix.input",
            edge("fix.output -> review.input", loop=max_iterations, until=until),
        ],
    )


def test_loop_repeats_until_the_condition_routes_out(calls: Calls) -> None:
    result = run(_review_loop(5), calls)
    assert result.status == "succeeded"
    assert result.outputs == {"final": {"n": 3}}
    assert [c[:2] for c in calls] == [("fix", 0), ("fix", 1)]
    assert result.iterations["review"] == 2 and result.node_status["fix"] == "skipped"


def test_loop_stops_at_max_iterations_with_a_warning(calls: Calls) -> None:
    async def go() -> tuple[Any, list[Any]]:
        bus = EventBus()
        sub = bus.subscribe()
        res = await run_workflow(_review_loop(2), catalog_with(calls), EngineServices(), bus=bus)
        return res, sub.drain()

    result, events = asyncio.run(go())
    assert result.status == "succeeded"
    assert "final" not in result.outputs and result.node_status["approve"] == "skipped"
    warnings = [e for e in events if isinstance(e, NodeLog) and e.level == "warning"]
    assert len(warnings) == 1 and "maximum of 2 iterations" in warnings[0].message
    assert [e.iteration for e in events if isinstance(e, LoopIterated)] == [1]


def test_loop_until_expression_ends_the_loop(calls: Calls) -> None:
    result = run(_review_loop(10, until="value.n >= 2"), calls)
    assert result.ok and [c[:2] for c in calls] == [("fix", 0), ("fix", 1)]
    assert result.iterations["review"] == 1 and result.node_status["approve"] == "skipped"


def test_thousand_iteration_loop(calls: Calls) -> None:
    wf = workflow(
        [
            node("count", "transform", expression="(inputs.input if inputs.input is defined else 0) + 1"),
            node("more", "condition", expression="inputs.value < 1000"),
            node("again", "t.noop"),
            node("done", "output", name="n"),
        ],
        [
            "count.output -> more.value",
            "more.true -> again.input",
            "more.false -> done.value",
            edge("again.output -> count.input", loop=5000),
        ],
    )
    result = run(wf, calls)
    assert result.ok and result.outputs == {"n": 1000}
    assert len(calls) == 999 and result.iterations["count"] == 999


def test_failure_fails_the_run_naming_the_node_and_cancels_others(calls: Calls) -> None:
    wf = workflow([node("bad", "t.flaky", fail_times=1), node("slow", "t.sleep", seconds=5)])
    result = run(wf, calls)
    assert result.status == "failed"
    assert "node 'bad' (bad) failed: injected failure 1" in result.error.message
    assert result.node_status["slow"] == "cancelled"


def test_on_error_continue_routes_the_error_out_of_the_error_port(calls: Calls) -> None:
    wf = workflow(
        [
            node("bad", "t.flaky", fail_times=5, on_error="continue"),
            node("ok", "t.noop"),
            node("handler", "transform", expression="inputs.input.message"),
            node("out", "output", name="err"),
        ],
        ["bad.output -> ok.input", "bad.error -> handler.input", "handler.output -> out.value"],
    )
    result = run(wf, calls)
    assert result.status == "succeeded"
    assert result.outputs == {"err": "injected failure 1"}
    assert result.node_status == {"bad": "failed", "ok": "skipped", "handler": "succeeded", "out": "succeeded"}


def test_pinned_node_is_not_executed_and_its_value_flows(calls: Calls) -> None:
    wf = workflow(
        [
            node("a", "t.noop", pinned={"outputs": {"output": "kept"}}),
            node("b", "t.noop"),
            node("out", "output", name="v"),
        ],
        ["a.output -> b.input", "b.output -> out.value"],
    )
    result = run(wf, calls)
    assert result.outputs == {"v": "kept"} and [c[0] for c in calls] == ["b"]
    assert run(wf, calls, use_pins=False).outputs == {"v": None}


def test_invalid_workflow_and_bad_inputs_are_refused_before_running(calls: Calls) -> None:
    bad = workflow([node("a", "t.noop"), node("b", "t.noop")], ["a.output -> b.nope"])
    with pytest.raises(InvalidWorkflowError, match="nope"):
        run(bad, calls)
    wf = workflow([node("start", "start")], inputs=[RunInput(name="n", type="integer")])
    with pytest.raises(RunInputError, match="input 'n' is required"):
        run(wf, calls)
    with pytest.raises(RunInputError, match="must be integer"):
        run(wf, calls, {"n": "three"})
    with pytest.raises(RunInputError, match="not an input"):
        run(wf, calls, {"n": 1, "m": 2})
    assert run(wf, calls, {"n": "3"}, inputs_from_text=True).ok
    assert calls == []


def test_events_arrive_in_causal_order(calls: Calls) -> None:
    async def go() -> list[Any]:
        bus = EventBus()
        sub = bus.subscribe()
        wf = workflow([node("a", "t.noop"), node("b", "t.noop")], ["a.output -> b.input"])
        await run_workflow(wf, catalog_with(calls), EngineServices(), bus=bus)
        return [(e.type, getattr(e, "node_id", None)) for e in sub.drain()]

    assert asyncio.run(go()) == [
        ("run_started", None),
        ("node_queued", "a"),
        ("node_started", "a"),
        ("node_succeeded", "a"),
        ("node_queued", "b"),
        ("node_started", "b"),
        ("node_succeeded", "b"),
        ("run_finished", None),
    ]


def test_a_slow_subscriber_neither_stalls_the_run_nor_grows_without_bound(calls: Calls) -> None:
    async def go() -> tuple[Any, Any]:
        bus = EventBus()
        slow = bus.subscribe(maxsize=50)
        nodes = [node(f"n{i}", "t.noop") for i in range(300)]
        edges = [f"n{i}.output -> n{i + 1}.input" for i in range(299)]
        result = await run_workflow(workflow(nodes, edges), catalog_with(calls), EngineServices(), bus=bus)
        return result, slow.drain()

    result, got = asyncio.run(go())
    assert result.ok
    assert got[0].type == "events_dropped" and got[0].count == 300 * 3 + 2 - 50
    assert len(got) == 51 and isinstance(got[-1], RunFinished)


def test_node_succeeded_events_carry_outputs_and_attempt(calls: Calls) -> None:
    async def go() -> list[Any]:
        bus = EventBus()
        sub = bus.subscribe()
        wf = workflow(
            [
                node(
                    "a",
                    "t.flaky",
                    fail_times=1,
                    retry={"max_attempts": 2, "initial_delay_s": 0, "retry_on": ["server"]},
                )
            ]
        )
        await run_workflow(wf, catalog_with(calls), EngineServices(), bus=bus)
        return [e for e in sub.drain() if isinstance(e, NodeSucceeded)]

    (ok,) = asyncio.run(go())
    assert ok.attempt == 2 and ok.outputs == {"output": None}

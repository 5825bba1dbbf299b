"""for_each with an inline body (issue 16.5): the nodes between a for_each and its collect run once
per item, a few at a time, results in item order; each item is a sub-run that names its index; a
loop that stops at its limit says so on the node and in the run's result."""

from __future__ import annotations

import asyncio
from typing import Any

from support.wfbuild import catalog_with, edge, node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import NodeLog, NodeStarted, NodeSucceeded, RunFinished, RunStarted
from flowdesk.engine.readmodel import RunView
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.model.validation import validate
from flowdesk.model.workflow import RunInput

Calls = list[tuple[str, int, int]]


def _run(wf: Any, calls: Calls | None = None) -> tuple[Any, list[Any]]:
    async def go() -> tuple[Any, list[Any]]:
        bus = EventBus()
        sub = bus.subscribe()
        result = await run_workflow(wf, catalog_with([] if calls is None else calls), EngineServices(), bus=bus)
        return result, sub.drain()

    return asyncio.run(go())


def _loop(items: str, body: list[Any], body_edges: list[str], **for_each: Any) -> Any:
    """src (a list) -> for_each 'fe' -> body (its first node 'b0' takes the item) -> collect 'c' -> out."""
    return workflow(
        [
            node("src", "transform", expression=items),
            node("fe", "for_each", **for_each),
            *body,
            node("c", "collect"),
            node("out", "output", name="results"),
        ],
        ["src.output -> fe.items", "fe.item -> b0.input", *body_edges, "c.results -> out.value"],
    )


def test_each_item_runs_the_body_and_results_keep_item_order() -> None:
    body = [
        node("b0", "t.sleep", seconds=0.0),
        node("b1", "transform", expression="inputs.input * 10 + loop.index0 + run.inputs.base"),
    ]
    wf = _loop("[3, 2, 1]", body, ["b0.output -> b1.input", "b1.output -> c.value"], concurrency=3)
    wf = wf.model_copy(update={"inputs": (RunInput(name="base", type="integer", required=False, default=100),)})
    result, events = _run(wf)
    assert result.status == "succeeded", result.error
    # the body reads the item, its index (loop.index0) and the run's own inputs (run.inputs)
    assert result.outputs == {"results": [130, 121, 112]}
    items = [e for e in events if isinstance(e, RunStarted) and e.parent_node_id == "fe"]
    assert sorted(e.inputs["for_each_index"] for e in items) == [0, 1, 2]
    assert all(e.run_id.endswith(f"item_{e.inputs['for_each_index']}") for e in items)
    # each item's body steps are in the journal's events, under the item's own run
    body_steps = {(e.run_id.rsplit(".", 1)[-1], e.node_id) for e in events if isinstance(e, NodeSucceeded)}
    assert {("item_0", "b1"), ("item_1", "b1"), ("item_2", "b1")} <= body_steps
    assert result.warnings == []
    # the run's view shows the body's nodes with their items' end, the brackets with their own
    view = RunView.replay(result.run_id, events)
    assert view.nodes["b0"].status == view.nodes["b1"].status == "succeeded"
    assert view.nodes["fe"].status == "succeeded" and ("b1", 0) not in view.passes


def test_concurrency_bounds_the_items_running_at_once() -> None:
    body = [node("b0", "t.sleep", seconds=0.05)]
    result, events = _run(_loop("[1, 2, 3, 4, 5, 6]", body, ["b0.output -> c.value"], concurrency=2))
    assert result.outputs == {"results": [1, 2, 3, 4, 5, 6]}
    running, most = 0, 0
    for e in events:
        if isinstance(e, NodeStarted) and e.node_id == "b0":
            running += 1
            most = max(most, running)
        elif isinstance(e, NodeSucceeded) and e.node_id == "b0":
            running -= 1
    assert most == 2


def test_items_the_body_filters_out_leave_no_result() -> None:
    body = [node("b0", "condition", expression="inputs.value % 2 == 0"), node("b1", "t.noop")]
    edges = ["b0.true -> b1.input", "b1.output -> c.value"]
    wf = _loop("[1, 2, 3, 4]", body, edges)
    kept = [e for e in wf.edges if e.target != "b0"]
    wf = wf.model_copy(update={"edges": (*kept, edge("fe.item -> b0.value"))})
    result, _ = _run(wf)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"results": [2, 4]}


def test_a_list_longer_than_max_items_runs_its_first_items_and_the_run_says_so() -> None:
    body = [node("b0", "t.noop")]
    result, events = _run(_loop("[1, 2, 3, 4, 5]", body, ["b0.output -> c.value"], max_items=3))
    assert result.status == "succeeded" and result.outputs == {"results": [1, 2, 3]}
    expected = "'fe': the list has 5 items, more than max_items (3): only the first 3 ran"
    assert result.warnings == [expected]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.warnings == [expected]
    on_node = [e for e in events if isinstance(e, NodeLog) and e.node_id == "fe" and e.level == "warning"]
    assert len(on_node) == 1 and "max_items (3)" in on_node[0].message
    view = RunView.replay(result.run_id, events)
    assert view.warnings == [expected]


def test_a_loop_edge_that_stops_at_max_iterations_is_in_the_run_result() -> None:
    wf = workflow(
        [node("count", "transform", expression="(inputs.input if inputs.input is defined else 0) + 1"),
         node("again", "t.noop")],
        ["count.output -> again.input", edge("again.output -> count.input", loop=3)],
    )  # fmt: skip
    result, _ = _run(wf)
    assert result.status == "succeeded"
    assert len(result.warnings) == 1 and "maximum of 3 iterations" in result.warnings[0]
    assert result.warnings[0].startswith("'again':")


def test_a_failed_item_fails_the_node_or_is_included() -> None:
    body = [node("b0", "transform", expression="10 / inputs.input")]
    failed, events = _run(_loop("[1, 0, 2]", body, ["b0.output -> c.value"], concurrency=1))
    assert failed.status == "failed" and "item 2 failed" in failed.error.message  # the second, counted from 1
    assert RunView.replay(failed.run_id, events).nodes["b0"].status == "failed"  # worst of its items
    kept, _ = _run(_loop("[1, 0, 2]", body, ["b0.output -> c.value"], concurrency=1, item_errors="include"))
    assert kept.status == "succeeded"
    results = kept.outputs["results"]
    assert results[0] == 10 and results[2] == 5 and "error" in results[1]


def _problems(wf: Any) -> list[tuple[str, str | None, str | None]]:
    return [(p.code, p.node_id, p.edge_id) for p in validate(wf, catalog_with([])) if p.code.startswith("body-")]


def test_a_body_must_end_in_one_collect() -> None:
    open_body = workflow(
        [node("src", "transform", expression="[1]"), node("fe", "for_each"), node("b0", "t.noop"),
         node("out", "output", name="r")],
        ["src.output -> fe.items", "fe.item -> b0.input", "b0.output -> out.value"],
    )  # fmt: skip
    assert ("body-not-closed", "fe", None) in _problems(open_body)
    lonely = workflow([node("src", "transform", expression="[1]"), node("c", "collect")], ["src.output -> c.value"])
    assert _problems(lonely) == [("body-not-closed", "c", None)]


def test_edges_may_cross_the_body_only_through_for_each_and_collect() -> None:
    body = [node("b0", "t.noop")]
    wf = _loop("[1]", body, ["b0.output -> c.value"])
    side = node("side", "transform", expression="1")
    leak_in = wf.model_copy(update={"nodes": (*wf.nodes, side), "edges": (*wf.edges, edge("side.output -> b0.input"))})
    assert ("body-leaks", None, "e_side_output_b0_input") in _problems(leak_in)
    sink = node("sink", "output", name="sink")
    leak_out = wf.model_copy(update={"nodes": (*wf.nodes, sink), "edges": (*wf.edges, edge("b0.output -> sink.value"))})
    assert ("body-leaks", "sink", "e_b0_output_sink_value") in _problems(leak_out)
    assert _problems(wf) == []


def test_an_edge_back_across_the_body_is_refused_and_the_error_port_stays_outside() -> None:
    body = [node("b0", "t.noop")]
    wf = _loop("[1]", body, ["b0.output -> c.value"])
    back = wf.model_copy(update={"edges": (*wf.edges, edge("b0.output -> fe.items", loop=3))})
    assert ("body-leaks", None, "e_b0_output_fe_items") in _problems(back)
    # the for-each's error port (on_error: continue) leads outside its body, and runs there
    handled = workflow(
        [node("src", "transform", expression="'not a list'"), node("fe", "for_each", on_error="continue"),
         node("b0", "t.noop"), node("c", "collect"), node("out", "output", name="results"),
         node("oops", "output", name="error")],
        ["src.output -> fe.items", "fe.item -> b0.input", "b0.output -> c.value", "c.results -> out.value",
         "fe.error -> oops.value"],
    )  # fmt: skip
    assert _problems(handled) == []
    result, _ = _run(handled)
    assert result.status == "succeeded" and "must be a list" in result.outputs["error"]["message"]

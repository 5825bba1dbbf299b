"""Statuses that tell the truth: after a cancel, what a template sees of other nodes, loop.index in nested loops."""

from __future__ import annotations

import asyncio
from typing import Any

from support.wfbuild import catalog_with, edge, node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import NodeSucceeded, RunFinished
from flowdesk.engine.runner import run_workflow, start_run
from flowdesk.engine.services import EngineServices


def test_nodes_that_never_started_are_not_run_after_a_cancel() -> None:
    calls: list[tuple[str, int, int]] = []
    wf = workflow([node(f"s{i:02d}", "t.sleep", seconds=30) for i in range(20)], concurrency=4)

    async def go() -> tuple[Any, list[Any]]:
        bus = EventBus()
        sub = bus.subscribe()
        handle = start_run(wf, catalog_with(calls), EngineServices(), bus=bus)
        while len(calls) < 4:
            await asyncio.sleep(0.005)
        handle.cancel()
        return await asyncio.wait_for(handle.wait(), 5), sub.drain()

    result, events = asyncio.run(go())
    started = {c[0] for c in calls}
    assert result.status == "cancelled"
    assert {n: s for n, s in result.node_status.items() if n in started} == dict.fromkeys(started, "cancelled")
    assert {n: s for n, s in result.node_status.items() if n not in started} == {
        n: "not_run" for n in result.node_status if n not in started
    }
    finished = [e for e in events if isinstance(e, RunFinished)][-1]
    assert finished.node_counts == {"cancelled": 4, "not_run": 16}


def _template_error(expression: str) -> str:
    """'read' runs once 'gate' has decided, so 'maybe' (on the branch not taken) is skipped by then."""
    wf = workflow(
        [
            node("start", "start"),
            node("gate", "condition", expression="false"),
            node("maybe", "t.noop"),
            node("read", "transform", expression=expression),
        ],
        ["start.inputs -> gate.value", "gate.true -> maybe.input", "gate.false -> read.input"],
    )
    result = asyncio.run(run_workflow(wf, catalog_with([]), EngineServices()))
    assert result.status == "failed"
    assert result.error is not None
    return result.error.message


def test_a_template_reading_a_node_that_does_not_exist_says_so() -> None:
    message = _template_error("nodes.ghost.output")
    assert "there is no node 'ghost' in this workflow" in message
    assert "NodesScope" not in message
    # and `is defined` still tells whether there is such a node with an output
    wf = workflow(
        [node("start", "start"), node("read", "transform", expression="nodes.ghost is defined")],
        ["start.inputs -> read.input"],
    )
    result = asyncio.run(run_workflow(wf, catalog_with([]), EngineServices()))
    assert result.status == "succeeded", result.error
    assert result.node_outputs["read"] == {"output": False}


def test_a_template_reading_a_skipped_node_says_it_was_skipped() -> None:
    message = _template_error("nodes.maybe.output")
    assert "node 'maybe' was skipped" in message
    assert "NodesScope" not in message


def test_loop_index_restarts_for_each_pass_of_an_enclosing_loop() -> None:
    """An inner loop that runs while loop.index < 4 runs four passes on each of the outer loop's three."""
    wf = workflow(
        [
            node("o", "transform", expression="(inputs.input if inputs.input is defined else 0) + 1"),
            node("i", "transform", expression="loop.index"),
            node("ic", "condition", expression="inputs.value < 4"),
            node("iback", "t.noop"),
            node("oc", "condition", expression="nodes.o.output.output < 3"),
            node("oback", "transform", expression="nodes.o.output.output"),
            node("out", "output", name="final"),
        ],
        [
            "o.output -> i.input",
            "i.output -> ic.value",
            "ic.true -> iback.input",
            edge("iback.output -> i.input", loop=10),
            "ic.false -> oc.value",
            "oc.true -> oback.input",
            edge("oback.output -> o.input", loop=10),
            "oc.false -> out.value",
        ],
    )

    async def go() -> tuple[Any, list[Any]]:
        bus = EventBus()
        sub = bus.subscribe()
        result = await run_workflow(wf, catalog_with([]), EngineServices(), bus=bus)
        return result, sub.drain()

    result, events = asyncio.run(go())
    assert result.status == "succeeded", result.error
    seen = [e.outputs["output"] for e in events if isinstance(e, NodeSucceeded) and e.node_id == "i"]
    assert seen == [1, 2, 3, 4] * 3

"""An inner loop's iteration count is not reset when an enclosing loop starts a new pass."""

import asyncio

from review_common import *

from flowdesk.engine.events import NodeLog


def test_inner_loop_gets_its_full_budget_on_every_outer_pass():
    calls = []
    wf = workflow(
        [
            node("o", "transform", expression="(inputs.input if inputs.input is defined else 0) + 1"),
            node(
                "i",
                "transform",
                expression="{'k': inputs.input, 'j': 1} if inputs.input is number else {'k': inputs.input.k, 'j': inputs.input.j + 1}",
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

    async def go():
        bus = EventBus()
        sub = bus.subscribe()
        res = await asyncio.wait_for(run_workflow(wf, catalog_with(calls), EngineServices(), bus=bus), 3)
        return res, sub.drain()

    res, events = asyncio.run(go())
    print(res.status, res.outputs, res.node_status, res.iterations)
    print([e.message for e in events if isinstance(e, NodeLog)])
    assert res.outputs == {"final": {"k": 3, "j": 3}}

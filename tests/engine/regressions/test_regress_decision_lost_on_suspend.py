"""With suspend_on_wait, a decision given in the same event-loop turn in which another node finishes is lost:
_check_finished counts the decided-but-not-yet-resumed approval as still waiting and suspends the run."""

import asyncio

from review_common import *
from support.wfbuild import ProbeConfig, probe_kinds

from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.nodes.kinds import BUILTIN_KINDS
from flowdesk.nodes.registry import Registry

HANDLE = {}


async def decider(ctx, inputs, config):
    # stands in for a UI callback that runs in the same loop turn as this node's completion
    HANDLE["h"].approve("ask")
    return {"output": 1}


def test_decision_in_same_turn_as_a_completion():
    calls = []
    kinds = [
        *BUILTIN_KINDS,
        *probe_kinds(calls),
        KindSpec(
            name="t.decider",
            display_name="d",
            category="Test",
            description="d",
            config_model=ProbeConfig,
            ports=NodePorts((PortSpec("input"),), (PortSpec("output"),)),
            run=decider,
        ),
    ]

    async def go():
        wf = workflow(
            [
                node("ask", "approval", message="go?"),
                node("after", "t.noop"),
                node("gate", "t.sleep", seconds=0.05),
                node("w", "t.decider"),
            ],
            ["ask.approved -> after.input", "gate.output -> w.input"],
        )
        h = start_run(wf, Registry(kinds), EngineServices(), suspend_on_wait=True)
        HANDLE["h"] = h
        return await asyncio.wait_for(h.wait(), 2)

    res = asyncio.run(go())
    print(res.status, res.node_status)
    assert res.status == "succeeded", f"approval was granted but the run ended {res.status}: {res.node_status}"

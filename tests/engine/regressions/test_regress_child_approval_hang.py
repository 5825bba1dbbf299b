"""An approval node inside a subworkflow can never be decided: the parent run hangs (or never suspends)."""

import asyncio

from review_common import *


class DictResolver:
    def __init__(self, wfs):
        self.wfs = wfs

    def resolve(self, ref):
        return self.wfs[ref]


def test_approval_in_child_can_be_answered_or_suspends():
    calls = []

    async def go():
        child = workflow(
            [node("ask", "approval", message="ok?"), node("after", "t.noop")], ["ask.approved -> after.input"]
        )
        services = EngineServices(workflows=DictResolver({"child": child}))
        parent = workflow([node("sub", "subworkflow", workflow="child")])
        h = start_run(parent, catalog_with(calls), services, suspend_on_wait=True)
        await asyncio.sleep(0.2)
        info = (h.status, h.waiting_for, h.approve("ask"))
        try:
            res = await asyncio.wait_for(h.wait(), 1.0)
            return info, res.status
        except TimeoutError:
            h.cancel()
            return info, "HUNG"

    info, status = asyncio.run(go())
    print(info, status)
    assert status != "HUNG", f"parent run hangs; parent status/waiting_for/approve() = {info}"

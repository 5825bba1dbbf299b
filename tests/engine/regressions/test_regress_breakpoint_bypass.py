"""A breakpoint is silently passed when the user pauses while its node becomes ready and then resumes."""

import asyncio

from review_common import *

from flowdesk.engine.events import RunPaused


def test_user_pause_then_resume_skips_the_breakpoint():
    calls = []

    async def go():
        bus = EventBus()
        sub = bus.subscribe()
        wf = workflow(
            [node("a", "t.sleep", seconds=0.05), node("b", "t.noop", breakpoint=True)], ["a.output -> b.input"]
        )
        h = start_run(wf, catalog_with(calls), EngineServices(), bus=bus)
        await until(lambda: h.node_status["a"] == "running")
        h.pause()  # user pause while 'a' runs
        await until(lambda: h.node_status["b"] == "queued")
        h.resume()  # user resumes: b should now stop at its breakpoint
        await asyncio.sleep(0.05)
        status = h.node_status["b"]
        if status == "queued":
            h.resume()
        res = await asyncio.wait_for(h.wait(), 2)
        return status, [e for e in sub.drain() if isinstance(e, RunPaused)]

    status, pauses = asyncio.run(go())
    print(status, pauses)
    assert any(p.reason == "breakpoint" for p in pauses), "breakpoint on 'b' never hit"

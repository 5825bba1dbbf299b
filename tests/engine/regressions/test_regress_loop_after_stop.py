"""A loop pass held back by a still-running body node is started AFTER the run was cancelled/failed."""

import asyncio

from review_common import *

from flowdesk.engine.events import LoopIterated, NodeCancelled, NodeQueued


def _wf(slow_kind="t.sleep", **slow):
    # t -> fix (fast, loops back to t) and t -> slow (still running when fix fires the loop)
    return workflow(
        [node("t", "t.noop"), node("fix", "t.noop"), node("slow", slow_kind, **slow)],
        ["t.output -> fix.input", "t.output -> slow.input", edge("fix.output -> t.input", loop=5)],
    )


def test_cancel_with_pending_loop():
    calls = []

    async def go():
        bus = EventBus()
        sub = bus.subscribe()
        h = start_run(_wf(seconds=0.3), catalog_with(calls), EngineServices(), bus=bus)
        await until(lambda: h.node_status["fix"] == "succeeded")
        h.cancel()
        res = await asyncio.wait_for(h.wait(), 2)
        return res, sub.drain()

    res, events = asyncio.run(go())
    after_cancel = events[[i for i, e in enumerate(events) if isinstance(e, NodeCancelled)][0] :]
    print(res.status, res.node_status, res.iterations)
    print([type(e).__name__ for e in after_cancel])
    assert res.status == "cancelled"
    assert not any(isinstance(e, (LoopIterated, NodeQueued)) for e in after_cancel), "loop restarted after cancel"
    assert res.node_status["t"] in ("succeeded", "cancelled"), res.node_status


def test_failure_with_pending_loop():
    calls = []

    async def go():
        bus = EventBus()
        sub = bus.subscribe()
        wf = workflow(
            [
                node("t", "t.noop"),
                node("fix", "t.noop"),
                node("slow", "t.sleep", seconds=0.1),
                node("bad", "t.flaky", fail_times=5),
            ],
            [
                "t.output -> fix.input",
                "t.output -> slow.input",
                "slow.output -> bad.input",
                edge("fix.output -> t.input", loop=5),
            ],
        )
        res = await asyncio.wait_for(run_workflow(wf, catalog_with(calls), EngineServices(), bus=bus), 3)
        return res, sub.drain()

    res, events = asyncio.run(go())
    print(res.status, res.node_status, res.iterations)
    print([type(e).__name__ for e in events])
    assert res.status == "failed"
    fin = [i for i, e in enumerate(events) if type(e).__name__ == "NodeFailed"][0]
    assert not any(isinstance(e, LoopIterated) for e in events[fin:]), "loop restarted after the run failed"

import asyncio
import time

from review_common import *


def test_loop_pass_is_not_held_back_by_an_unrelated_branch():
    """Loop body: t -> fix(loops) and t -> side(0.1s). Outside the body: 'other' sleeps 1.5 s.
    The 2nd pass must start when 'side' ends (body quiesced), not when the unrelated 'other' ends."""
    calls = []

    async def go():
        wf = workflow(
            [
                node("t", "t.noop"),
                node("fix", "t.noop"),
                node("side", "t.sleep", seconds=0.1),
                node("other", "t.sleep", seconds=1.5),
            ],
            ["t.output -> fix.input", "t.output -> side.input", edge("fix.output -> t.input", loop=2)],
        )
        h = start_run(wf, catalog_with(calls), EngineServices())
        t0 = time.monotonic()
        await until(lambda: ("t", 1, 1) in calls, timeout=3)
        return time.monotonic() - t0

    waited = asyncio.run(go())
    print("second pass started after", round(waited, 2), "s")
    assert waited < 0.8, f"second loop pass waited {waited:.2f}s for an unrelated node"


def test_approval_decided_while_paused_does_not_announce_resumed():
    calls = []

    async def go():
        bus = EventBus()
        sub = bus.subscribe()
        wf = workflow(
            [node("ask", "approval", message="go?"), node("after", "t.noop")], ["ask.approved -> after.input"]
        )
        h = start_run(wf, catalog_with(calls), EngineServices(), bus=bus)
        await until(lambda: h.waiting_for == ["ask"])
        h.pause()
        sub.drain()
        h.approve("ask")
        await asyncio.sleep(0.05)
        evs = sub.drain()
        status = h.status
        h.resume()
        await h.wait()
        return status, [type(e).__name__ for e in evs]

    status, evs = asyncio.run(go())
    print(status, evs)
    assert "RunResumed" not in evs, f"RunResumed emitted while the run is still paused ({status}): {evs}"

import asyncio

from review_common import *


def _events(wf, calls):
    async def go():
        bus = EventBus()
        sub = bus.subscribe()
        res = await asyncio.wait_for(run_workflow(wf, catalog_with(calls), EngineServices(), bus=bus), 3)
        return res, sub.drain()

    return asyncio.run(go())


def test_body_node_waiting_on_outside_input_loses_a_pass():
    """t -> fix (loops back to t, 2 passes) ; t -> y <- s (slow, outside the body).
    y is idle (waiting on s) when fix fires the loop; the body counts as quiesced and is reset,
    so y's pass-0 input from t is discarded: y runs once (as iteration 1), pass 0 has no record at all."""
    calls = []
    wf = workflow(
        [node("t", "t.noop"), node("fix", "t.noop"), node("s", "t.sleep", seconds=0.2), node("y", "merge", inputs=2)],
        ["t.output -> fix.input", "t.output -> y.in_1", "s.output -> y.in_2", edge("fix.output -> t.input", loop=2)],
    )
    res, events = _events(wf, calls)
    y_iters = sorted(
        {
            e.iteration
            for e in events
            if getattr(e, "node_id", None) == "y"
            and type(e).__name__ in ("NodeSucceeded", "NodeSkipped", "NodeFailed", "NodeCancelled")
        }
    )
    print(res.status, res.iterations, y_iters)
    assert y_iters == [0, 1], f"y has a record only for iterations {y_iters} of 2 passes"


def test_merge_first_fed_by_initial_value_and_loop_edge():
    """init -> m.in_1 (merge 'first'), loop: back -> m.in_2. Later passes keep getting the stale initial value."""
    calls = []
    wf = workflow(
        [
            node("init", "transform", expression="0"),
            node("m", "merge", inputs=2, mode="first"),
            node("inc", "transform", expression="inputs.input + 1"),
            node("c", "condition", expression="inputs.value < 3"),
            node("back", "t.noop"),
            node("out", "output", name="n"),
        ],
        [
            "init.output -> m.in_1",
            "m.output -> inc.input",
            "inc.output -> c.value",
            "c.true -> back.input",
            "c.false -> out.value",
            edge("back.output -> m.in_2", loop=10),
        ],
    )
    res, events = _events(wf, calls)
    print(res.status, res.outputs, res.iterations)
    assert res.outputs == {"n": 3}

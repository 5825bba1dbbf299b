"""Child runs (subworkflow / map) keep running after their parent node is cancelled."""

import asyncio

from review_common import *


class DictResolver:
    def __init__(self, wfs):
        self.wfs = wfs

    def resolve(self, ref):
        return self.wfs[ref]


def _child():
    return workflow([node("slow", "t.sleep", seconds=0.3), node("after", "t.noop")], ["slow.output -> after.input"])


def test_cancel_parent_cancels_child():
    calls = []

    async def go():
        services = EngineServices(workflows=DictResolver({"child": _child()}))
        parent = workflow([node("sub", "subworkflow", workflow="child")])
        h = start_run(parent, catalog_with(calls), services)
        await until(lambda: ("slow", 0, 1) in calls)
        h.cancel()
        res = await asyncio.wait_for(h.wait(), 2)
        n_at_finish = len(calls)
        await asyncio.sleep(0.5)
        leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return res, calls[n_at_finish:], leftovers

    res, later_calls, leftovers = asyncio.run(go())
    print(res.status, later_calls, leftovers)
    assert res.status == "cancelled"
    assert later_calls == [], f"child run kept executing nodes after the parent was cancelled: {later_calls}"


def test_subworkflow_retry_after_timeout_reuses_child_run_id_and_leaks_first_child():
    calls = []

    async def go():
        journal = MemoryJournal()
        services = EngineServices(workflows=DictResolver({"child": _child()}))
        parent = workflow(
            [
                node(
                    "sub",
                    "subworkflow",
                    workflow="child",
                    timeout_s=0.1,
                    retry={"max_attempts": 2, "retry_on": ["timeout"], "initial_delay_s": 0.0},
                )
            ]
        )
        res = await asyncio.wait_for(run_workflow(parent, catalog_with(calls), services, journal=journal), 3)
        await asyncio.sleep(0.5)
        starts = [e.run_id for e in journal.events if type(e).__name__ == "RunStarted"]
        return res, starts

    res, starts = asyncio.run(go())
    print(res.status, starts, calls)
    assert len(starts) == len(set(starts)), f"two child runs share a run id: {starts}"

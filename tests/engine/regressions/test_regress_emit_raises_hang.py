"""An exception raised while handling a node's outcome (here: the journal's record()) escapes _node_task
after the task was removed from _tasks; _pump is never called again and the run never finishes."""

import asyncio

from review_common import *


class BadJournal(MemoryJournal):
    def record(self, event):
        if type(event).__name__ == "NodeSucceeded" and event.node_id == "a":
            raise ValueError("disk full")
        super().record(event)


def test_record_failure_does_not_hang_the_run():
    calls = []

    async def go():
        wf = workflow([node("a", "t.noop"), node("b", "t.noop")], ["a.output -> b.input"])
        h = start_run(wf, catalog_with(calls), EngineServices(), journal=BadJournal())
        try:
            return (await asyncio.wait_for(h.wait(), 1.0)).status
        except TimeoutError:
            return "HUNG"

    status = asyncio.run(go())
    print(status)
    assert status != "HUNG"

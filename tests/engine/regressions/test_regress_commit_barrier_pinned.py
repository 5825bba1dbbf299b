"""Pinned / restored results are not committed before their successors start (durability barrier)."""

import asyncio

from review_common import *

from flowdesk.engine.results import PriorOutcome
from flowdesk.model.workflow import PinnedOutput


class CheckingJournal(MemoryJournal):
    def __init__(self):
        super().__init__()
        self.violations = []

    def record(self, event):
        if type(event).__name__ == "NodeStarted":
            done = {e.node_id for e in self.events[: self.committed] if type(e).__name__ == "NodeSucceeded"}
            if event.node_id == "b" and "a" not in done:
                self.violations.append(event.node_id)
        super().record(event)


def _run(**kw):
    calls = []
    journal = CheckingJournal()
    wf = workflow([node("a", "t.noop", **kw.pop("a_opts", {})), node("b", "t.noop")], ["a.output -> b.input"])
    res = asyncio.run(run_workflow(wf, catalog_with(calls), EngineServices(), journal=journal, **kw))
    return res, journal.violations


def test_ran_node_is_committed_first():  # control: passes
    res, v = _run()
    assert res.ok and v == []


def test_restored_node_is_committed_before_successor_starts():
    res, v = _run(prior={("a", 0): PriorOutcome("succeeded", {"output": 1})})
    assert res.ok and v == [], "b started before a's restored result was committed"


def test_pinned_node_is_committed_before_successor_starts():
    res, v = _run(a_opts={"pinned": PinnedOutput(outputs={"output": 1})})
    assert res.ok and v == [], "b started before a's pinned result was committed"

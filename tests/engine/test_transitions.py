"""The scheduling rules as pure transitions: a node's outcome in, ready nodes and events out, no asyncio."""

from __future__ import annotations

from typing import Any

from support.wfbuild import catalog_with, edge, node, workflow

from flowdesk.engine.events import NO_USAGE, ErrorInfo
from flowdesk.engine.journal import MemoryJournal
from flowdesk.engine.outlet import EventOutlet
from flowdesk.engine.plan import Plan
from flowdesk.engine.results import Outcome
from flowdesk.engine.run_state import RunState
from flowdesk.engine.sandbox import Sandbox
from flowdesk.engine.transitions import Transitions


class Machine:
    """A plan's state and its transitions, with the events and stop requests they produce."""

    def __init__(self, wf: Any) -> None:
        self.plan = Plan(wf, catalog_with([]))
        self.state = RunState(self.plan, {}, {})
        self.journal = MemoryJournal()
        self.stops: list[tuple[str, ErrorInfo | None]] = []
        self.step = Transitions(self.state, EventOutlet(None, self.journal), "r1", lambda: 0.0, Sandbox(), self._stop)

    def _stop(self, status: str, error: ErrorInfo | None) -> None:
        self.stops.append((status, error))

    def index(self, node_id: str) -> int:
        return self.plan.by_id[node_id]

    def finish(self, node_id: str, **outputs: Any) -> None:
        self.state.ready.remove(self.index(node_id))
        self.step.complete(self.index(node_id), Outcome(True, outputs, 1, 0.0, NO_USAGE))

    def fail(self, node_id: str) -> None:
        self.state.ready.remove(self.index(node_id))
        error = ErrorInfo(message="boom", node_id=node_id)
        self.step.complete(self.index(node_id), Outcome(False, {}, 1, 0.0, NO_USAGE, error))

    def ready(self) -> list[str]:
        return [self.plan.nodes[i].id for i in self.state.ready]

    def events(self) -> list[str]:
        return [f"{e.type}:{e.node_id}" for e in self.journal.events]

    def status(self, node_id: str) -> str:
        return self.state.status[self.index(node_id)]


def test_a_node_is_ready_once_all_its_inputs_arrived_and_a_branch_not_taken_is_skipped() -> None:
    m = Machine(
        workflow(
            [
                node("a", "t.noop"),
                node("b", "t.noop"),
                node("j", "merge"),
                node("c", "condition"),
                node("yes", "t.noop"),
                node("after", "t.noop"),
            ],
            [
                "a.output -> j.in_1",
                "b.output -> j.in_2",
                "j.output -> c.value",
                "c.true -> yes.input",
                "yes.output -> after.input",
            ],
        )
    )
    for root in ("a", "b"):
        m.step.make_ready(m.index(root))
    m.finish("a", output=1)
    assert m.ready() == ["b"], "the merge waits for its second input"
    m.finish("b", output=2)
    assert m.ready() == ["j"]
    m.finish("j", output=[1, 2])
    m.finish("c", false=[1, 2])
    assert m.ready() == [] and m.status("yes") == "skipped" and m.status("after") == "skipped"
    assert m.events()[-2:] == ["node_skipped:yes", "node_skipped:after"]
    reasons = {e.node_id: e.reason for e in m.journal.events if e.type == "node_skipped"}
    assert reasons["yes"] == "no value arrived on 'input' ('c'.true did not fire)"
    assert m.stops == []


def test_a_failure_stops_the_run_unless_the_node_sends_it_on() -> None:
    m = Machine(
        workflow(
            [
                node("a", "t.noop"),
                node("b", "t.noop", on_error="continue"),
                node("handler", "t.noop"),
                node("next", "t.noop"),
            ],
            ["a.output -> b.input", "b.error -> handler.input", "b.output -> next.input"],
        )
    )
    m.step.make_ready(m.index("a"))
    m.finish("a", output=1)
    m.fail("b")
    assert m.stops == [], "on_error continue: the error goes on through the error port"
    assert m.ready() == ["handler"] and m.status("next") == "skipped"

    m2 = Machine(workflow([node("a", "t.noop"), node("b", "t.noop")], ["a.output -> b.input"]))
    m2.step.make_ready(m2.index("a"))
    m2.fail("a")
    assert [status for status, _ in m2.stops] == ["failed"]
    assert "node 'a' (a) failed: boom" in (m2.stops[0][1].message if m2.stops[0][1] else "")


def test_a_loop_starts_its_next_pass_only_once_its_body_is_quiet() -> None:
    m = Machine(
        workflow(
            [node("head", "t.noop"), node("body", "t.noop"), node("side", "t.noop")],
            ["head.output -> body.input", "head.output -> side.input", edge("body.output -> head.input", loop=3)],
        )
    )
    m.step.make_ready(m.index("head"))
    m.finish("head", output="v0")
    assert sorted(m.ready()) == ["body", "side"]
    m.finish("body", output="back")
    assert m.ready() == ["side"], "the next pass waits while 'side' (in the body) is still queued"
    m.finish("side", output="v0")
    m.step.try_loops()
    head = m.index("head")
    assert m.ready() == ["head"] and m.state.iteration[head] == 1 and m.state.loop_pass[head] == 1
    assert m.state.arrived[head] == {"input": "back"}
    assert m.events()[-2:] == ["loop_iterated:head", "node_queued:head"]

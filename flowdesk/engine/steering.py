"""Steering a run from outside: cancel, pause, continue, step, breakpoints and approvals.

A mixin of :class:`~flowdesk.engine.executor.Run`, kept apart from the loop that runs the plan: these
are the calls a person (the app's buttons, the CLI, the service's API) makes while the loop goes on,
and what they change is read by the loop through the attributes declared below.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from flowdesk.engine.events import ErrorInfo, NodeWaiting, RunPaused, RunResumed, RunWaiting
from flowdesk.engine.outlet import EventOutlet
from flowdesk.engine.plan import Plan
from flowdesk.engine.results import RunOptions


class RunSteering:
    """Cancel, pause, step, breakpoints and approvals of a :class:`~flowdesk.engine.executor.Run`."""

    plan: Plan
    options: RunOptions
    run_id: str
    outlet: EventOutlet
    status: list[str]
    iteration: list[int]
    run_status: str
    children: dict[str, Any]
    _now: Callable[[], float]
    _stopping: str | None
    _paused: bool
    _unpaused: asyncio.Event
    _step_budget: int | None
    _bp_passed: set[tuple[int, int]]
    _bp_at: tuple[int, int] | None
    _waiting: dict[int, asyncio.Future[tuple[bool, str]]]

    def _stop(self, status: str, error: ErrorInfo | None = None) -> None:
        raise NotImplementedError

    def _pump(self, *, task: asyncio.Task[None] | None = None) -> int | None:
        raise NotImplementedError

    def _check_finished(self) -> None:
        raise NotImplementedError

    def _held(self, i: int) -> bool:
        """Does a breakpoint, or a step that is used up, hold node ``i`` back? Then the run pauses."""
        pn = self.plan.nodes[i]
        if pn.node.breakpoint and (i, self.iteration[i]) not in self._bp_passed:
            self._bp_at = (i, self.iteration[i])
            self._pause("breakpoint", pn.id)
            return True
        if self._step_budget is not None:
            if self._step_budget == 0:
                self._pause("step", pn.id)
                return True
            self._step_budget -= 1
        return False

    def cancel(self) -> None:
        self._stop("cancelled")

    @property
    def is_paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        if not self._paused and self._stopping is None:
            self._pause("user", None)
            for child in list(self.children.values()):
                child.pause()

    def waiting_nodes(self) -> list[str]:
        """Approval nodes waiting for a decision, in this run and in the runs it started."""
        own = [pn.id for pn in self.plan.nodes if self.status[pn.index] == "waiting"]
        return own + [n for child in list(self.children.values()) for n in child.waiting_for]

    async def until_unpaused(self) -> None:
        """Return when the run is not paused. A child sent to a cluster cannot be paused there, so a
        paused run holds the children it has not sent yet (map items, sub-workflow calls) here."""
        await self._unpaused.wait()

    def _pause(self, reason: str, node_id: str | None) -> None:
        self._paused = True
        self._unpaused.clear()
        self.run_status = "paused"
        self._step_budget = None
        self.outlet.emit(RunPaused(run_id=self.run_id, ts=self._now(), reason=reason, node_id=node_id))

    def resume(self, *, step: bool = False) -> None:
        """Continue after a pause or a breakpoint; with ``step``, pause again before the next node."""
        if not self._paused:
            return
        if self._bp_at is not None:  # only the node the breakpoint stopped may pass it
            self._bp_passed.add(self._bp_at)
            self._bp_at = None
        self._paused = False
        self._unpaused.set()
        for child in list(self.children.values()):
            child.resume()
        self._step_budget = 1 if step else None
        self.run_status = "waiting" if self._waiting else "running"
        self.outlet.emit(RunResumed(run_id=self.run_id, ts=self._now()))
        self._pump()

    async def wait_for_approval(self, i: int, message: str) -> tuple[bool, str]:
        pn = self.plan.nodes[i]
        decided = self.options.decisions.get(pn.id)
        if decided is not None:
            return decided
        future: asyncio.Future[tuple[bool, str]] = asyncio.get_running_loop().create_future()
        self._waiting[i] = future
        self.status[i] = "waiting"
        self.run_status = "waiting"
        now, emit = self._now(), self.outlet.emit
        emit(NodeWaiting(run_id=self.run_id, ts=now, node_id=pn.id, iteration=self.iteration[i], message=message))
        emit(RunWaiting(run_id=self.run_id, ts=now, node_ids=[self.plan.nodes[w].id for w in self._waiting]))
        self._check_finished()
        try:
            return await future
        finally:
            self._waiting.pop(i, None)
            if self._stopping is None and self.status[i] == "waiting":  # not if a race cancelled it
                self.status[i] = "running"

    def decide(self, node_id: str, approved: bool, comment: str = "") -> bool:
        """Answer a waiting approval node; False when that node is not waiting."""
        i = self.plan.by_id.get(node_id)
        future = self._waiting.get(i) if i is not None else None
        if future is None or future.done():  # perhaps a node of a sub-workflow this run started
            children = list(self.children.values())
            return any((c.approve if approved else c.reject)(node_id, comment) for c in children)
        future.set_result((approved, comment))
        if len(self._waiting) == 1 and not self._paused:
            self.run_status = "running"
            self.outlet.emit(RunResumed(run_id=self.run_id, ts=self._now()))
        return True

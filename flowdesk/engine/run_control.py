"""Steering a run from outside: cancel, pause and resume, step past a breakpoint, approvals."""

from __future__ import annotations

import asyncio

from flowdesk.engine.events import NodeWaiting, RunPaused, RunResumed, RunWaiting
from flowdesk.engine.run_state import RunState


class ControlMixin(RunState):
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

    def _pause(self, reason: str, node_id: str | None) -> None:
        self._paused = True
        self.run_status = "paused"
        self._step_budget = None
        self.emit(RunPaused(run_id=self.run_id, ts=self._now(), reason=reason, node_id=node_id))

    def resume(self, *, step: bool = False) -> None:
        """Continue after a pause or a breakpoint; with ``step``, pause again before the next node."""
        if not self._paused:
            return
        if self._bp_at is not None:  # only the node the breakpoint stopped may pass it
            self._bp_passed.add(self._bp_at)
            self._bp_at = None
        self._paused = False
        for child in list(self.children.values()):
            child.resume()
        self._step_budget = 1 if step else None
        self.run_status = "waiting" if self._waiting else "running"
        self.emit(RunResumed(run_id=self.run_id, ts=self._now()))
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
        self.emit(
            NodeWaiting(run_id=self.run_id, ts=self._now(), node_id=pn.id, iteration=self.iteration[i], message=message)
        )
        self.emit(
            RunWaiting(run_id=self.run_id, ts=self._now(), node_ids=[self.plan.nodes[w].id for w in self._waiting])
        )
        self._check_finished()
        try:
            return await future
        finally:
            self._waiting.pop(i, None)
            if self._stopping is None:
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
            self.emit(RunResumed(run_id=self.run_id, ts=self._now()))
        return True

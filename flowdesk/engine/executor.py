"""The run state machine: dependency counting, skips, loops, concurrency, durability barriers.

One :class:`Run` executes one compiled plan. It is callback-driven: a node task's completion
resolves the node's outgoing edges, which counts down its successors' unresolved inputs; a
successor whose count reaches zero is queued (or skipped, if an input was skipped). No scan of the
whole graph happens per step. When a journal is attached, results are committed before any node
that depends on them starts (docs/architecture.md §3).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from flowdesk.engine.attempts import Outcome, run_attempts
from flowdesk.engine.events import (
    NO_USAGE,
    ErrorInfo,
    NodeCancelled,
    NodeFailed,
    NodeQueued,
    NodeSkipped,
    NodeSucceeded,
    RunFinished,
    RunStarted,
)
from flowdesk.engine.loops import LoopsMixin
from flowdesk.engine.results import PriorOutcome, RunResult
from flowdesk.engine.run_control import ControlMixin
from flowdesk.engine.run_state import DELIVERED, NOT_STARTED, SKIPPED, TERMINAL
from flowdesk.model.kinds import ERROR_PORT

log = logging.getLogger(__name__)


class Run(LoopsMixin, ControlMixin):
    """Executes one compiled plan; see the module docstring."""

    # ------------------------------------------------------------------ run
    async def execute(self) -> RunResult:
        clock = self.services.clock
        started = clock.monotonic()
        self._done = asyncio.get_running_loop().create_future()
        self.run_status = "running"
        wf = self.plan.workflow
        self.emit(
            RunStarted(
                run_id=self.run_id,
                ts=self._now(),
                workflow_id=wf.id,
                workflow_name=wf.name,
                inputs=self.inputs,
                node_count=len(self.plan.nodes),
                parent_run_id=self.options.parent_run_id,
                parent_node_id=self.options.parent_node_id,
            )
        )
        for pn in self.plan.nodes:
            if not pn.in_edges:
                self._make_ready(pn.index)
        try:
            self._pump()
            timeout = wf.settings.run_timeout_s
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self._done)
            except TimeoutError:
                self._stop(
                    "failed",
                    ErrorInfo(message=f"the run took longer than its limit of {timeout:g} s", error_class="timeout"),
                )
                await self._drain_tasks()
        except asyncio.CancelledError:
            self._stop("cancelled")
            await self._drain_tasks()
            await self._finish(clock.monotonic() - started)
            raise
        return await self._finish(clock.monotonic() - started)

    async def _finish(self, duration: float) -> RunResult:
        status = self._final_status()
        self.run_status = status
        if status != "waiting":  # a suspended run's later nodes are still to run; a stopped run's never will
            self.status[:] = ["not_run" if s in NOT_STARTED else s for s in self.status]
        counts = dict(Counter(self.status))
        self.emit(
            RunFinished(
                run_id=self.run_id,
                ts=self._now(),
                status=status,
                outputs=self.outputs,
                error=self._error,
                duration_s=duration,
                usage=self.usage,
                node_counts=counts,
            )
        )
        if self.journal is not None:
            try:
                await self.journal.commit()
            except Exception as exc:
                log.error("run %s: the end of the run could not be recorded: %s", self.run_id, exc)
                log.debug("details", exc_info=True)
                if status == "succeeded":  # the record is incomplete: do not report a clean success
                    status = self.run_status = "failed"
                self._error = self._error or ErrorInfo(
                    message=f"the run record could not be saved: {exc}", error_class="node"
                )
        return RunResult(
            run_id=self.run_id,
            status=status,
            outputs=dict(self.outputs),
            error=self._error,
            duration_s=duration,
            usage=self.usage,
            node_status={pn.id: self.status[pn.index] for pn in self.plan.nodes},
            node_outputs=dict(self.node_outputs),
            iterations={pn.id: self.iteration[pn.index] for pn in self.plan.nodes},
            waiting=[pn.id for pn in self.plan.nodes if self.status[pn.index] == "waiting"]
            if status == "waiting"
            else [],
        )

    def _final_status(self) -> str:
        if self._stopping:
            return self._stopping
        never = [pn.id for pn in self.plan.nodes if self.status[pn.index] not in TERMINAL]
        if never:
            self._error = ErrorInfo(
                message=f"internal error: nodes never ran: {', '.join(never[:5])}", error_class="node"
            )
            return "failed"
        return "succeeded"

    # ------------------------------------------------------------ scheduling
    def _make_ready(self, i: int) -> None:
        self.status[i] = "queued"
        self._ready.append(i)
        if self.listening:
            self.emit(
                NodeQueued(
                    run_id=self.run_id, ts=self._now(), node_id=self.plan.nodes[i].id, iteration=self.iteration[i]
                )
            )

    def _pump(self, *, task: asyncio.Task[None] | None = None) -> int | None:
        """Start ready nodes while capacity allows and nothing holds the run back.

        ``task`` is a node task whose node has just finished: the first node to start is handed
        to it (returned) instead of getting a task of its own (see ``_node_task``).
        """
        if self._committing:
            return None
        if self._dirty and self.journal is not None and self._tasks_depend_on_commit():
            self._start_commit()
            return None
        ready, limit = self._ready, self._limit
        handed: int | None = None
        while ready and not self._paused and self._stopping is None and len(self._tasks) < limit:
            i = ready.popleft()
            if self._resolves_some and self._resolve_without_running(i):
                if self.journal is not None and ready:
                    self._start_commit()  # its successors wait for the commit, as after a real run
                    return handed
                continue
            pn = self.plan.nodes[i]
            if pn.node.breakpoint and (i, self.iteration[i]) not in self._bp_passed:
                ready.appendleft(i)
                self._bp_at = (i, self.iteration[i])
                self._pause("breakpoint", pn.id)
                break
            if self._step_budget is not None:
                if self._step_budget == 0:
                    ready.appendleft(i)
                    self._pause("step", pn.id)
                    break
                self._step_budget -= 1
            if task is not None and handed is None:
                self.status[i] = "running"
                self._tasks[i] = task
                handed = i
            else:
                self._launch(i)
        self._check_finished()
        return handed

    def _tasks_depend_on_commit(self) -> bool:
        return bool(self._ready)

    def _start_commit(self) -> None:
        self._committing = True
        # keep a reference: the loop holds tasks weakly, and a collected commit would stall the run
        self._commit_task = asyncio.get_running_loop().create_task(self._commit_then_pump())

    async def _commit_then_pump(self) -> None:
        assert self.journal is not None
        try:
            self._dirty = False
            await self.journal.commit()
        except Exception as exc:
            log.error("run %s: the run journal could not be written: %s", self.run_id, exc)
            log.debug("details", exc_info=True)
            self._stop("failed", ErrorInfo(message=f"the run record could not be saved: {exc}", error_class="node"))
        finally:
            self._committing = False
        self._pump()

    def _launch(self, i: int) -> None:
        self.status[i] = "running"
        self._tasks[i] = asyncio.get_running_loop().create_task(self._node_task(i))

    def _cancel_tasks(self) -> None:
        for i, task in list(self._tasks.items()):
            task.cancel()
            # a task cancelled before its first step never runs ``_node_task``, which accounts for
            # the node; the callback does it then (added here, not to every task: one callback per
            # node was a tenth of the scheduling cost of a run of quick nodes)
            task.add_done_callback(functools.partial(self._cancelled_before_start, i))

    def _cancelled_before_start(self, i: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(i) is task:
            del self._tasks[i]
            self._cancelled(i)
            self._pump()

    async def _node_task(self, i: int) -> None:
        """Run node ``i`` and handle its outcome inside the same task; then each node the run hands
        this task, while it hands one.

        Handling the outcome here, rather than in a done callback, lets successors start in the
        same turn of the event loop. Handing the task on to the next ready node spares a new task
        per node, which costs asyncio an object, its registration and its first step scheduled:
        work that fell between one node's end and the next one's start, and, when many nodes end
        together (a wave of sleepers at full concurrency), spread their successors' starts. A
        handed node still waits one turn of the loop first, as a new task would: a long run of
        quick nodes never keeps the loop, or a cancel, waiting.
        """
        task = asyncio.current_task()
        handed = False
        while True:
            pn = self.plan.nodes[i]
            try:
                if handed:
                    await asyncio.sleep(0)
                # no copy: arrived[i] is replaced, never mutated, once the node has started (see _reset_body)
                outcome = await run_attempts(self, pn, self.iteration[i], self.arrived[i])
            except asyncio.CancelledError:
                self._tasks.pop(i, None)
                self._cancelled(i)
                self._pump()
                raise
            except Exception as exc:
                log.error("run %s: internal error in node %s", self.run_id, pn.id, exc_info=exc)
                error = ErrorInfo(message=f"internal error: {type(exc).__name__}: {exc}", node_id=pn.id)
                outcome = Outcome(False, {}, 1, 0.0, NO_USAGE, error)
            self._tasks.pop(i, None)
            self._waiting.pop(i, None)
            try:
                if self._stopping is None:
                    self._complete(i, outcome)
            except Exception as exc:
                log.exception("run %s: internal error after node %s", self.run_id, pn.id)
                self._stop("failed", ErrorInfo(message=f"internal error: {type(exc).__name__}: {exc}", node_id=pn.id))
            following = self._pump(task=task)
            if following is None:
                return
            i, handed = following, True

    def _cancelled(self, i: int) -> None:
        if self.status[i] == "waiting" and self._stopping == "waiting":
            return  # suspended at an approval: it stays 'waiting', to be decided later
        self.status[i] = "cancelled"
        if self.listening:
            self.emit(
                NodeCancelled(
                    run_id=self.run_id, ts=self._now(), node_id=self.plan.nodes[i].id, iteration=self.iteration[i]
                )
            )

    def _resolve_without_running(self, i: int) -> bool:
        """Nodes whose result is already known finish at once: restored (resume/re-run) or pinned."""
        pn = self.plan.nodes[i]
        prior: PriorOutcome | None = self._prior.get((pn.id, self.iteration[i])) if self._prior else None
        if prior is not None:
            if prior.status == "skipped":
                self._skip(i, "restored from an earlier run", source="restored")
            else:
                if pn.spec.restore is not None:
                    pn.spec.restore(self.make_context(pn, self.iteration[i], 0), self.arrived[i], pn.config)
                self._succeed(i, Outcome(True, dict(prior.outputs), 0, 0.0, NO_USAGE), source="restored")
            return True
        if self.options.use_pins and pn.node.pinned is not None:
            self._succeed(i, Outcome(True, dict(pn.node.pinned.outputs), 0, 0.0, NO_USAGE), source="pinned")
            return True
        return False

    def _complete(self, i: int, outcome: Outcome) -> None:
        pn = self.plan.nodes[i]
        if outcome.usage is not NO_USAGE:
            self.usage = self.usage + outcome.usage
        if outcome.ok:
            self._succeed(i, outcome)
            return
        error = outcome.error or ErrorInfo(message="failed", node_id=pn.id)
        handled = pn.node.on_error == "continue"
        self.status[i] = "failed"
        if self.listening:
            self.emit(
                NodeFailed(
                    run_id=self.run_id,
                    ts=self._now(),
                    node_id=pn.id,
                    iteration=self.iteration[i],
                    attempt=outcome.attempt,
                    error=error,
                    duration_s=outcome.duration_s,
                    handled=handled,
                    usage=outcome.usage,
                )
            )
        if not handled:
            title = pn.node.title
            self._stop("failed", error.with_message(f"node '{title}' ({pn.id}) failed: {error.message}"))
            return
        fired = {
            ERROR_PORT: {
                "message": error.message,
                "error_class": error.error_class,
                "node_id": pn.id,
                "attempts": outcome.attempt,
            }
        }
        self.node_outputs[pn.id] = fired
        self._propagate(i, fired)
        self._fire_loops(i, fired)

    def _succeed(self, i: int, outcome: Outcome, source: str = "run") -> None:
        pn = self.plan.nodes[i]
        self.status[i] = "succeeded"
        outputs = outcome.outputs
        self.node_outputs[pn.id] = outputs
        if self.listening:
            self.emit(
                NodeSucceeded(
                    run_id=self.run_id,
                    ts=self._now(),
                    node_id=pn.id,
                    iteration=self.iteration[i],
                    attempt=outcome.attempt,
                    outputs=outputs,
                    duration_s=outcome.duration_s,
                    usage=outcome.usage,
                    source=source,
                )
            )
        self._propagate(i, outputs)
        if pn.loop_out or self._pending_loops:
            self._fire_loops(i, outputs, restored=source == "restored")

    def _skip(self, i: int, reason: str, source: str = "run") -> None:
        self.status[i] = "skipped"
        if self.listening:
            self.emit(
                NodeSkipped(
                    run_id=self.run_id,
                    ts=self._now(),
                    node_id=self.plan.nodes[i].id,
                    iteration=self.iteration[i],
                    reason=reason,
                    source=source,
                )
            )
        self._propagate(i, None)

    def _propagate(self, start: int, fired: Mapping[str, Any] | None) -> None:
        """Resolve the forward edges leaving ``start``: delivered where its port fired, else skipped.

        Iterative (a worklist), so a skip rippling down a 10,000-node chain needs no deep recursion.
        """
        plan = self.plan
        plan_nodes, source_ports, targets, target_ports = plan.nodes, plan.source_ports, plan.targets, plan.target_ports
        if not plan_nodes[start].out_edges:
            return
        work: list[tuple[int, Mapping[str, Any] | None]] = [(start, fired)]
        while work:
            i, out = work.pop()
            for e in plan_nodes[i].out_edges:
                t, port = targets[e], source_ports[e]
                if out is not None and port in out:
                    self.edge_state[e] = DELIVERED
                    self.edge_value[e] = out[port]
                    self.arrived[t][target_ports[e]] = out[port]
                else:
                    self.edge_state[e] = SKIPPED
                    self.skipped_in[t] += 1
                    if not self.skip_reason[t]:
                        src = plan_nodes[i]
                        self.skip_reason[t] = (
                            f"no value arrived on '{target_ports[e]}' ('{src.node.title}'.{port} did not fire)"
                        )
                self.remaining[t] -= 1
                if self.remaining[t] == 0:
                    if self._should_skip(t):
                        self.status[t] = "skipped"
                        if self.listening:
                            self.emit(
                                NodeSkipped(
                                    run_id=self.run_id,
                                    ts=self._now(),
                                    node_id=plan_nodes[t].id,
                                    iteration=self.iteration[t],
                                    reason=self.skip_reason[t],
                                    source="restored" if self._recorded(t) else "run",
                                )
                            )
                        work.append((t, None))
                    else:
                        self._make_ready(t)

    def _should_skip(self, t: int) -> bool:
        if self.plan.nodes[t].spec.joins:
            return not self.arrived[t]
        return self.skipped_in[t] > 0

    # ------------------------------------------------------------ finishing
    def _check_finished(self) -> None:
        done = self._done
        if done is None or done.done() or self._committing:
            return
        if self._pending_loops and not self._tasks and self._stopping is None:
            self._try_loops()
            if self._ready:
                self._pump()
                return
        if self._stopping is not None:
            if not self._tasks:
                done.set_result(None)
            return
        if self._waiting and self.options.suspend_on_wait and not self._ready:
            undecided = sum(1 for f in self._waiting.values() if not f.done())
            if self._tasks and len(self._tasks) == undecided:
                self._stop("waiting")
                return
        if not self._tasks and not self._ready and not self._paused:
            done.set_result(None)

    def _stop(self, status: str, error: ErrorInfo | None = None) -> None:
        if self._stopping is not None:
            return
        self._stopping = status
        self._pending_loops = []
        if error is not None:
            self._error = error
        self._cancel_tasks()
        self._check_finished()

    async def _drain_tasks(self) -> None:
        tasks = list(self._tasks.values())
        self._cancel_tasks()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

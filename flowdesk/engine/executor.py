"""The run state machine: dependency counting, skips, loops, concurrency, durability barriers.

One :class:`Run` executes one compiled plan. It is callback-driven: a node task's completion
resolves the node's outgoing edges, which counts down its successors' unresolved inputs; a
successor whose count reaches zero is queued (or skipped, if an input was skipped). No scan of the
whole graph happens per step. When a journal is attached, results are committed before any node
that depends on them starts (DESIGN.md §4, durability).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from flowdesk.engine.attempts import Outcome, run_attempts
from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import (
    NO_USAGE,
    ErrorInfo,
    LoopIterated,
    NodeCancelled,
    NodeFailed,
    NodeLog,
    NodeQueued,
    NodeSkipped,
    NodeSucceeded,
    NodeWaiting,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    RunWaiting,
)
from flowdesk.engine.journal import RunJournal
from flowdesk.engine.node_context import RunNodeContext
from flowdesk.engine.plan import Plan, PlanNode
from flowdesk.engine.results import PriorOutcome, RunOptions, RunResult
from flowdesk.engine.services import EngineServices
from flowdesk.model.kinds import ERROR_PORT, Catalog

log = logging.getLogger(__name__)

UNRESOLVED, DELIVERED, SKIPPED = 0, 1, 2
ACTIVE = frozenset({"queued", "running", "waiting"})
TERMINAL = frozenset({"succeeded", "failed", "skipped", "cancelled"})


class NodesScope(Mapping[str, Mapping[str, Any]]):
    """``nodes.<id>.output`` in templates: a live view of finished nodes' outputs, built on demand."""

    __slots__ = ("_outputs",)

    def __init__(self, outputs: dict[str, dict[str, Any]]) -> None:
        self._outputs = outputs

    def __getitem__(self, node_id: str) -> Mapping[str, Any]:
        return {"output": self._outputs[node_id]}

    def __iter__(self) -> Iterator[str]:
        return iter(self._outputs)

    def __len__(self) -> int:
        return len(self._outputs)


class Run:
    def __init__(
        self,
        plan: Plan,
        catalog: Catalog,
        services: EngineServices,
        options: RunOptions,
        bus: EventBus | None = None,
        journal: RunJournal | None = None,
    ) -> None:
        self.plan = plan
        self.catalog = catalog
        self.services = services
        self.options = options
        self.run_id = options.run_id
        self.inputs: dict[str, Any] = dict(options.inputs)
        self.bus = bus
        self.journal = journal
        self.outputs: dict[str, Any] = {}
        self.node_outputs: dict[str, dict[str, Any]] = {}
        self.nodes_scope = NodesScope(self.node_outputs)
        n = len(plan.nodes)
        self.status: list[str] = ["idle"] * n
        self.iteration: list[int] = [0] * n
        self.remaining: list[int] = [len(pn.in_edges) for pn in plan.nodes]
        self.skipped_in: list[int] = [0] * n
        self.arrived: list[dict[str, Any]] = [{} for _ in range(n)]
        self.skip_reason: list[str] = [""] * n
        self.edge_state: list[int] = [UNRESOLVED] * len(plan.edges)
        self.edge_value: list[Any] = [None] * len(plan.edges)
        self.loop_count: dict[int, int] = {}
        self.usage = NO_USAGE
        self._ready: deque[int] = deque()
        self._tasks: dict[asyncio.Task[None], int] = {}
        self._waiting: dict[int, asyncio.Future[tuple[bool, str]]] = {}
        self._pending_loops: list[tuple[int, Any]] = []
        self._paused = False
        self._step_budget: int | None = None
        self._bp_passed: set[tuple[int, int]] = set()
        self._stopping: str | None = None
        self._error: ErrorInfo | None = None
        self._committing = False
        self._dirty = False
        self._done: asyncio.Future[None] | None = None
        self.run_status = "pending"
        self.listening = (bus is not None and bus.active) or journal is not None

    # ------------------------------------------------------------- plumbing
    def emit(self, event: Any) -> None:
        if self.journal is not None:
            self.journal.record(event)
            self._dirty = True
        if self.bus is not None:
            self.bus.publish(event)

    def make_context(self, pn: PlanNode, iteration: int, attempt: int) -> RunNodeContext:
        return RunNodeContext(self, pn, iteration, attempt)

    def _now(self) -> float:
        return self.services.clock.wall()

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
        counts: dict[str, int] = {}
        for s in self.status:
            counts[s] = counts.get(s, 0) + 1
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
            await self.journal.commit()
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

    def _pump(self) -> None:
        """Start ready nodes while capacity allows and nothing holds the run back."""
        if self._committing:
            return
        if self._dirty and self.journal is not None and self._tasks_depend_on_commit():
            self._start_commit()
            return
        limit = self.plan.workflow.settings.max_concurrency
        ready = self._ready
        while ready and not self._paused and self._stopping is None and len(self._tasks) < limit:
            i = ready.popleft()
            if self._resolve_without_running(i):
                continue
            pn = self.plan.nodes[i]
            if pn.node.breakpoint and (i, self.iteration[i]) not in self._bp_passed:
                ready.appendleft(i)
                self._pause("breakpoint", pn.id)
                break
            if self._step_budget is not None:
                if self._step_budget == 0:
                    ready.appendleft(i)
                    self._pause("step", pn.id)
                    break
                self._step_budget -= 1
            self._launch(i)
        self._check_finished()

    def _tasks_depend_on_commit(self) -> bool:
        return bool(self._ready)

    def _start_commit(self) -> None:
        self._committing = True
        asyncio.get_running_loop().create_task(self._commit_then_pump())

    async def _commit_then_pump(self) -> None:
        assert self.journal is not None
        try:
            self._dirty = False
            await self.journal.commit()
        except Exception as exc:
            log.exception("run %s: the run journal could not be written", self.run_id)
            self._stop("failed", ErrorInfo(message=f"the run record could not be saved: {exc}", error_class="node"))
        finally:
            self._committing = False
        self._pump()

    def _launch(self, i: int) -> None:
        self.status[i] = "running"
        task = asyncio.get_running_loop().create_task(self._node_task(i))
        self._tasks[task] = i
        task.add_done_callback(self._cancelled_before_start)

    def _cancelled_before_start(self, task: asyncio.Task[None]) -> None:
        """A task cancelled before its first step never ran ``_node_task``: account for it here."""
        i = self._tasks.pop(task, None)
        if i is not None:
            self._cancelled(i)
            self._pump()

    async def _node_task(self, i: int) -> None:
        """Run node ``i`` and handle its outcome inside the same task.

        Handling the outcome here, rather than in a done callback, lets successors start in the
        same turn of the event loop: one loop iteration per node instead of two.
        """
        pn = self.plan.nodes[i]
        try:
            # no copy: arrived[i] is replaced, never mutated, once the node has started (see _reset_body)
            outcome = await run_attempts(self, pn, self.iteration[i], self.arrived[i])
        except asyncio.CancelledError:
            self._tasks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            self._cancelled(i)
            self._pump()
            raise
        except Exception as exc:
            log.error("run %s: internal error in node %s", self.run_id, pn.id, exc_info=exc)
            outcome = Outcome(
                False,
                {},
                1,
                0.0,
                NO_USAGE,
                ErrorInfo(message=f"internal error: {type(exc).__name__}: {exc}", error_class="node", node_id=pn.id),
            )
        self._tasks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        self._waiting.pop(i, None)
        if self._stopping is None:
            self._complete(i, outcome)
        self._pump()

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
        prior: PriorOutcome | None = self.options.prior.get(pn.id) if self.iteration[i] == 0 else None
        if prior is not None:
            if prior.status == "skipped":
                self._skip(i, "restored from an earlier run", source="restored")
            else:
                self._succeed(i, Outcome(True, dict(prior.outputs), 0, 0.0, NO_USAGE), source="restored")
            return True
        if self.options.use_pins and pn.node.pinned is not None:
            self._succeed(i, Outcome(True, dict(pn.node.pinned.outputs), 0, 0.0, NO_USAGE), source="pinned")
            return True
        return False

    def _complete(self, i: int, outcome: Outcome) -> None:
        pn = self.plan.nodes[i]
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
        self._fire_loops(i, outputs)

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
        plan_nodes, edges = self.plan.nodes, self.plan.edges
        work: list[tuple[int, Mapping[str, Any] | None]] = [(start, fired)]
        while work:
            i, out = work.pop()
            for e in plan_nodes[i].out_edges:
                edge = edges[e]
                t = edge.target
                if out is not None and edge.source_port in out:
                    self.edge_state[e] = DELIVERED
                    self.edge_value[e] = out[edge.source_port]
                    self.arrived[t][edge.target_port] = out[edge.source_port]
                else:
                    self.edge_state[e] = SKIPPED
                    self.skipped_in[t] += 1
                    if not self.skip_reason[t]:
                        src = plan_nodes[i]
                        self.skip_reason[t] = (
                            f"no value arrived on '{edge.target_port}' "
                            f"('{src.node.title}'.{edge.source_port} did not fire)"
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
                                    source="run",
                                )
                            )
                        work.append((t, None))
                    else:
                        self._make_ready(t)

    def _should_skip(self, t: int) -> bool:
        if self.plan.nodes[t].spec.name == "merge":
            return not self.arrived[t]
        return self.skipped_in[t] > 0

    # ----------------------------------------------------------------- loops
    def _fire_loops(self, i: int, fired: Mapping[str, Any]) -> None:
        for e in self.plan.nodes[i].loop_out:
            port = self.plan.edges[e].source_port
            if port in fired:
                self._pending_loops.append((e, fired[port]))
        if self._pending_loops:
            self._try_loops()

    def _try_loops(self) -> None:
        """Start the next pass of each pending loop whose previous pass has quiesced."""
        still: list[tuple[int, Any]] = []
        for e, value in self._pending_loops:
            body = self.plan.loop_body(e)
            if any(self.status[n] in ACTIVE for n in body):
                still.append((e, value))
            else:
                self._next_pass(e, value)
        self._pending_loops = still

    def _next_pass(self, e: int, value: Any) -> None:
        edge = self.plan.edges[e]
        assert edge.loop is not None
        source = self.plan.nodes[edge.source]
        done = self.loop_count.get(e, 0)
        if edge.loop.until:
            scope = self.make_context(source, self.iteration[edge.source], 1).scope({"value": value})
            scope["value"] = value
            try:
                stop = bool(self.services.sandbox.evaluate(edge.loop.until, scope, field=f"loop edge {edge.id} until"))
            except Exception as exc:  # noqa: BLE001 - a bad until expression ends the loop and the run, with the reason
                self._stop("failed", ErrorInfo(message=str(exc), error_class="node", node_id=source.id))
                return
            if stop:
                self._log(edge.source, "info", f"loop edge {edge.id}: 'until' is true, the loop ends")
                return
        if done + 1 >= edge.loop.max_iterations:
            self._log(
                edge.source,
                "warning",
                f"loop edge {edge.id} reached its maximum of {edge.loop.max_iterations} iterations; the loop ends",
            )
            return
        self.loop_count[e] = done + 1
        self._reset_body(e, value)

    def _reset_body(self, e: int, value: Any) -> None:
        edge = self.plan.edges[e]
        body = self.plan.loop_body(e)
        plan_nodes, edges = self.plan.nodes, self.plan.edges
        for n in body:
            self.iteration[n] += 1
            self.status[n] = "idle"
            self.skip_reason[n] = ""
            arrived: dict[str, Any] = {}
            remaining = skipped = 0
            for ie in plan_nodes[n].in_edges:
                in_edge = edges[ie]
                if in_edge.source in body:
                    self.edge_state[ie] = UNRESOLVED
                    remaining += 1
                elif self.edge_state[ie] == DELIVERED:
                    arrived[in_edge.target_port] = self.edge_value[ie]
                elif self.edge_state[ie] == SKIPPED:
                    if not (n == edge.target and in_edge.target_port == edge.target_port):
                        skipped += 1
                else:
                    remaining += 1
            self.arrived[n], self.remaining[n], self.skipped_in[n] = arrived, remaining, skipped
        self.arrived[edge.target][edge.target_port] = value
        if self.listening:
            self.emit(
                LoopIterated(
                    run_id=self.run_id,
                    ts=self._now(),
                    node_id=plan_nodes[edge.target].id,
                    iteration=self.iteration[edge.target],
                    edge_id=edge.id,
                )
            )
        for n in sorted(body):
            if self.remaining[n] == 0 and self.status[n] == "idle":
                if self._should_skip(n):
                    self._skip(n, self.skip_reason[n] or "an input was skipped")
                else:
                    self._make_ready(n)

    def _log(self, i: int, level: str, message: str) -> None:
        if self.listening:
            self.emit(
                NodeLog(
                    run_id=self.run_id,
                    ts=self._now(),
                    node_id=self.plan.nodes[i].id,
                    iteration=self.iteration[i],
                    level=level,
                    message=message,
                )
            )

    # ------------------------------------------------------------ finishing
    def _check_finished(self) -> None:
        done = self._done
        if done is None or done.done() or self._committing:
            return
        if self._pending_loops and not self._tasks:
            self._try_loops()
            if self._ready:
                self._pump()
                return
        if self._stopping is not None:
            if not self._tasks:
                done.set_result(None)
            return
        if self._tasks and len(self._tasks) == len(self._waiting) and not self._ready and self.options.suspend_on_wait:
            self._stop("waiting")
            return
        if not self._tasks and not self._ready and not self._paused:
            done.set_result(None)

    def _stop(self, status: str, error: ErrorInfo | None = None) -> None:
        if self._stopping is not None:
            return
        self._stopping = status
        if error is not None:
            self._error = error
        for task in list(self._tasks):
            task.cancel()
        self._check_finished()

    async def _drain_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # --------------------------------------------------------------- control
    def cancel(self) -> None:
        self._stop("cancelled")

    def pause(self) -> None:
        if not self._paused and self._stopping is None:
            self._pause("user", None)

    def _pause(self, reason: str, node_id: str | None) -> None:
        self._paused = True
        self.run_status = "paused"
        self._step_budget = None
        self.emit(RunPaused(run_id=self.run_id, ts=self._now(), reason=reason, node_id=node_id))

    def resume(self, *, step: bool = False) -> None:
        """Continue after a pause or a breakpoint; with ``step``, pause again before the next node."""
        if not self._paused:
            return
        if self._ready:
            head = self._ready[0]
            self._bp_passed.add((head, self.iteration[head]))
        self._paused = False
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
        if future is None or future.done():
            return False
        future.set_result((approved, comment))
        if len(self._waiting) == 1:
            self.run_status = "paused" if self._paused else "running"
            self.emit(RunResumed(run_id=self.run_id, ts=self._now()))
        return True

    async def run_child(
        self, pn: PlanNode, iteration: int, ref: str, inputs: dict[str, Any], label: str
    ) -> dict[str, Any]:
        from flowdesk.engine.children import run_child_workflow

        return await run_child_workflow(self, pn, iteration, ref, inputs, label)

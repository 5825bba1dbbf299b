"""The loop that runs a plan: node tasks, the concurrency limit, the commit barrier, the end.

One :class:`Run` executes one compiled plan. What moves the run on when a node ends is decided by
the pure transitions (``transitions.py``), which leave the nodes that became ready in
``state.ready``; this loop only does the I/O: it starts ready nodes as tasks while capacity
allows, awaits the journal's commit before any node that depends on a new result starts
(docs/architecture.md §3, durability), enforces the run's time limit, and ends the run. It is
also steered from outside (cancel, pause, step, breakpoints, approvals), and a node reaches it only
through the narrow :class:`~flowdesk.engine.node_context.NodeHost` it provides.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from flowdesk.engine.attempts import run_attempts
from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import (
    NO_USAGE,
    ErrorInfo,
    RunFinished,
    RunStarted,
    Usage,
)
from flowdesk.engine.journal import RunJournal
from flowdesk.engine.node_context import RunNodeContext
from flowdesk.engine.outlet import EventOutlet
from flowdesk.engine.plan import Plan, PlanNode
from flowdesk.engine.remote_nodes import no_cluster_note
from flowdesk.engine.results import Outcome, PriorOutcome, RunOptions, RunResult
from flowdesk.engine.run_state import TERMINAL, RunState
from flowdesk.engine.scope import NodesScope
from flowdesk.engine.services import EngineServices
from flowdesk.engine.steering import RunSteering
from flowdesk.engine.transitions import Transitions
from flowdesk.model.kinds import Catalog
from flowdesk.model.workflow import Settings, Workflow

log = logging.getLogger(__name__)

ChildRunner = Callable[..., Any]
"""Runs a sub-workflow for a node (``children.run_child_workflow`` with the runner's start_run)."""


class Run(RunSteering):
    """Executes one compiled plan; see the module docstring."""

    def __init__(
        self, plan: Plan, catalog: Catalog, services: EngineServices, options: RunOptions,
        bus: EventBus | None = None, journal: RunJournal | None = None, child_runner: ChildRunner | None = None,
    ) -> None:  # fmt: skip
        self.plan, self.catalog, self.services, self.options = plan, catalog, services, options
        self.run_id = options.run_id
        self.bus, self.journal = bus, journal
        self.outlet = EventOutlet(bus, journal)
        self.state = state = RunState(plan, options.inputs, options.prior, options.loop_index)
        self.status, self.iteration, self.arrived = state.status, state.iteration, state.arrived
        self.loop_pass = state.loop_pass
        self._now: Callable[[], float] = services.clock.wall
        self.step = Transitions(state, self.outlet, self.run_id, self._now, services.sandbox, self._stop)
        self.step.abort = self._abort_node
        self._child_runner = child_runner
        self._ready = state.ready
        self._limit = plan.workflow.settings.max_concurrency
        self._tasks: dict[int, asyncio.Task[None]] = {}
        """The running node tasks, by node index (a node runs at most once at a time)."""
        self._resolves_some = bool(options.prior) or (options.use_pins and plan.has_pins)
        """Can any node's result be known without running it (restored, pinned)? Else none is asked."""
        if self._resolves_some:
            self.step.known = self._known_without_running
        self._stopping: str | None = None
        self._error: ErrorInfo | None = None
        self._committing = False
        self._commit_task: asyncio.Task[None] | None = None
        self._done: asyncio.Future[None] | None = None
        self.run_status = "pending"
        self.children: dict[str, Any] = {}
        """Runs started by this run's subworkflow and map nodes, by run id (their RunHandles)."""
        self.checked_children: dict[int, Workflow] = {}
        """Workflows validated here before their children went to a cluster (remote_children.py)."""
        self._paused = False
        self._unpaused = asyncio.Event()
        """Set while the run is not paused: what a child bound for a cluster waits for."""
        self._unpaused.set()
        self._step_budget: int | None = None
        self._has_breakpoints = any(pn.node.breakpoint for pn in plan.nodes)
        self._bp_passed: set[tuple[int, int]] = set()
        self._bp_at: tuple[int, int] | None = None
        self._waiting: dict[int, asyncio.Future[tuple[bool, str]]] = {}

    # ------------------------------------------------------------ the node host (node_context.NodeHost)
    @property
    def run_inputs(self) -> Mapping[str, Any]:
        return self.state.inputs

    @property
    def nodes_scope(self) -> NodesScope:
        return self.state.nodes_scope

    @property
    def time_limit_s(self) -> float | None:
        return self.plan.workflow.settings.run_timeout_s

    @property
    def settings(self) -> Settings:
        return self.plan.workflow.settings

    @property
    def outputs(self) -> dict[str, Any]:
        return self.state.outputs

    def set_run_output(self, name: str, value: Any) -> None:
        self.state.outputs[name] = value

    def add_run_warning(self, message: str) -> None:
        self.state.warnings.append(message)

    async def run_child(
        self, pn: PlanNode, iteration: int, attempt: int, ref: str, inputs: dict[str, Any], label: str,
        spent: Callable[[Usage], None], *, key: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        if self._child_runner is None:
            raise RuntimeError("this run cannot start sub-workflows")
        return await self._child_runner(self, pn, iteration, attempt, ref, inputs, label, spent, key=key)  # type: ignore[no-any-return]

    def make_context(self, pn: PlanNode, iteration: int, attempt: int) -> RunNodeContext:
        return RunNodeContext(self, pn, iteration, attempt)

    # ------------------------------------------------------------------ run
    async def execute(self) -> RunResult:
        clock = self.services.clock
        started = clock.monotonic()
        self._done = asyncio.get_running_loop().create_future()
        self.run_status = "running"
        wf = self.plan.workflow
        self.outlet.emit(
            RunStarted(run_id=self.run_id, ts=self._now(), workflow_id=wf.id, workflow_name=wf.name,
                       inputs=self.state.inputs, node_count=len(self.plan.nodes),
                       parent_run_id=self.options.parent_run_id, parent_node_id=self.options.parent_node_id)
        )  # fmt: skip
        if self.services.remote is None and self.outlet.listening:
            note = no_cluster_note(self.plan, self.run_id, self._now())
            if note is not None:
                self.outlet.emit(note)
        for pn in self.plan.nodes:
            if not pn.in_edges:
                self.step.make_ready(pn.index)
        try:
            self._pump()
            timeout = wf.settings.run_timeout_s
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self._done)
            except TimeoutError:
                message = f"the run took longer than its limit of {timeout:g} s"
                self._stop("failed", ErrorInfo(message=message, error_class="timeout"))
                await self._drain_tasks()
        except asyncio.CancelledError:
            self._stop("cancelled")
            await self._drain_tasks()
            await self._finish(clock.monotonic() - started)
            raise
        return await self._finish(clock.monotonic() - started)

    async def _finish(self, duration: float) -> RunResult:
        self.outlet.close()
        status = self._final_status()
        self.run_status = status
        if status != "waiting":  # a suspended run's later nodes are still to run; a stopped run's never will
            self.step.never_started()
        state = self.state
        self.outlet.emit(
            RunFinished(run_id=self.run_id, ts=self._now(), status=status, outputs=state.outputs, error=self._error,
                        duration_s=duration, usage=state.usage, node_counts=dict(Counter(self.status)),
                        warnings=list(state.warnings))
        )  # fmt: skip
        if self.journal is not None:
            try:
                await self.journal.commit()
            except Exception as exc:
                log.error("run %s: the end of the run could not be recorded: %s", self.run_id, exc)
                log.debug("details", exc_info=True)
                if status == "succeeded":  # the record is incomplete: do not report a clean success
                    status = self.run_status = "failed"
                self._error = self._error or ErrorInfo(message=f"the run record could not be saved: {exc}")
        nodes = self.plan.nodes
        return RunResult(
            run_id=self.run_id, status=status, outputs=dict(state.outputs), error=self._error, duration_s=duration,
            usage=state.usage, node_status={pn.id: self.status[pn.index] for pn in nodes},
            node_outputs=dict(state.node_outputs), iterations={pn.id: self.iteration[pn.index] for pn in nodes},
            waiting=[pn.id for pn in nodes if self.status[pn.index] == "waiting"] if status == "waiting" else [],
            warnings=list(state.warnings),
        )  # fmt: skip

    def _final_status(self) -> str:
        if self._stopping:
            return self._stopping
        never = [pn.id for pn in self.plan.nodes if self.status[pn.index] not in TERMINAL]
        if never:
            self._error = ErrorInfo(message=f"internal error: nodes never ran: {', '.join(never[:5])}")
            return "failed"
        return "succeeded"

    # ------------------------------------------------------------ scheduling
    def _pump(self, *, task: asyncio.Task[None] | None = None) -> int | None:
        """Start ready nodes while capacity allows and nothing holds the run back.

        ``task`` is a node task whose node has just finished: the first node to start is handed
        to it (returned) instead of getting a task of its own (see ``_node_task``).
        """
        if self._committing:
            return None
        if self.outlet.dirty and self.journal is not None and self._ready:
            self._start_commit()
            return None
        ready, limit = self._ready, self._limit
        handed: int | None = None
        while ready and not self._paused and self._stopping is None and len(self._tasks) < limit:
            i = ready.popleft()
            if self.status[i] != "queued":  # cancelled while it waited (a branch that lost a race)
                continue
            if self._resolves_some and self._resolve_without_running(i):
                if self.journal is not None and ready:
                    self._start_commit()  # its successors wait for the commit, as after a real run
                    return handed
                continue
            if (self._step_budget is not None or self._has_breakpoints) and self._held(i):
                ready.appendleft(i)
                break
            if task is not None and handed is None:
                self.status[i] = "running"
                self._tasks[i] = task
                handed = i
            else:
                self.status[i] = "running"
                self._tasks[i] = asyncio.get_running_loop().create_task(self._node_task(i))
        self._check_finished()
        return handed

    def _start_commit(self) -> None:
        self._committing = True
        # keep a reference: the loop holds tasks weakly, and a collected commit would stall the run
        self._commit_task = asyncio.get_running_loop().create_task(self._commit_then_pump())

    async def _commit_then_pump(self) -> None:
        await self._commit()
        self._pump()

    def _commit_in_this_task(self) -> bool:
        """Should the task whose node just finished commit itself, before it takes the next node?

        Only when no other node runs (a chain): then no other result can finish in this turn of
        the loop to share the commit, and committing here spares a commit task and a new node task
        per node (the next node is handed to this task). Otherwise the commit gets a task of its
        own that runs after every node finishing in this turn, so their results share it."""
        return (
            self.outlet.dirty
            and self.journal is not None
            and bool(self._ready)
            and not self._tasks
            and not self._committing
            and self._stopping is None
        )

    async def _commit(self) -> None:
        """Write what the journal was told; a run whose record cannot be written stops (failed)."""
        assert self.journal is not None
        self._committing = True
        try:
            self.outlet.dirty = False
            await self.journal.commit()
        except Exception as exc:
            log.error("run %s: the run journal could not be written: %s", self.run_id, exc)
            log.debug("details", exc_info=True)
            self._stop("failed", ErrorInfo(message=f"the run record could not be saved: {exc}"))
        finally:
            self._committing = False

    def _cancel_tasks(self) -> None:
        for i, task in list(self._tasks.items()):
            task.cancel()
            # a task cancelled before its first step never runs ``_node_task``, which accounts for
            # the node; the callback does it then (added here, not to every task: one callback per
            # node was a tenth of the scheduling cost of a run of quick nodes)
            task.add_done_callback(functools.partial(self._cancelled_before_start, i))

    def _abort_node(self, i: int) -> None:
        """Cancel node ``i``'s task, already accounted for by the transitions (a lost race)."""
        task = self._tasks.pop(i, None)
        self._waiting.pop(i, None)
        if task is not None:
            task.cancel()

    def _cancelled_before_start(self, i: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(i) is task:
            del self._tasks[i]
            self.step.cancelled(i, suspending=self._stopping == "waiting")
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
                if self._tasks.get(i) is task:  # else a race cancelled it, and said so
                    del self._tasks[i]
                    self.step.cancelled(i, suspending=self._stopping == "waiting")
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
                    self.step.complete(i, outcome)
            except Exception as exc:
                log.exception("run %s: internal error after node %s", self.run_id, pn.id)
                self._stop("failed", ErrorInfo(message=f"internal error: {type(exc).__name__}: {exc}", node_id=pn.id))
            if self._commit_in_this_task():
                await self._commit()
            following = self._pump(task=task)
            if following is None:
                return
            i, handed = following, True

    def _known_without_running(self, i: int) -> bool:
        """Will :meth:`_resolve_without_running` finish node ``i`` at once (same tests, no effects)?"""
        pn = self.plan.nodes[i]
        if self.state.prior and (pn.id, self.iteration[i]) in self.state.prior:
            return True
        return self.options.use_pins and pn.node.pinned is not None

    def _resolve_without_running(self, i: int) -> bool:
        """Nodes whose result is already known finish at once: restored (resume/re-run) or pinned."""
        pn = self.plan.nodes[i]
        prior: PriorOutcome | None = self.state.prior.get((pn.id, self.iteration[i])) if self.state.prior else None
        if prior is not None:
            if prior.status == "skipped":
                self.step.skip(i, "restored from an earlier run", source="restored")
            else:
                if pn.spec.restore is not None:
                    pn.spec.restore(self.make_context(pn, self.iteration[i], 0), self.arrived[i], pn.config)
                self.step.succeed(i, Outcome(True, dict(prior.outputs), 0, 0.0, NO_USAGE), source="restored")
            return True
        if self.options.use_pins and pn.node.pinned is not None:
            self.step.succeed(i, Outcome(True, dict(pn.node.pinned.outputs), 0, 0.0, NO_USAGE), source="pinned")
            return True
        return False

    # ------------------------------------------------------------ finishing
    def _check_finished(self) -> None:
        done = self._done
        if done is None or done.done() or self._committing:
            return
        if self.state.pending_loops and not self._tasks and self._stopping is None:
            self.step.try_loops()
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
        self.state.pending_loops = []
        if error is not None:
            self._error = error
        self._cancel_tasks()
        self._check_finished()

    async def _drain_tasks(self) -> None:
        tasks = list(self._tasks.values())
        self._cancel_tasks()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

"""The state of a run: per-node and per-edge arrays indexed like the plan, and the event outlet."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import NO_USAGE, ErrorInfo
from flowdesk.engine.journal import RunJournal
from flowdesk.engine.node_context import RunNodeContext
from flowdesk.engine.plan import Plan, PlanNode
from flowdesk.engine.results import RunOptions
from flowdesk.engine.scope import NodesScope
from flowdesk.engine.services import EngineServices
from flowdesk.model.kinds import Catalog

UNRESOLVED, DELIVERED, SKIPPED = 0, 1, 2
ACTIVE = frozenset({"queued", "running", "waiting"})
NOT_STARTED = frozenset({"idle", "queued"})
TERMINAL = frozenset({"succeeded", "failed", "skipped", "cancelled", "not_run"})


class RunState:
    """The state of one run, shared by the executor and its loop and control parts."""

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
        n = len(plan.nodes)
        self.status: list[str] = ["idle"] * n
        self.iteration: list[int] = [0] * n  # each node's pass over the whole run: with it, its record's key
        self.loop_pass: list[int] = [0] * n
        """Each node's pass of the innermost loop around it (``loop.index0``): restarts with an enclosing pass."""
        self.remaining: list[int] = [len(pn.in_edges) for pn in plan.nodes]
        self.skipped_in: list[int] = [0] * n
        self.arrived: list[dict[str, Any]] = [{} for _ in range(n)]
        self.skip_reason: list[str] = [""] * n
        self.nodes_scope = NodesScope(self.node_outputs, plan.by_id, self.status, self.skip_reason)
        self.edge_state: list[int] = [UNRESOLVED] * plan.edge_count
        self.edge_value: list[Any] = [None] * plan.edge_count
        self.loop_count: dict[int, int] = {}
        self.usage = NO_USAGE
        self._ready: deque[int] = deque()
        self._limit = plan.workflow.settings.max_concurrency
        self._tasks: dict[int, asyncio.Task[None]] = {}
        """The running node tasks, by node index (a node runs at most once at a time)."""
        self._waiting: dict[int, asyncio.Future[tuple[bool, str]]] = {}
        self._pending_loops: list[tuple[int, Any, bool]] = []
        """Loop edges that sent a value back: (edge, value, whether the result sending it was restored)."""
        self._prior = options.prior
        self._resolves_some = bool(options.prior) or (options.use_pins and plan.has_pins)
        """Can any node's result be known without running it (restored, pinned)? Else none is asked."""
        self._paused = False
        self._step_budget: int | None = None
        self._bp_passed: set[tuple[int, int]] = set()
        self._stopping: str | None = None
        self._error: ErrorInfo | None = None
        self._committing = False
        self._commit_task: asyncio.Task[None] | None = None
        self.children: dict[str, Any] = {}
        """Runs started by this run's subworkflow and map nodes, by run id (their RunHandles)."""
        self._bp_at: tuple[int, int] | None = None
        self._dirty = False
        self._done: asyncio.Future[None] | None = None
        self.run_status = "pending"
        self._now: Callable[[], float] = services.clock.wall
        """Wall-clock time for events' timestamps (the clock's own method: one call less per event)."""
        # decided once, when the run is built: subscribe to the bus before starting a run to hear it all
        self.listening = (bus is not None and bus.active) or journal is not None

    # ------------------------------------------------------------- plumbing
    def emit(self, event: Any) -> None:
        if self.journal is not None:
            self.journal.record(event)
            self._dirty = True
        if self.bus is not None:
            self.bus.publish(event)

    def _recorded(self, i: int) -> bool:
        """Does the record a resume started from already hold node ``i``'s current pass? Then what
        the run derives for it again (a skip, a loop pass) is marked restored, not recorded twice."""
        return bool(self._prior) and (self.plan.nodes[i].id, self.iteration[i]) in self._prior

    def make_context(self, pn: PlanNode, iteration: int, attempt: int) -> RunNodeContext:
        return RunNodeContext(self, pn, iteration, attempt)

    # Provided by the executor (flowdesk.engine.executor.Run); declared here for the mixins.
    def _make_ready(self, i: int) -> None:
        raise NotImplementedError

    def _skip(self, i: int, reason: str, source: str = "run") -> None:
        raise NotImplementedError

    def _should_skip(self, t: int) -> bool:
        raise NotImplementedError

    def _pump(self) -> None:
        raise NotImplementedError

    def _check_finished(self) -> None:
        raise NotImplementedError

    def _stop(self, status: str, error: ErrorInfo | None = None) -> None:
        raise NotImplementedError

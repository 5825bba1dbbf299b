"""The state of a run: per-node and per-edge arrays indexed like the plan.

Plain data, shared by the transitions that change it (``transitions.py``) and the loop that runs
the nodes (``executor.py``). The arrays are created once and changed in place, never replaced, so
anything may keep a reference to one (the template scope keeps ``status``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from flowdesk.engine.events import NO_USAGE, Usage
from flowdesk.engine.plan import Plan
from flowdesk.engine.results import PriorOutcome, StepKey
from flowdesk.engine.scope import NodesScope

UNRESOLVED, DELIVERED, SKIPPED = 0, 1, 2
ACTIVE = frozenset({"queued", "running", "waiting"})
NOT_STARTED = frozenset({"idle", "queued"})
TERMINAL = frozenset({"succeeded", "failed", "skipped", "cancelled", "not_run"})


class RunState:
    """Where every node and edge of one run stands."""

    def __init__(
        self, plan: Plan, inputs: Mapping[str, Any], prior: Mapping[StepKey, PriorOutcome], loop_index: int = 0
    ) -> None:
        self.plan = plan
        self.inputs: dict[str, Any] = dict(inputs)
        self.outputs: dict[str, Any] = {}
        """The run's outputs (what output nodes set)."""
        self.node_outputs: dict[str, dict[str, Any]] = {}
        n = len(plan.nodes)
        self.status: list[str] = ["idle"] * n
        self.iteration: list[int] = [0] * n  # each node's pass over the whole run: with it, its record's key
        self.loop_pass: list[int] = [loop_index] * n
        """Each node's pass of the innermost loop around it (``loop.index0``): restarts with an enclosing pass."""
        self.remaining: list[int] = [len(pn.in_edges) for pn in plan.nodes]
        self.skipped_in: list[int] = [0] * n
        self.arrived: list[dict[str, Any]] = [{} for _ in range(n)]
        self.skip_reason: list[str] = [""] * n
        self.edge_state: list[int] = [UNRESOLVED] * plan.edge_count
        self.edge_value: list[Any] = [None] * plan.edge_count
        self.loop_count: dict[int, int] = {}
        self.ready: deque[int] = deque()
        """Nodes whose inputs are all resolved, in the order they became ready."""
        self.pending_loops: list[tuple[int, Any, bool]] = []
        """Loop edges that sent a value back: (edge, value, whether the result sending it was restored)."""
        self.usage: Usage = NO_USAGE
        self.warnings: list[str] = []
        """Loops that stopped at their limit, for the run's result (RunFinished.warnings)."""
        self.prior = prior
        self.nodes_scope = NodesScope(self.node_outputs, plan.by_id, self.status, self.skip_reason)

    def recorded(self, i: int) -> bool:
        """Does the record a resume started from already hold node ``i``'s current pass? Then what
        the run derives for it again (a skip, a loop pass) is marked restored, not recorded twice."""
        return bool(self.prior) and (self.plan.nodes[i].id, self.iteration[i]) in self.prior

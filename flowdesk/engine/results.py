"""What goes into a run and what comes out of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flowdesk.engine.events import ErrorInfo, Usage
from flowdesk.model.validation import Problem

StepKey = tuple[str, int]
"""(node id, iteration): what a node's result is recorded and reused by, one per loop pass (docs/architecture.md §3)."""


@dataclass(slots=True)
class Outcome:
    """How one node ended, after all its attempts: what the transitions take (``transitions.py``)."""

    ok: bool
    outputs: dict[str, Any]
    attempt: int
    duration_s: float
    usage: Usage
    error: ErrorInfo | None = None
    logs: list[str] = field(default_factory=list)
    worker: str | None = None
    """The cluster worker that did the last attempt (a ``remote: true`` node); None: this process."""


class InvalidWorkflowError(ValueError):
    """The workflow cannot run; ``problems`` lists why, each located."""

    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{errors[0].message}{more}" if errors else "the workflow is invalid")
        self.problems = problems


class RunInputError(ValueError):
    """A run input is missing or not of its declared type."""


@dataclass(frozen=True)
class PriorOutcome:
    """A node's finished result from an earlier run, reused instead of running it again."""

    status: Literal["succeeded", "skipped"]
    outputs: Mapping[str, Any] = field(default_factory=dict)


RecordedResults = Mapping[StepKey, tuple[str, Mapping[str, Any]]]
"""A run's record as a resume reads it: each (node, iteration)'s last status and outputs."""


@dataclass(frozen=True)
class RunOptions:
    run_id: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    prior: Mapping[StepKey, PriorOutcome] = field(default_factory=dict)
    """Results to reuse (resume of an interrupted run, re-run from a node), by node and loop pass.

    Keyed per pass, not per node, so that a resume *replays* the record: the run takes the same
    path through its loops as before, each pass's results restored instead of run, and carries on
    live from the first result the record lacks. Loop counts, iteration numbers and the values
    sent back are then those of the interrupted run, with no loop state of their own to save."""
    decisions: Mapping[str, tuple[bool, str]] = field(default_factory=dict)
    """Approval decisions known in advance, by node id: (approved, comment)."""
    suspend_on_wait: bool = False
    """End the run as 'waiting' once only approvals are left, instead of waiting for them."""
    use_pins: bool = True
    parent_run_id: str | None = None
    parent_node_id: str | None = None
    depth: int = 0
    loop_index: int = 0
    """``loop.index0`` of every node outside the run's own loops: a for_each item's index in its body run."""


@dataclass(frozen=True)
class RunResult:
    run_id: str
    status: str
    outputs: dict[str, Any]
    error: ErrorInfo | None
    duration_s: float
    usage: Usage
    node_status: dict[str, str]
    node_outputs: dict[str, dict[str, Any]]
    iterations: dict[str, int]
    waiting: list[str]
    warnings: list[str] = field(default_factory=list)
    """Loops that stopped at their limit (issue 16.5), said in the run's result as well as on the node."""

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

"""What the engine asks of a cluster that runs child runs (map items, sub-workflow calls) and the
attempts of ``remote: true`` nodes elsewhere.

The engine stays free of any cluster library: it hands a :class:`ChildJob` (plain JSON values) to
whatever :class:`RemoteChildren` the caller put in ``EngineServices.remote`` and gets back a
:class:`ChildOutcome` carrying the child's events. The coordinator then writes those events into
its own journal, so a child that ran on a worker is recorded exactly as one that ran here, and
workers never need the library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flowdesk.model.workflow import Node, Workflow


class RemoteError(Exception):
    """The cluster could not run a child (unreachable, gone, a worker without flowdesk): one sentence."""


@dataclass(frozen=True)
class ChildJob:
    """One child run to make on a worker, as JSON values (nothing here may be a secret)."""

    run_id: str
    parent_run_id: str
    parent_node_id: str
    depth: int
    workflow: Workflow
    inputs: dict[str, Any]
    workflows: dict[str, Workflow] = field(default_factory=dict)
    """Every workflow the child calls in turn (by the reference its nodes use), resolved here."""
    files_root: str | None = None
    """The run's files folder (None: file access off). Each run has its own; a connection serves many."""


@dataclass(frozen=True)
class ChildOutcome:
    """How the child ended on the worker; ``events`` are its run events as JSON objects, in order."""

    status: str
    outputs: dict[str, Any] | None
    error: str | None
    events: list[dict[str, Any]]
    worker: str
    lost_workers: list[str] = field(default_factory=list)
    """Workers lost while they ran this child before ``worker`` did (Dask's own retries)."""


@dataclass(frozen=True)
class NodeJob:
    """One attempt of a ``remote: true`` node, as JSON values: what its run function may read of the run."""

    run_id: str
    node: Node
    inputs: dict[str, Any]
    attempt: int
    iteration: int
    scope: dict[str, Any]
    """The run's finished nodes' outputs, as ``NodesScope.snapshot`` gives them (templates read them)."""
    run_inputs: dict[str, Any]
    settings: dict[str, Any]
    """The workflow's settings (the circuit breaker's are read per LLM call)."""
    loop_pass: int = 0
    files_root: str | None = None
    """The run's files folder, as for :class:`ChildJob`."""


@dataclass(frozen=True)
class NodeOutcome:
    """How the attempt ended on the worker. ``error`` is {message, error_class, retry_after_s} when
    it failed; ``events`` are what it logged (JSON objects), ``usage`` its tokens and cost."""

    ok: bool
    outputs: dict[str, Any]
    error: dict[str, Any] | None
    usage: dict[str, Any]
    events: list[dict[str, Any]]
    worker: str
    lost_workers: list[str] = field(default_factory=list)
    """Workers lost while they ran this attempt before ``worker`` did (Dask's own retries)."""


class RemoteChildren(Protocol):
    """A cluster that runs child runs and node attempts; ``takes`` says whether a child should go there."""

    address: str
    """The scheduler's address (tcp://HOST:PORT), for saying where a run ran."""

    def takes(self, workflow: Workflow, workflows: dict[str, Workflow]) -> bool: ...

    async def run(self, job: ChildJob) -> ChildOutcome: ...

    async def run_node(self, job: NodeJob) -> NodeOutcome: ...

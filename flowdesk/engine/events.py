"""Typed run events: what the engine tells the world while a run happens.

The engine knows none of its listeners (docs/architecture.md §3): the store's recorder journals these, the
GUI paints them, the CLI prints them. Every event names its run, and node events name the node and
the iteration (loop pass), which is the key of a node's record: (run, node, iteration).

Events are slotted dataclasses, typed for pydantic: ``event_adapter()`` validates them when read
back from JSON and dumps them to JSON. They are plain dataclasses rather than pydantic models
because the executor builds several per node in its hot path, where a model costs ten times more;
and they are not frozen, because a frozen dataclass sets each field through ``object.__setattr__``,
which made the three events of a no-op node cost about a fifth of its whole run. One event object
goes to every subscriber: treat it as read-only. The values inside events (``ErrorInfo``,
``Usage``) are frozen: they are built rarely, and shared further.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, TypeAdapter

RunStatus = Literal["pending", "running", "paused", "waiting", "succeeded", "failed", "cancelled", "interrupted"]
NodeStatus = Literal[
    "idle",
    "queued",
    "running",
    "waiting",
    "retrying",
    "succeeded",
    "failed",
    "skipped",
    "cancelled",
    "not_run",
    "interrupted",
]
NodeState = StrEnum("NodeState", [(name.upper(), name) for name in get_args(NodeStatus)])  # type: ignore[misc]
"""Every state a node can be in, made from the events' own literal (one list, not one per consumer)."""
RunPhase = StrEnum("RunPhase", [(name.upper(), name) for name in get_args(RunStatus)])  # type: ignore[misc]
"""Every state a run can be in."""
FINAL_RUN_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "waiting"})

_frozen = dataclass(frozen=True, slots=True, kw_only=True)
_event = dataclass(slots=True, kw_only=True)


@_frozen
class ErrorInfo:
    message: str
    error_class: str = "node"
    node_id: str | None = None
    exception: str | None = None
    """Exception type name, for people who debug."""

    def with_message(self, message: str) -> ErrorInfo:
        return replace(self, message=message)


@_frozen
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        if not (other.input_tokens or other.output_tokens or other.cost_usd):
            return self
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


NO_USAGE = Usage()


@_event
class _Event:
    run_id: str
    ts: float
    """Wall-clock time (seconds since the epoch)."""


@_event
class _NodeEvent(_Event):
    node_id: str
    iteration: int = 0


@_event
class RunStarted(_Event):
    workflow_id: str
    workflow_name: str
    inputs: dict[str, Any] = field(default_factory=dict)
    node_count: int = 0
    parent_run_id: str | None = None
    parent_node_id: str | None = None
    worker: str | None = None
    """Where a child run ran when it was sent to a cluster (the worker's address); None: in this process."""
    attempt: int = 1
    """Which attempt of the child this is: more than 1 when workers were lost while running it."""
    lost_workers: list[str] = field(default_factory=list)
    """Cluster workers lost while they ran this child, before it ran on ``worker`` (Dask ran it again)."""
    type: Literal["run_started"] = "run_started"


@_event
class RunPaused(_Event):
    reason: Literal["user", "breakpoint", "step"] = "user"
    node_id: str | None = None
    type: Literal["run_paused"] = "run_paused"


@_event
class RunResumed(_Event):
    type: Literal["run_resumed"] = "run_resumed"


@_event
class RunWaiting(_Event):
    node_ids: list[str] = field(default_factory=list)
    type: Literal["run_waiting"] = "run_waiting"


@_event
class RunFinished(_Event):
    status: RunStatus
    outputs: dict[str, Any] = field(default_factory=dict)
    error: ErrorInfo | None = None
    duration_s: float = 0.0
    usage: Usage = NO_USAGE
    node_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """What the run's result must say although it succeeded: loops that stopped at their limit."""
    type: Literal["run_finished"] = "run_finished"


@_event
class NodeQueued(_NodeEvent):
    type: Literal["node_queued"] = "node_queued"


@_event
class NodeStarted(_NodeEvent):
    attempt: int = 1
    inputs: dict[str, Any] = field(default_factory=dict)
    type: Literal["node_started"] = "node_started"


@_event
class NodeLog(_NodeEvent):
    message: str
    level: Literal["debug", "info", "warning", "error"] = "info"
    type: Literal["node_log"] = "node_log"


@_event
class NodeProgress(_NodeEvent):
    done: int
    total: int
    type: Literal["node_progress"] = "node_progress"


@_event
class NodeRetrying(_NodeEvent):
    attempt: int
    """The attempt that failed."""
    delay_s: float
    error: ErrorInfo
    duration_s: float = 0.0
    usage: Usage = NO_USAGE
    worker: str | None = None
    """The cluster worker that did this attempt (a ``remote: true`` node's); None: this process."""
    type: Literal["node_retrying"] = "node_retrying"


@_event
class NodeSucceeded(_NodeEvent):
    attempt: int = 1
    outputs: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    usage: Usage = NO_USAGE
    source: Literal["run", "pinned", "restored"] = "run"
    worker: str | None = None
    """The cluster worker that did this attempt (a ``remote: true`` node's); None: this process."""
    type: Literal["node_succeeded"] = "node_succeeded"


@_event
class NodeFailed(_NodeEvent):
    error: ErrorInfo
    attempt: int = 1
    duration_s: float = 0.0
    handled: bool = False
    """True when on_error='continue' sent the error on."""
    usage: Usage = NO_USAGE
    worker: str | None = None
    """The cluster worker that did this attempt (a ``remote: true`` node's); None: this process."""
    type: Literal["node_failed"] = "node_failed"


@_event
class NodeSkipped(_NodeEvent):
    reason: str = ""
    source: Literal["run", "restored"] = "run"
    type: Literal["node_skipped"] = "node_skipped"


@_event
class NodeWaiting(_NodeEvent):
    message: str = ""
    type: Literal["node_waiting"] = "node_waiting"


@_event
class NodeCancelled(_NodeEvent):
    attempt: int = 1
    reason: str = ""
    """Why, when the run goes on without it (a branch that lost a race); empty when the run stopped."""
    type: Literal["node_cancelled"] = "node_cancelled"


@_event
class LoopIterated(_NodeEvent):
    """A loop edge sent a value back: ``node_id`` (its target) starts pass ``iteration``.

    ``source`` is 'restored' when a resume replays a pass the record already holds."""

    edge_id: str
    source: Literal["run", "restored"] = "run"
    type: Literal["loop_iterated"] = "loop_iterated"


@_event
class LLMDelta(_NodeEvent):
    text: str
    type: Literal["llm_delta"] = "llm_delta"


@_frozen
class EventsDropped:
    """Not a run event: tells a subscriber that fell behind how many events it missed."""

    count: int
    type: Literal["events_dropped"] = "events_dropped"


Event = (
    RunStarted
    | RunPaused
    | RunResumed
    | RunWaiting
    | RunFinished
    | NodeQueued
    | NodeStarted
    | NodeLog
    | NodeProgress
    | NodeRetrying
    | NodeSucceeded
    | NodeFailed
    | NodeSkipped
    | NodeWaiting
    | NodeCancelled
    | LoopIterated
    | LLMDelta
)
"""Any run event: what the engine emits and every listener (journal, read model, printer) takes."""
RunEvent = Annotated[Event, Field(discriminator="type")]


@cache
def event_adapter() -> TypeAdapter[Any]:
    """Reads any run event back from JSON (the store's journal, `flowdesk run --json` output) and writes it.

    Built on first use: building it costs about 45 ms, which the app's start should not wait for.
    """
    return TypeAdapter(RunEvent)


@cache
def journal_adapter() -> TypeAdapter[list[Any]]:
    """Writes a batch of events as one JSON array and reads it back (the store's event journal)."""
    return TypeAdapter(list[RunEvent])


def journal_json(events: Sequence[Any]) -> bytes:
    """A batch of events as JSON, byte for byte as ``journal_adapter().dump_json`` writes it (and reads back).

    Each event is written by its own class's serializer: the union's serializer first looks for which
    of its classes an event is, which cost as much again as writing it (a chain's node: 11 µs a batch, 5 here)."""
    return b"[" + b",".join([_serializer(type(event)).to_json(event) for event in events]) + b"]"


@cache
def _serializer(cls: type) -> Any:
    return TypeAdapter(cls).serializer


@cache
def _any_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(RunEvent | EventsDropped)


def event_to_json(event: Any) -> dict[str, Any]:
    """The event as a JSON object (a dict of JSON values)."""
    return _any_adapter().dump_python(event, mode="json")


def event_from_json(data: Any) -> Any:
    return event_adapter().validate_python(data)

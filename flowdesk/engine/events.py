"""Typed run events: what the engine tells the world while a run happens.

The engine knows none of its listeners (DESIGN.md §4): the store's recorder journals these, the
GUI paints them, the CLI prints them. Every event names its run, and node events name the node and
the iteration (loop pass), which is the key of a node's record: (run, node, iteration).

Events are built in the executor's hot path with ``model_construct`` (the executor only ever
passes well-typed values), and validated normally when read back from JSON.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

RunStatus = Literal["pending", "running", "paused", "waiting", "succeeded", "failed", "cancelled", "interrupted"]
NodeStatus = Literal["idle", "queued", "running", "waiting", "retrying", "succeeded", "failed", "skipped", "cancelled"]
FINAL_RUN_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "waiting"})


class ErrorInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    message: str
    error_class: str = "node"
    node_id: str | None = None
    exception: str | None = Field(None, description="Exception type name, for people who debug.")


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage.model_construct(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)
    run_id: str
    ts: float = Field(description="Wall-clock time (seconds since the epoch).")


class _NodeEvent(_Event):
    node_id: str
    iteration: int = 0


class RunStarted(_Event):
    type: Literal["run_started"] = "run_started"
    workflow_id: str
    workflow_name: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    node_count: int = 0
    parent_run_id: str | None = None
    parent_node_id: str | None = None


class RunPaused(_Event):
    type: Literal["run_paused"] = "run_paused"
    reason: Literal["user", "breakpoint", "step"] = "user"
    node_id: str | None = None


class RunResumed(_Event):
    type: Literal["run_resumed"] = "run_resumed"


class RunWaiting(_Event):
    type: Literal["run_waiting"] = "run_waiting"
    node_ids: list[str] = Field(default_factory=list)


class RunFinished(_Event):
    type: Literal["run_finished"] = "run_finished"
    status: RunStatus
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: ErrorInfo | None = None
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    node_counts: dict[str, int] = Field(default_factory=dict)


class NodeQueued(_NodeEvent):
    type: Literal["node_queued"] = "node_queued"


class NodeStarted(_NodeEvent):
    type: Literal["node_started"] = "node_started"
    attempt: int = 1
    inputs: dict[str, Any] = Field(default_factory=dict)


class NodeLog(_NodeEvent):
    type: Literal["node_log"] = "node_log"
    level: Literal["debug", "info", "warning", "error"] = "info"
    message: str


class NodeProgress(_NodeEvent):
    type: Literal["node_progress"] = "node_progress"
    done: int
    total: int


class NodeRetrying(_NodeEvent):
    type: Literal["node_retrying"] = "node_retrying"
    attempt: int = Field(description="The attempt that failed.")
    delay_s: float
    error: ErrorInfo
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)


class NodeSucceeded(_NodeEvent):
    type: Literal["node_succeeded"] = "node_succeeded"
    attempt: int = 1
    outputs: dict[str, Any] = Field(default_factory=dict)
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    source: Literal["run", "pinned", "restored"] = "run"


class NodeFailed(_NodeEvent):
    type: Literal["node_failed"] = "node_failed"
    attempt: int = 1
    error: ErrorInfo
    duration_s: float = 0.0
    handled: bool = Field(False, description="True when on_error='continue' sent the error on.")
    usage: Usage = Field(default_factory=Usage)


class NodeSkipped(_NodeEvent):
    type: Literal["node_skipped"] = "node_skipped"
    reason: str = ""
    source: Literal["run", "restored"] = "run"


class NodeWaiting(_NodeEvent):
    type: Literal["node_waiting"] = "node_waiting"
    message: str = ""


class NodeCancelled(_NodeEvent):
    type: Literal["node_cancelled"] = "node_cancelled"
    attempt: int = 1


class LoopIterated(_NodeEvent):
    """A loop edge sent a value back: ``node_id`` (its target) starts pass ``iteration``."""

    type: Literal["loop_iterated"] = "loop_iterated"
    edge_id: str


class LLMDelta(_NodeEvent):
    type: Literal["llm_delta"] = "llm_delta"
    text: str


class EventsDropped(BaseModel):
    """Not a run event: tells a subscriber that fell behind how many events it missed."""

    model_config = ConfigDict(frozen=True)
    type: Literal["events_dropped"] = "events_dropped"
    count: int


RunEvent = Annotated[
    RunStarted | RunPaused | RunResumed | RunWaiting | RunFinished | NodeQueued | NodeStarted | NodeLog
    | NodeProgress | NodeRetrying | NodeSucceeded | NodeFailed | NodeSkipped | NodeWaiting | NodeCancelled
    | LoopIterated | LLMDelta,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(RunEvent)
"""Reads any run event back from JSON (the store's journal, `flowdesk run --json` output)."""


def event_to_json(event: BaseModel) -> dict[str, Any]:
    return event.model_dump(mode="json")

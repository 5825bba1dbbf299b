"""What a run looks like node by node: states, loop passes, map progress, attempt spans, totals.

The same picture is built two ways: folded from live engine events as they arrive, or read back
from the run journal for a run that happened earlier (perhaps before a restart). Everything that
paints a run (the canvas, the status bar, the timeline) reads a :class:`RunTrace`, so a live run
and a past one look alike. Qt-free on purpose: it is plain bookkeeping, tested without widgets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flowdesk.store.runs import RunInfo, StepInfo

FINISHED_NODE = frozenset({"succeeded", "failed", "skipped", "cancelled"})
"""Node states that count as done for the progress bar."""

_STATE_OF_EVENT = {
    "node_queued": "queued",
    "node_started": "running",
    "node_retrying": "running",
    "node_succeeded": "succeeded",
    "node_failed": "failed",
    "node_skipped": "skipped",
    "node_waiting": "waiting",
    "node_cancelled": "cancelled",
}


@dataclass
class AttemptSpan:
    """One attempt of one node (one bar of the timeline)."""

    node_id: str
    iteration: int
    attempt: int
    start: float
    end: float | None = None
    status: str = "running"
    source: str = "run"
    """'run', or 'pinned' / 'restored' for a result that was not computed in this run."""


@dataclass
class NodeTrace:
    status: str = "idle"
    iteration: int = 0
    """The latest loop pass seen (0 = the first)."""
    progress: tuple[int, int] | None = None
    """A map node's items done and in all."""
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def passes(self) -> int:
        return self.iteration + 1


@dataclass
class RunTrace:
    run_id: str
    status: str = "pending"
    node_count: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    error_node: str | None = None
    paused_at: str | None = None
    """The node a breakpoint (or a step) paused before, while paused."""
    nodes: dict[str, NodeTrace] = field(default_factory=dict)
    spans: list[AttemptSpan] = field(default_factory=list)
    children: dict[str, str] = field(default_factory=dict)
    """Sub-runs (map items, sub-workflows) started by this run: child run id -> the node that started it."""
    _open: dict[tuple[str, int, int], AttemptSpan] = field(default_factory=dict)
    _changed: set[str] = field(default_factory=set)

    # ------------------------------------------------------------ live events
    def apply(self, event: Any) -> None:
        """Fold one engine event in; events of other runs (sub-runs excepted) are ignored."""
        kind = event.type
        if getattr(event, "run_id", self.run_id) != self.run_id:
            if kind == "run_started" and event.parent_run_id in (self.run_id, *self.children):
                self.children[event.run_id] = event.parent_node_id or ""
            return
        if kind.startswith("run_"):
            self._apply_run_event(event)
        elif kind in _STATE_OF_EVENT:
            self._apply_node_event(event, _STATE_OF_EVENT[kind])
        elif kind == "node_progress":
            self._node(event.node_id).progress = (event.done, event.total)
            self._changed.add(event.node_id)
        elif kind == "loop_iterated":
            node = self._node(event.node_id)
            node.iteration = max(node.iteration, event.iteration)
            self._changed.add(event.node_id)

    def _apply_run_event(self, event: Any) -> None:
        kind = event.type
        if kind == "run_started":
            self.status, self.node_count = "running", event.node_count
            self.started_at = self.started_at or event.ts
        elif kind == "run_paused":
            self.status, self.paused_at = "paused", event.node_id
        elif kind == "run_resumed":
            self.status, self.paused_at = "running", None
        elif kind == "run_waiting":
            self.status = "waiting"
        elif kind == "run_finished":
            self.status, self.finished_at, self.paused_at = event.status, event.ts, None
            if event.error is not None:
                self.error, self.error_node = event.error.message, event.error.node_id
            for span in self._open.values():  # an attempt cut off by the end of the run
                span.end, span.status = event.ts, "cancelled" if span.status == "running" else span.status
            self._open.clear()

    def _apply_node_event(self, event: Any, state: str) -> None:
        node = self._node(event.node_id)
        node.status = state
        node.iteration = max(node.iteration, event.iteration)
        self._changed.add(event.node_id)
        kind = event.type
        attempt = getattr(event, "attempt", 1)
        key = (event.node_id, event.iteration, attempt)
        if kind == "node_started":
            span = AttemptSpan(event.node_id, event.iteration, attempt, event.ts)
            self._open[key] = span
            self.spans.append(span)
            node.error = None
            return
        if kind in {"node_queued", "node_waiting"}:
            return
        span = self._open.pop(key, None)
        if span is None and kind == "node_succeeded" and event.source != "run":
            span = AttemptSpan(event.node_id, event.iteration, attempt, event.ts, source=event.source)
            self.spans.append(span)
        if span is not None:
            span.end, span.status = event.ts, "failed" if kind == "node_retrying" else state
        error = getattr(event, "error", None)
        if error is not None:
            node.error = error.message
        usage = getattr(event, "usage", None)
        if usage is not None:
            node.input_tokens += usage.input_tokens
            node.output_tokens += usage.output_tokens
            node.cost_usd += usage.cost_usd

    def _node(self, node_id: str) -> NodeTrace:
        node = self.nodes.get(node_id)
        if node is None:
            node = self.nodes[node_id] = NodeTrace()
        return node

    def take_changes(self) -> set[str]:
        """Nodes whose picture changed since the last call (the canvas repaints only those)."""
        changed, self._changed = self._changed, set()
        return changed

    # ------------------------------------------------------------ summaries
    @property
    def finished(self) -> bool:
        return self.finished_at is not None and self.status not in ("running", "paused", "pending")

    def done_count(self) -> int:
        return sum(1 for n in self.nodes.values() if n.status in FINISHED_NODE)

    def waiting_nodes(self) -> list[str]:
        return sorted(node_id for node_id, n in self.nodes.items() if n.status == "waiting")

    def totals(self) -> tuple[int, int, float]:
        """Input tokens, output tokens and cost over every node of the run."""
        nodes = self.nodes.values()
        return (
            sum(n.input_tokens for n in nodes),
            sum(n.output_tokens for n in nodes),
            sum(n.cost_usd for n in nodes),
        )

    # ------------------------------------------------------------ from the journal
    @classmethod
    def from_record(cls, run: RunInfo, steps: Iterable[StepInfo]) -> RunTrace:
        """The picture of a recorded run, from its run row and step rows (ordered as recorded)."""
        trace = cls(run.id, status=run.status, node_count=run.node_count)
        trace.started_at, trace.finished_at = run.started_at, run.finished_at
        if run.error:
            trace.error, trace.error_node = run.error.get("message"), run.error.get("node_id")
        latest: dict[str, tuple[int, int, int]] = {}
        for step in steps:
            node = trace._node(step.node_id)
            order = (step.segment, step.iteration, step.attempt)
            if order >= latest.get(step.node_id, order):
                latest[step.node_id] = order
                node.status = step.status
                node.error = (step.error or {}).get("message") if step.status == "failed" else None
            node.iteration = max(node.iteration, step.iteration)
            node.input_tokens += step.input_tokens
            node.output_tokens += step.output_tokens
            node.cost_usd += step.cost_usd
            if step.started_at is not None or step.source != "run":
                start = step.started_at if step.started_at is not None else (step.finished_at or 0.0)
                trace.spans.append(
                    AttemptSpan(step.node_id, step.iteration, step.attempt, start, step.finished_at,
                                step.status, step.source)
                )  # fmt: skip
        trace._changed = set(trace.nodes)
        return trace

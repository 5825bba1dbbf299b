"""The read model of a run: what every display of a run shows, folded from the run's events.

One fold, two sources: live, the window and `flowdesk run` apply events as the bus delivers them;
reopened, the store replays the events its journal kept (``flowdesk.store.runs``) through the
same :meth:`RunView.apply`. So a run looks the same while it happens, after a restart and in
`flowdesk show`: its node states, loop passes, map progress, attempt spans, totals and log lines.
The words come from one table (``flowdesk.engine.describe``).

Pure bookkeeping, below the UI: no Qt, no database, tested without either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flowdesk.engine.describe import describe, level_of
from flowdesk.engine.events import Event, EventsDropped, NodeState, RunPhase
from flowdesk.model.bodies import brackets_of

__all__ = ["FINISHED_NODE", "AttemptSpan", "LogLine", "NodeState", "NodeView", "PassView", "RunPhase", "RunView"]

FINISHED_NODE = frozenset(
    {NodeState.SUCCEEDED, NodeState.FAILED, NodeState.SKIPPED, NodeState.CANCELLED, NodeState.NOT_RUN}
)
"""Node states that count as done for a progress bar."""
MAX_LINES = 200_000
"""Oldest lines go first beyond this many (the journal keeps every event; this is what is shown)."""

_STATE_OF_EVENT: dict[str, NodeState] = {
    "node_queued": NodeState.QUEUED,
    "node_started": NodeState.RUNNING,
    "node_retrying": NodeState.RUNNING,
    "node_succeeded": NodeState.SUCCEEDED,
    "node_failed": NodeState.FAILED,
    "node_skipped": NodeState.SKIPPED,
    "node_waiting": NodeState.WAITING,
    "node_cancelled": NodeState.CANCELLED,
}


_BODY_ORDER = (
    NodeState.RUNNING, NodeState.WAITING, NodeState.QUEUED, NodeState.FAILED, NodeState.CANCELLED,
    NodeState.INTERRUPTED, NodeState.SUCCEEDED, NodeState.SKIPPED, NodeState.NOT_RUN,
)  # fmt: skip
"""Which state a body node shows when its items are in several (the first one any item is in)."""
_REUSED = frozenset({NodeState.SUCCEEDED, NodeState.SKIPPED})
"""Pass states a resume reuses instead of running the node again."""


@dataclass(slots=True)
class LogLine:
    """One line of a run's log: the same line in the window's Log panel, `flowdesk run` and `flowdesk show`."""

    ts: float
    node_id: str | None
    """The node of *this* run the line is about (a sub-run's lines name the node that started it)."""
    label: str
    level: str
    text: str
    kind: str


@dataclass(slots=True)
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


@dataclass(slots=True)
class PassView:
    """One node's one loop pass (a node outside loops has one): its attempts, time, usage and end."""

    node_id: str
    iteration: int
    status: str = "queued"
    attempts: set[int] = field(default_factory=set)
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    source: str = "run"
    note: str = ""
    """Why it failed, was skipped or waits."""
    retried: tuple[int, int, float] = (0, 0, 0.0)
    """Usage of the attempts that failed and were retried: the final event counts them again."""


@dataclass(slots=True)
class NodeView:
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


@dataclass(eq=False)
class RunView:
    """A run node by node; ``apply`` folds one event in. Compare two with :meth:`same_as`."""

    run_id: str
    status: str = "pending"
    node_count: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    error_node: str | None = None
    paused_at: str | None = None
    """The node a breakpoint (or a step) paused before, while paused."""
    nodes: dict[str, NodeView] = field(default_factory=dict)
    passes: dict[tuple[str, int], PassView] = field(default_factory=dict)
    spans: list[AttemptSpan] = field(default_factory=list)
    lines: list[LogLine] = field(default_factory=list)
    lines_dropped: int = 0
    """Lines that went from the front of ``lines`` beyond MAX_LINES."""
    children: dict[str, str] = field(default_factory=dict)
    """Sub-runs (map items, sub-workflows) started by this run: child run id -> the node of this run."""
    warnings: list[str] = field(default_factory=list)
    """What the finished run says although it succeeded (loops that stopped at their limit)."""
    workflow_id: str = ""
    _bodies: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Sub-runs that are for_each items of this run -> the (for_each, collect) bracketing their body."""
    _body_items: dict[str, dict[str, str]] = field(default_factory=dict)
    """A body node's state in each item's sub-run, by node and then item run (see ``_body_event``)."""
    _open: dict[tuple[str, int, int], AttemptSpan] = field(default_factory=dict)
    _streams: dict[tuple[str, str, int], LogLine] = field(default_factory=dict)
    _changed: set[str] = field(default_factory=set)
    _grown: dict[int, LogLine] = field(default_factory=dict)

    @classmethod
    def replay(cls, run_id: str, events: Iterable[Event | EventsDropped]) -> RunView:
        """The view of a recorded run: its journal's events through the same fold as a live run."""
        view = cls(run_id)
        for event in events:
            view.apply(event)
        return view

    # ------------------------------------------------------------ folding
    def apply(self, event: Event | EventsDropped) -> None:
        """Fold one event in; a sub-run's events add log lines under the node that started it."""
        kind = event.type
        run_id = getattr(event, "run_id", self.run_id)
        if run_id == self.run_id and self._replayed(event):
            return
        if run_id != self.run_id:
            if kind == "run_started" and event.parent_run_id in (self.run_id, *self.children):
                self.children[event.run_id] = self.children.get(event.parent_run_id, event.parent_node_id or "")
                own = event.parent_run_id == self.run_id
                brackets = brackets_of(event.workflow_id, self.workflow_id) if own else None
                if brackets is not None:
                    self._bodies[event.run_id] = brackets
            elif run_id in self.children:
                if run_id in self._bodies and kind in _STATE_OF_EVENT:
                    self._body_event(event, _STATE_OF_EVENT[kind])
                self._line(event)
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
        self._line(event)

    def _replayed(self, event: Any) -> bool:
        """Is this a resumed run going over a result its record already gave this view? (It queues the
        node again and restores the result: neither is news, and the journal keeps neither.)"""
        kind = event.type
        if kind == "node_queued" or getattr(event, "source", "run") == "restored":
            done = self.passes.get((event.node_id, event.iteration))
            return done is not None and done.status in _REUSED
        return False

    def _apply_run_event(self, event: Any) -> None:
        kind = event.type
        if kind == "run_started":
            self.status, self.node_count, self.workflow_id = "running", event.node_count, event.workflow_id
            self.started_at = self.started_at or event.ts
            self.finished_at = None
        elif kind == "run_paused":
            self.status, self.paused_at = "paused", event.node_id
        elif kind == "run_resumed":
            self.status, self.paused_at = "running", None
        elif kind == "run_waiting":
            self.status = "waiting"
        elif kind == "run_finished":
            self._finish(event)

    def _finish(self, event: Any) -> None:
        self.status, self.finished_at, self.paused_at = event.status, event.ts, None
        self.warnings = list(event.warnings)
        if event.error is not None:
            self.error, self.error_node = event.error.message, event.error.node_id
        cut = NodeState.INTERRUPTED if event.status == "interrupted" else NodeState.CANCELLED
        for span in self._open.values():  # an attempt cut off by the end of the run
            span.end, span.status = event.ts, cut if span.status == "running" else span.status
        self._open.clear()
        if event.status == "interrupted":  # its process died: what was running was cut off
            for key, step in self.passes.items():
                if step.status == NodeState.RUNNING:
                    step.status = self.nodes[key[0]].status = NodeState.INTERRUPTED
                    self._changed.add(key[0])
        if event.status != "waiting":  # a stopped run's nodes that never started never will
            for node_id, node in self.nodes.items():
                if node.status in ("idle", "queued"):
                    node.status = "not_run"
                    self._changed.add(node_id)
            for step in self.passes.values():
                if step.status == "queued":
                    step.status = "not_run"

    def _body_event(self, event: Any, state: str) -> None:
        """A node of a for_each's body, in one item's sub-run: the canvas shows the node with all its
        items at once (running while any item runs it, else the worst end: failed, cancelled,
        succeeded, skipped). Its passes and attempts stay in the items' own records."""
        if event.node_id in self._bodies[event.run_id]:  # the brackets are this run's own nodes
            return
        items = self._body_items.setdefault(event.node_id, {})
        items[event.run_id] = "running" if event.type == "node_retrying" else state
        states = set(items.values())
        shown = next((s for s in _BODY_ORDER if s in states), state)
        self._node(event.node_id).status = shown
        self._changed.add(event.node_id)

    def _apply_node_event(self, event: Any, state: str) -> None:
        node_id, kind = event.node_id, event.type
        node = self._node(node_id)
        node.status = state
        node.iteration = max(node.iteration, event.iteration)
        self._changed.add(node_id)
        step = self._pass(node_id, event.iteration)
        step.status = "failed" if kind == "node_retrying" else state
        attempt = getattr(event, "attempt", 1)
        if kind == "node_started":
            span = AttemptSpan(node_id, event.iteration, attempt, event.ts)
            self._open[(node_id, event.iteration, attempt)] = span
            self.spans.append(span)
            node.error = None
            step.attempts.add(attempt)
            step.status, step.note = "running", ""
            return
        if kind in ("node_queued", "node_waiting"):
            step.note = getattr(event, "message", "")
            return
        self._end_attempt(event, node, step, state)

    def _end_attempt(self, event: Any, node: NodeView, step: PassView, state: str) -> None:
        kind, attempt = event.type, getattr(event, "attempt", 1)
        span = self._open.pop((event.node_id, event.iteration, attempt), None)
        source = getattr(event, "source", "run")
        if span is None and kind == "node_succeeded" and source != "run":
            span = AttemptSpan(event.node_id, event.iteration, attempt, event.ts, source=source)
            self.spans.append(span)
        if span is not None:
            span.end, span.status = event.ts, "failed" if kind == "node_retrying" else state
        step.source = source
        error = getattr(event, "error", None)
        node.error = error.message if error is not None else None
        step.note = error.message if error is not None else getattr(event, "reason", "")
        step.duration_s += getattr(event, "duration_s", 0.0)
        usage = getattr(event, "usage", None)
        if usage is None:
            return
        spent = (usage.input_tokens, usage.output_tokens, usage.cost_usd)
        if kind == "node_retrying":
            step.retried = (step.retried[0] + spent[0], step.retried[1] + spent[1], step.retried[2] + spent[2])
        else:  # the final event counts every attempt: take off what the retries already added
            spent = (spent[0] - step.retried[0], spent[1] - step.retried[1], spent[2] - step.retried[2])
            step.retried = (0, 0, 0.0)
        for target in (node, step):
            target.input_tokens += spent[0]
            target.output_tokens += spent[1]
            target.cost_usd += spent[2]

    def _node(self, node_id: str) -> NodeView:
        node = self.nodes.get(node_id)
        if node is None:
            node = self.nodes[node_id] = NodeView()
        return node

    def _pass(self, node_id: str, iteration: int) -> PassView:
        key = (node_id, iteration)
        step = self.passes.get(key)
        if step is None:
            step = self.passes[key] = PassView(node_id, iteration)
        return step

    # ------------------------------------------------------------ log lines
    def _line(self, event: Any) -> None:
        if event.type == "llm_delta":
            self._stream(event)
            return
        if event.type == "run_started" and event.run_id != self.run_id:
            return
        text = describe(event)
        if text is None:
            return
        node_id, label = self._who(event)
        self._add(LogLine(event.ts, node_id, label, level_of(event), text, event.type))

    def _who(self, event: Any) -> tuple[str | None, str]:
        node = getattr(event, "node_id", None)
        iteration = getattr(event, "iteration", 0)
        label = f"{node}#{iteration + 1}" if node and iteration else (node or "")
        if event.run_id != self.run_id:
            parent = self.children[event.run_id]
            return parent, f"{parent} › {label}" if label else parent
        if event.type.startswith("run_") and event.type != "run_paused":
            return None, ""
        return node, label

    def _stream(self, event: Any) -> None:
        """An LLM's streamed text: one line per node pass, growing as the text arrives."""
        key = (event.run_id, event.node_id, event.iteration)
        line = self._streams.get(key)
        if line is not None:
            line.text += event.text
            self._grown[id(line)] = line
            return
        node_id, label = self._who(event)
        line = self._streams[key] = LogLine(event.ts, node_id, label, "info", "› " + event.text, "llm_stream")
        self._add(line)

    def _add(self, line: LogLine) -> None:
        self.lines.append(line)
        if len(self.lines) > MAX_LINES:
            drop = len(self.lines) - MAX_LINES
            del self.lines[:drop]
            self.lines_dropped += drop

    # ------------------------------------------------------------ what changed
    def take_changes(self) -> set[str]:
        """Nodes whose picture changed since the last call (the canvas repaints only those)."""
        changed, self._changed = self._changed, set()
        return changed

    def take_grown(self) -> list[LogLine]:
        """Stream lines whose text grew since the last call (the log repaints only those)."""
        grown, self._grown = self._grown, {}
        return list(grown.values())

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

    def picture(self) -> dict[str, Any]:
        """Everything a display shows, as plain values: what a live view and a reopened one must agree on."""
        return {
            "status": self.status,
            "error": (self.error, self.error_node),
            "nodes": {k: (n.status, n.iteration, n.progress, n.error) for k, n in self.nodes.items()},
            "passes": {k: (p.status, sorted(p.attempts), p.source, p.note) for k, p in self.passes.items()},
            "usage": {k: (n.input_tokens, n.output_tokens, round(n.cost_usd, 9)) for k, n in self.nodes.items()},
            "spans": [(s.node_id, s.iteration, s.attempt, s.start, s.end, s.status, s.source) for s in self.spans],
            "lines": [(x.ts, x.node_id, x.label, x.level, x.text, x.kind) for x in self.lines],
            "children": dict(self.children),
            "warnings": list(self.warnings),
        }

"""Run events and states in words: the one phrasing the terminal, the app's log and `flowdesk show` show.

``describe`` leaves the node out of the sentence (the terminal puts it in front, the app's log
has a column for it), so the two read alike without either re-wording the engine's events.
"""

from __future__ import annotations

import json
from typing import Any

from flowdesk.engine.events import Event, EventsDropped, NodeState
from flowdesk.nodes.llm_contract import cost_text

STATUS_WORDS: dict[str, str] = {NodeState.IDLE: "not started", NodeState.NOT_RUN: "not run"}
"""How a node's or run's state reads where it differs from its name (the rest read as they are)."""

LEVEL_OF = {"node_failed": "error", "node_retrying": "warning", "node_waiting": "warning", "run_paused": "info"}


def status_text(status: str) -> str:
    """A node's or a run's state in words: 'not run', 'succeeded'."""
    return STATUS_WORDS.get(status, status)


def short_json(value: Any, limit: int = 100) -> str:
    """A value as one line of JSON, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def usage_text(usage: Any) -> str:
    """ ", 12+30 tokens, $0.0004" (the cost only when there is one); nothing when no model was called."""
    if not (usage.input_tokens or usage.output_tokens):
        return ""
    cost = f", {cost_text(usage.cost_usd)}" if usage.cost_usd else ""
    return f", {usage.input_tokens}+{usage.output_tokens} tokens{cost}"


def level_of(event: Event | EventsDropped) -> str:
    """debug / info / warning / error, for filtering a log."""
    if event.type == "node_log":
        return str(event.level)
    if event.type == "run_finished":
        return {"failed": "error", "cancelled": "warning", "waiting": "warning", "interrupted": "warning"}.get(
            event.status, "info"
        )
    return LEVEL_OF.get(event.type, "info")


def describe(e: Event | EventsDropped) -> str | None:
    """The event as a sentence without its node; None for events that are not shown (LLM deltas)."""
    match e.type:
        case "run_started":
            return f"run {e.run_id} started: {e.workflow_name} ({e.node_count} nodes)"
        case "node_queued":
            return "queued"
        case "node_started":
            return "started" + (f" (attempt {e.attempt})" if e.attempt > 1 else "")
        case "node_succeeded":
            how = {"pinned": " (pinned)", "restored": " (reused)"}.get(e.source, "")
            return f"ok{how} in {e.duration_s:.3f}s{usage_text(e.usage)} -> {short_json(e.outputs)}"
        case "node_failed":
            return f"FAILED{' (sent to its error port)' if e.handled else ''}: {e.error.message}"
        case "node_retrying":
            return f"attempt {e.attempt} failed ({e.error.message}); retrying in {e.delay_s:.2f}s"
        case "node_skipped":
            return f"skipped: {e.reason}" if e.reason else "skipped"
        case "node_waiting":
            return f"waiting for approval: {e.message}"
        case "node_cancelled":
            return f"cancelled: {e.reason}" if e.reason else "cancelled"
        case "node_log":
            return e.message  # its level is shown beside it (a column of the log; the terminal prefixes it)
        case "node_progress":
            return f"{e.done} of {e.total}"
        case "loop_iterated":
            return f"loop pass {e.iteration + 1} (via {e.edge_id})"
        case "run_paused":
            return f"run paused ({e.reason}{' before ' + e.node_id if e.node_id else ''})"
        case "run_resumed":
            return "run resumed"
        case "run_waiting":
            return f"run waiting for approval at {', '.join(e.node_ids)}"
        case "run_finished" if e.status == "interrupted":  # its process died: it never measured its end
            return "run interrupted" + (f": {e.error.message}" if e.error is not None else "")
        case "run_finished":
            error = f": {e.error.message}" if e.error is not None and e.status == "failed" else ""
            return f"run {e.status} in {e.duration_s:.3f}s{usage_text(e.usage)}{error}"
        case "events_dropped":
            return f"({e.count} events not shown: the display fell behind)"
    return None

"""Live run progress in a terminal: one line per event, LLM text streamed where a person watches."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from flowdesk.engine.events import event_to_json

SYMBOLS = {"succeeded": "ok", "failed": "FAILED", "skipped": "skipped", "cancelled": "cancelled"}


def _short(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _usage(usage: Any) -> str:
    """ ", 12+30 tokens, $0.0004" (the cost only when there is one), or nothing when no model was called."""
    if not (usage.input_tokens or usage.output_tokens):
        return ""
    cost = f", ${usage.cost_usd:.4f}" if usage.cost_usd else ""
    return f", {usage.input_tokens}+{usage.output_tokens} tokens{cost}"


class EventPrinter:
    """Prints events as they come. ``json_lines`` prints each event as a JSON object instead."""

    def __init__(self, out: TextIO = sys.stderr, *, json_lines: bool = False, stream_llm: bool | None = None) -> None:
        self.out = out
        self.json_lines = json_lines
        self.stream_llm = out.isatty() if stream_llm is None else stream_llm
        self._in_delta: str | None = None

    def __call__(self, event: Any) -> None:
        if self.json_lines:
            self.out.write(json.dumps(event_to_json(event), ensure_ascii=False) + "\n")
            self.out.flush()
            return
        kind = event.type
        if kind == "llm_delta":
            if self.stream_llm:
                if self._in_delta != event.node_id:
                    self._end_delta()
                    self.out.write(f"{self._stamp(event)}  {event.node_id} > ")
                    self._in_delta = event.node_id
                self.out.write(event.text)
                self.out.flush()
            return
        line = self._line(event)
        if line is not None:
            self._end_delta()
            self.out.write(f"{self._stamp(event)}  {line}\n")
            self.out.flush()

    def _end_delta(self) -> None:
        if self._in_delta is not None:
            self.out.write("\n")
            self._in_delta = None

    @staticmethod
    def _stamp(event: Any) -> str:
        ts = getattr(event, "ts", time.time())
        return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"

    def _line(self, e: Any) -> str | None:
        it = f"#{e.iteration + 1}" if getattr(e, "iteration", 0) else ""
        match e.type:
            case "run_started":
                return f"run {e.run_id} started: {e.workflow_name} ({e.node_count} nodes)"
            case "node_started":
                attempt = f" (attempt {e.attempt})" if e.attempt > 1 else ""
                return f"{e.node_id}{it} started{attempt}"
            case "node_succeeded":
                how = {"pinned": " (pinned)", "restored": " (reused)"}.get(e.source, "")
                return f"{e.node_id}{it} ok{how} in {e.duration_s:.3f}s{_usage(e.usage)} -> {_short(e.outputs)}"
            case "node_failed":
                handled = " (sent to its error port)" if e.handled else ""
                return f"{e.node_id}{it} FAILED{handled}: {e.error.message}"
            case "node_retrying":
                return f"{e.node_id}{it} attempt {e.attempt} failed ({e.error.message}); retrying in {e.delay_s:.2f}s"
            case "node_skipped":
                return f"{e.node_id}{it} skipped: {e.reason}" if e.reason else f"{e.node_id}{it} skipped"
            case "node_waiting":
                return f"{e.node_id}{it} waiting for approval: {e.message}"
            case "node_cancelled":
                return f"{e.node_id}{it} cancelled"
            case "node_log":
                return f"{e.node_id}{it} {e.level}: {e.message}"
            case "node_progress":
                return f"{e.node_id}{it} {e.done} of {e.total}"
            case "loop_iterated":
                return f"{e.node_id} loop pass {e.iteration + 1} (via {e.edge_id})"
            case "run_paused":
                return f"run paused ({e.reason}{' before ' + e.node_id if e.node_id else ''})"
            case "run_resumed":
                return "run resumed"
            case "run_finished":
                return f"run {e.status} in {e.duration_s:.3f}s{_usage(e.usage)}"
            case "events_dropped":
                return f"({e.count} events not shown: the terminal fell behind)"
        return None

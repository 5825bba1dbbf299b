"""Live run progress in a terminal: one line per event, LLM text streamed where a person watches."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from flowdesk.cli.terminal import terminal_json, terminal_text
from flowdesk.engine.describe import describe, usage_text
from flowdesk.engine.events import Event, EventsDropped, event_to_json


class EventPrinter:
    """Prints events as they come. ``json_lines`` prints each event as a JSON object instead."""

    def __init__(self, out: TextIO = sys.stderr, *, json_lines: bool = False, stream_llm: bool | None = None) -> None:
        self.out = out
        self.json_lines = json_lines
        self.stream_llm = out.isatty() if stream_llm is None else stream_llm
        self._in_delta: str | None = None

    def __call__(self, event: Event | EventsDropped) -> None:
        if self.json_lines:
            self.out.write(terminal_json(json.dumps(event_to_json(event), ensure_ascii=False)) + "\n")
            self.out.flush()
            return
        kind = event.type
        if kind == "llm_delta":
            if self.stream_llm:
                if self._in_delta != event.node_id:
                    self._end_delta()
                    self.out.write(f"{self._stamp(event)}  {event.node_id} > ")
                    self._in_delta = event.node_id
                self.out.write(terminal_text(event.text, one_line=False, limit=None))
                self.out.flush()
            return
        line = self._line(event)
        if line is not None:
            self._end_delta()
            self.out.write(f"{self._stamp(event)}  {terminal_text(line)}\n")
            self.out.flush()

    def _end_delta(self) -> None:
        if self._in_delta is not None:
            self.out.write("\n")
            self._in_delta = None

    @staticmethod
    def _stamp(event: Any) -> str:
        ts = getattr(event, "ts", time.time())
        return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"

    @staticmethod
    def _line(e: Any) -> str | None:
        if e.type in ("node_queued", "run_waiting"):
            return None  # a node shows once it starts; a waiting node says so itself
        if e.type == "events_dropped":
            return f"({e.count} events not shown: the terminal fell behind)"
        if e.type == "run_finished":
            return f"run {e.status} in {e.duration_s:.3f}s{usage_text(e.usage)}"  # a failure's reason comes after
        text = describe(e)
        if text is None or e.type.startswith("run_"):
            return text
        if e.type == "loop_iterated":
            return f"{e.node_id} {text}"
        if e.type == "node_log":
            text = f"{e.level}: {text}"  # a terminal line has no level column
        return f"{e.node_id}{f'#{e.iteration + 1}' if e.iteration else ''} {text}"

"""A node's log line in the terminal names its level; in the window the Level column does."""

from __future__ import annotations

import io
import time

from flowdesk.cli.printer import EventPrinter
from flowdesk.engine.events import NodeLog


def test_a_log_line_in_the_terminal_says_its_level_once() -> None:
    out = io.StringIO()
    EventPrinter(out, stream_llm=False)(
        NodeLog(run_id="r1", ts=time.time(), node_id="fetch", message="the host answered slowly", level="warning")
    )
    line = out.getvalue().rstrip("\n")
    assert line.endswith("  fetch warning: the host answered slowly"), line

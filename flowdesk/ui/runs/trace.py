"""What the window paints of a run: the engine's read model of it, under the names the widgets use.

The picture of a run (node states, loop passes, map progress, attempt spans, totals, log lines)
is built in one place, ``flowdesk.engine.readmodel``, from live events or from the journal's
events replayed; the canvas, status bar, timeline and runs panel read it from here.
"""

from __future__ import annotations

from flowdesk.engine.readmodel import FINISHED_NODE, AttemptSpan, NodeView, RunView

RunTrace = RunView
NodeTrace = NodeView

__all__ = ["FINISHED_NODE", "AttemptSpan", "NodeTrace", "RunTrace"]

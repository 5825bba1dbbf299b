"""The line the status bar shows when a run ends: its status and time, and its result or where it failed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flowdesk.store.database import LibraryError
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError
from flowdesk.ui.runs.runs_panel import duration_text, outputs_line
from flowdesk.ui.runs.trace import RunTrace

log = logging.getLogger(__name__)
RESULT_CHARS = 160
"""How much of a finished run's outputs the status bar shows (the Run data tab has them all)."""


def run_summary(
    store: Store, run_id: str, status: str, trace: RunTrace | None, title_of: Callable[[str], str] = str
) -> str:
    """The status bar's line when a run ends: how it ended, how long it took, and its answer or its error."""
    words = f"Run {run_id[:8]} {status}"
    if trace is None:
        return words
    if trace.started_at and trace.finished_at:
        words += f" in {duration_text(trace.finished_at - trace.started_at)}"
    if status == "failed" and trace.error:
        where = f" at '{title_of(trace.error_node)}'" if trace.error_node else ""
        return f"{words}{where}: {trace.error}{handled_text(store, run_id)}"
    if status == "waiting":
        return f"{words}: approve or reject {', '.join(trace.waiting_nodes())} in Run data"
    if status == "succeeded":
        return words + result_text(store, run_id)
    return words


def handled_text(store: Store, run_id: str) -> str:
    """What a failed run's on-failure handler did ("; handled by run 3f73a1b2 (Notify, succeeded)"), or ""."""
    try:
        handlers = [r for r in store.runs.list(parent_run_id=run_id, limit=None) if r.kind == "handler"]
    except LibraryError as exc:
        log.info("cannot read the handler of run %s: %s", run_id, exc)
        return ""
    return "".join(f"; handled by run {h.id[:8]} ({h.workflow_name}, {h.status})" for h in reversed(handlers))


def run_title(store: Store, run_id: str) -> str:
    """The Log panel's title for a run: its id, and the run that handled its failure if one did."""
    return f"Run {run_id[:8]}{handled_text(store, run_id)}"


def result_text(store: Store, run_id: str) -> str:
    """The run's outputs in a line (the answer is what a person looks for when a run ends)."""
    try:
        _, outputs = store.runs.run_values(run_id)
    except LibraryError as exc:
        log.info("cannot read the outputs of run %s: %s", run_id, exc)
        return ""
    if not outputs:
        return f": no outputs: {no_outputs_reason(store, run_id)}"
    return f": {outputs_line(outputs, RESULT_CHARS)}"


def no_outputs_reason(store: Store, run_id: str) -> str:
    """Why a finished run has no outputs, in the user's words (a loop at its limit, or no Output reached)."""
    return _loop_at_limit(store, run_id) or "the run reached no Output node"


def _loop_at_limit(store: Store, run_id: str) -> str | None:
    """Why a run ended without outputs when a loop ran out of passes (else None)."""
    try:
        workflow = store.runs.document(run_id)
        steps = store.runs.steps(run_id)
    except (LibraryError, NotFoundError) as exc:
        log.info("cannot read run %s: %s", run_id, exc)
        return None
    passes: dict[str, int] = {}
    for step in steps:
        passes[step.node_id] = max(passes.get(step.node_id, 0), step.iteration + 1)
    for edge in workflow.edges:
        if edge.loop is not None and passes.get(edge.target, 0) >= edge.loop.max_iterations:
            node = workflow.node(edge.target)
            title = node.title if node is not None else edge.target
            return (
                f"the loop back to '{title}' stopped at its limit of {edge.loop.max_iterations} passes "
                "before reaching an Output node"
            )
    return None

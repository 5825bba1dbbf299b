"""The LLM calls of a run's sub-workflow and map item runs, for the model roll-ups of the run's workflow.

A child run has no document of its own in the library (it ran the workflow its map or sub-workflow
node names): that workflow's current library document tells which of its nodes call which model.
Children of workflow files (a path, not a library workflow) are left out: their file may be gone.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

ModelUse = dict[str, list[Any]]
"""model -> [calls, input tokens, output tokens, cost, replies cut at max_tokens]."""


def child_model_use(
    raw: sqlite3.Connection, top: dict[str, Any], read_document: Callable[[str | None], Any], truncated_like: str
) -> dict[str, ModelUse]:
    """Per top-level run id (``top``: id -> its document's facts), the model use of all its descendants."""
    found: dict[str, ModelUse] = defaultdict(dict)
    frontier: dict[str, tuple[str, Any]] = {run_id: (run_id, facts) for run_id, facts in top.items()}
    library: dict[str, Any] = {}
    while frontier:
        children: dict[str, tuple[str, Any]] = {}
        for chunk in _chunks(list(frontier), 500):
            marks = ",".join("?" * len(chunk))
            for child_id, parent_id, parent_node in raw.execute(
                f"SELECT id, parent_run_id, parent_node_id FROM run WHERE parent_run_id IN ({marks})"
                " AND kind = 'child'",
                chunk,
            ):
                root, parent_facts = frontier[parent_id]
                ref = parent_facts.workflows.get(parent_node or "")
                if ref not in library:
                    library[ref] = read_document(library_document_text(raw, ref))
                children[child_id] = (root, library[ref])
        if children:
            _add_use(raw, children, found, truncated_like)
        frontier = children
    return found


def _add_use(
    raw: sqlite3.Connection, children: dict[str, tuple[str, Any]], found: dict[str, ModelUse], truncated_like: str
) -> None:
    for chunk in _chunks(list(children), 500):
        marks = ",".join("?" * len(chunk))
        for run_id, node_id, n, tin, tout, cost in raw.execute(
            "SELECT run_id, node_id, count(*), sum(input_tokens), sum(output_tokens), sum(cost_usd) FROM step"
            f" WHERE run_id IN ({marks}) AND source = 'run' AND status NOT IN ('skipped', 'running', 'waiting')"
            " GROUP BY run_id, node_id",
            chunk,
        ):
            root, facts = children[run_id]
            model = facts.models.get(node_id)
            if model is not None:
                _sum(found[root], model, (n, tin, tout, cost, 0))
        for run_id, node_id, n in raw.execute(
            f"SELECT run_id, node_id, count(*) FROM log WHERE run_id IN ({marks}) AND kind = 'node_log'"
            " AND message LIKE ? GROUP BY run_id, node_id",
            (*chunk, truncated_like),
        ):
            root, facts = children[run_id]
            model = facts.models.get(node_id or "")
            if model is not None:
                _sum(found[root], model, (0, 0, 0, 0.0, n))


def _sum(use: ModelUse, model: str, values: Sequence[Any]) -> None:
    row = use.setdefault(model, [0, 0, 0, 0.0, 0])
    for i, v in enumerate(values):
        row[i] += v


def library_document_text(raw: sqlite3.Connection, ref: str | None) -> str | None:
    """The current document of a library workflow (id or slug), or None (a file, or not in the library)."""
    if not ref:
        return None
    row = raw.execute(
        "SELECT b.data FROM workflow w JOIN workflow_version v ON v.workflow_id = w.id"
        " AND v.version = w.current_version JOIN blob b ON b.hash = v.document_hash WHERE w.id = ? OR w.slug = ?",
        (ref, ref),
    ).fetchone()
    return row[0] if row else None


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]

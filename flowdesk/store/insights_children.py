"""What a run's sub-workflow and map item runs did, counted for the run's own workflow: their LLM calls
per model, their nodes' attempts, retries, failures, time and cost (as "map node › node"), and their
retried attempts by error class (retries inside map items are where rate limits cost money).

A child run has no document of its own in the library (it ran the workflow its map or sub-workflow
node names): that workflow's current library document tells which of its nodes call which model.
Children of workflow files (a path, not a library workflow) count without their models.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

_STEPS = (
    "SELECT run_id, node_id, iteration, attempt, status, error, started_at, finished_at, duration_s, input_tokens,"
    " output_tokens, cost_usd FROM step WHERE run_id IN ({marks}) AND source = 'run'"
    " AND status NOT IN ('skipped', 'running', 'waiting')"
)


@dataclass
class ChildUse:
    """One top-level run's descendants, summed."""

    models: dict[str, list[Any]] = field(default_factory=dict)
    """model -> [calls, input tokens, output tokens, cost, replies cut at max_tokens]."""
    nodes: dict[str, list[Any]] = field(default_factory=dict)
    """'map node › node' -> [runs (1), attempts, retries, failures, time, cost, retry cost, 0, 0]."""
    retries: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    """(error class, 'map node › node') -> [count, cost, message]."""


@dataclass(frozen=True)
class _Child:
    root: str
    label: str
    """Where it ran, from the top: 'm' for a map node m's item, 'm › sub' one level further."""
    facts: Any


def child_use(
    raw: sqlite3.Connection, top: dict[str, Any], read_document: Callable[[str | None], Any], truncated_like: str
) -> dict[str, ChildUse]:
    """Per top-level run id (``top``: id -> its document's facts), what all its descendants did."""
    found: dict[str, ChildUse] = defaultdict(ChildUse)
    frontier = {run_id: _Child(run_id, "", facts) for run_id, facts in top.items()}
    library: dict[str | None, Any] = {}
    while frontier:
        children: dict[str, _Child] = {}
        for chunk in _chunks(list(frontier), 500):
            marks = ",".join("?" * len(chunk))
            for child_id, parent_id, parent_node in raw.execute(
                f"SELECT id, parent_run_id, parent_node_id FROM run WHERE parent_run_id IN ({marks})"
                " AND kind = 'child'",
                chunk,
            ):
                parent = frontier[parent_id]
                ref = parent.facts.workflows.get(parent_node or "")
                if ref not in library:
                    library[ref] = read_document(library_document_text(raw, ref))
                label = f"{parent.label} › {parent_node}" if parent.label else str(parent_node)
                children[child_id] = _Child(parent.root, label, library[ref])
        if children:
            _add_use(raw, children, found, truncated_like)
        frontier = children
    return found


def _add_use(raw: sqlite3.Connection, children: dict[str, _Child], found: dict[str, ChildUse], cut_like: str) -> None:
    for chunk in _chunks(list(children), 500):
        marks = ",".join("?" * len(chunk))
        steps: dict[str, list[Sequence[Any]]] = defaultdict(list)
        for row in raw.execute(_STEPS.format(marks=marks), chunk):
            steps[row[0]].append(row)
        for run_id, rows in steps.items():
            _add_child(found[children[run_id].root], children[run_id], rows)
        for run_id, node_id, n in raw.execute(
            f"SELECT run_id, node_id, count(*) FROM log WHERE run_id IN ({marks}) AND kind = 'node_log'"
            " AND message LIKE ? GROUP BY run_id, node_id",
            (*chunk, cut_like),
        ):
            child = children[run_id]
            model = child.facts.models.get(node_id or "")
            if model is not None:
                _sum(found[child.root].models, model, (0, 0, 0, 0.0, n))


def _add_child(use: ChildUse, child: _Child, rows: list[Sequence[Any]]) -> None:
    last: dict[tuple[str, int], int] = {}
    for row in rows:
        last[(row[1], row[2])] = max(last.get((row[1], row[2]), 0), row[3])
    for _run, node_id, iteration, attempt, status, error, start, end, duration, tin, tout, cost in rows:
        retried = status == "failed" and attempt < last[(node_id, iteration)]
        failed = status == "failed" and not retried
        took = duration or max(0.0, (end or 0.0) - (start or 0.0))
        label = f"{child.label} › {node_id}"
        counted = label in use.nodes
        _sum(use.nodes, label, (0, 1, int(retried), int(failed), took, cost, cost if retried else 0.0, 0, 0.0))
        if not counted:
            use.nodes[label][0] = 1  # the top-level run counts once per node, however many items ran it
        model = child.facts.models.get(node_id)
        if model is not None:
            _sum(use.models, model, (1, tin, tout, cost, 0))
        if retried:
            info = _error_of(error)
            _sum(use.retries, (info[0], label), (1, cost, ""))
            use.retries[(info[0], label)][2] = info[1]


def _error_of(text: str | None) -> tuple[str, str]:
    try:
        info = json.loads(text) if text else {}
    except ValueError:
        info = {}
    if not isinstance(info, dict):
        return "node", ""
    return str(info.get("error_class") or "node"), str(info.get("message") or "")[:300]


def _sum(table: dict[Any, list[Any]], key: Any, values: Sequence[Any]) -> None:
    row = table.get(key)
    if row is None:
        table[key] = list(values)
        return
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

"""Which earlier results a new run may reuse: re-run from a node, resume an interrupted run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.engine.results import PriorOutcome
from flowdesk.model.workflow import Workflow


def downstream_of(workflow: Workflow, node_id: str) -> set[str]:
    """``node_id`` and every node reachable from it, loop edges included (a re-run redoes the loop)."""
    succ: dict[str, list[str]] = {}
    for edge in workflow.edges:
        succ.setdefault(edge.source, []).append(edge.target)
    seen, frontier = {node_id}, [node_id]
    while frontier:
        for nxt in succ.get(frontier.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


def finished_outcomes(
    node_status: Mapping[str, str],
    node_outputs: Mapping[str, Mapping[str, Any]],
    exclude: set[str] | frozenset[str] = frozenset(),
) -> dict[str, PriorOutcome]:
    """Reusable results: succeeded nodes with their outputs, and skipped nodes."""
    prior: dict[str, PriorOutcome] = {}
    for node_id, status in node_status.items():
        if node_id in exclude:
            continue
        if status == "succeeded":
            prior[node_id] = PriorOutcome("succeeded", dict(node_outputs.get(node_id, {})))
        elif status == "skipped":
            prior[node_id] = PriorOutcome("skipped")
    return prior


def rerun_prior(
    workflow: Workflow, node_status: Mapping[str, str], node_outputs: Mapping[str, Mapping[str, Any]], *, from_node: str
) -> dict[str, PriorOutcome]:
    """Results to reuse when re-running from ``from_node``: everything not downstream of it."""
    if workflow.node(from_node) is None:
        raise KeyError(f"there is no node '{from_node}' in this workflow")
    return finished_outcomes(node_status, node_outputs, downstream_of(workflow, from_node))

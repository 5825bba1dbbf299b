"""Which earlier results a new run may reuse: re-run from a node, resume an interrupted run.

Results are reused per (node, iteration), as they were recorded: a resume replays the recorded
passes of a loop and goes on from where the record ends (see ``RunOptions.prior``).
"""

from __future__ import annotations

from flowdesk.engine.results import PriorOutcome, RecordedResults, StepKey
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
    results: RecordedResults, exclude: set[str] | frozenset[str] = frozenset()
) -> dict[StepKey, PriorOutcome]:
    """Reusable results: succeeded nodes with their outputs, and skipped nodes, each for its pass.

    Failed, cancelled, interrupted and waiting ones are left out: those nodes run again.
    """
    prior: dict[StepKey, PriorOutcome] = {}
    for key, (status, outputs) in results.items():
        if key[0] in exclude:
            continue
        if status == "succeeded":
            prior[key] = PriorOutcome("succeeded", dict(outputs))
        elif status == "skipped":
            prior[key] = PriorOutcome("skipped")
    return prior


def rerun_prior(workflow: Workflow, results: RecordedResults, *, from_node: str) -> dict[StepKey, PriorOutcome]:
    """Results to reuse when re-running from ``from_node``: everything not downstream of it."""
    if workflow.node(from_node) is None:
        raise KeyError(f"there is no node '{from_node}' in this workflow")
    return finished_outcomes(results, downstream_of(workflow, from_node))

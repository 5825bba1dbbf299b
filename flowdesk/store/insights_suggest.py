"""Suggestions drawn from a period's figures, each with the evidence it rests on.

Each rule needs enough runs to speak (``MIN_RUNS``), so a handful of test runs does not produce advice.
"""

from __future__ import annotations

from typing import Any

from flowdesk.store.insights_figures import Stats, Suggestion

MIN_RUNS = 5
MOST_PER_KIND = 8
"""Suggestions of one kind shown at most (the most telling first): a long list is not read."""
CRITICAL_SHARE = 0.5
"""A node on the critical path in more than this share of the runs is worth speeding up first."""
MIN_REPEATS = 3
"""Repeated inputs (the same inputs seen again) before a node is called deterministic."""
WORTH_CACHING_S = 0.05


def suggest(stats: Stats, repeats: list[Any]) -> list[Suggestion]:
    """Every suggestion the figures support, the most telling first within each kind."""
    kinds = (_critical(stats), _costly_retries(stats), _truncated(stats), _deterministic(stats, repeats),
             _concurrency(stats))  # fmt: skip
    return [s for found in kinds for s in found[:MOST_PER_KIND]]


def _where(stats: Stats, workflow: str) -> str:
    """' in <workflow>' when the figures cover several workflows."""
    return "" if stats.workflow is not None else f" in {stats.names.get(workflow, workflow)}"


def _critical(stats: Stats) -> list[Suggestion]:
    runs = stats.runs_by_workflow
    out = []
    told: set[str] = set()
    for node in sorted(stats.nodes, key=lambda n: -n.critical_s):  # the node that holds runs up longest
        total = runs.get(node.workflow, 0)
        if node.workflow not in told and total >= MIN_RUNS and node.critical_share > CRITICAL_SHARE:
            told.add(node.workflow)
            out.append(
                Suggestion(
                    "critical_path",
                    node.workflow,
                    node.node_id,
                    f"Speed up '{node.node_id}'{_where(stats, node.workflow)}: the run waits on it in most runs",
                    f"on the critical path in {node.critical_runs} of {total} runs ({node.critical_share:.0%}), "
                    f"{node.critical_s / max(node.critical_runs, 1):.2f} s each on it",
                )
            )
    return out


def _costly_retries(stats: Stats) -> list[Suggestion]:
    out = []
    for group in sorted(stats.failures, key=lambda g: -g.cost_usd):
        if group.kind == "retry" and group.cost_usd > 0:
            out.append(
                Suggestion(
                    "costly_retries",
                    group.workflow,
                    group.node_id,
                    f"Retries of '{group.node_id}'{_where(stats, group.workflow)} after {group.error_class} errors "
                    "cost money",
                    f"{group.count} retried attempt(s) of class {group.error_class} cost ${group.cost_usd:.4f}"
                    + (f"; e.g. {group.message}" if group.message else ""),
                )
            )
    return out


def _truncated(stats: Stats) -> list[Suggestion]:
    out = []
    for model in stats.models:
        if model.truncated:
            out.append(
                Suggestion(
                    "truncated",
                    stats.workflow or "",
                    model.model,
                    f"Replies of {model.model} are cut by max_tokens: raise max_tokens or ask for less",
                    f"{model.truncated} of {model.calls} call(s) ended with finish reason 'length' "
                    f"({model.truncated / max(model.calls, 1):.0%})",
                )
            )
    return out


def _deterministic(stats: Stats, repeats: list[Any]) -> list[Suggestion]:
    """Nodes that gave one output per distinct inputs every time they saw those inputs again."""
    worth = {
        (n.workflow, n.node_id)
        for n in stats.nodes
        if n.cost_usd > 0 or n.duration_s / max(n.attempts, 1) >= WORTH_CACHING_S
    }
    out = []
    for wf, node_id, inputs, seen, differs in sorted(repeats, key=lambda r: r[2] - r[3]):
        again = seen - inputs
        if differs == 0 and again >= MIN_REPEATS and (wf, node_id) in worth:
            out.append(
                Suggestion(
                    "deterministic",
                    wf,
                    node_id,
                    f"'{node_id}'{_where(stats, wf)} always returns the same output for the same inputs: "
                    "pin or cache it",
                    f"{again} repeated call(s) over {inputs} distinct input(s) in all recorded runs, "
                    "never a different output",
                )
            )
    return out


def _concurrency(stats: Stats) -> list[Suggestion]:
    out = []
    runs = stats.runs_by_workflow
    for wf, (peak, limit) in sorted(stats.concurrency.items()):
        if limit and peak < limit and runs.get(wf, 0) >= MIN_RUNS:
            out.append(
                Suggestion(
                    "concurrency",
                    wf,
                    wf,
                    f"Concurrency{_where(stats, wf)} never reaches its limit ({limit}): the limit is not what "
                    "slows these runs",
                    f"at most {peak} node(s) ran at once in {runs[wf]} runs; max_concurrency is {limit}",
                )
            )
    return out

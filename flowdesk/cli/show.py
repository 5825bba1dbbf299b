"""`flowdesk show RUN_ID`: one recorded run, readable: a header, a per-node table, the kept log lines.

The journal has one step per node attempt, iteration and segment (a resumed run adds a segment);
the table folds them into one row per node (one per pass for nodes inside a loop), so a person
sees what each node did, how many attempts it took and what it cost. Map items and sub-workflow
calls are runs of their own; their node's row counts them. `--json` prints everything unfolded.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from flowdesk.cli.common import (
    add_library_options,
    fmt_cost,
    fmt_duration,
    fmt_time,
    fmt_tokens,
    open_library,
    print_json,
    print_table,
    resolve_run_id,
    shorten,
)
from flowdesk.nodes.llm_contract import cost_text

if TYPE_CHECKING:
    from flowdesk.model.workflow import Workflow
    from flowdesk.store.runs import RunInfo, StepInfo
    from flowdesk.store.store import Store


@dataclass
class NodeRow:
    label: str
    status: str
    attempts: int
    duration_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    note: str

    def cells(self) -> list[str]:
        return [
            self.label,
            self.status,
            str(self.attempts) if self.attempts else "-",
            fmt_duration(self.duration_s) if self.status != "not run" else "-",
            fmt_tokens(self.input_tokens, self.output_tokens),
            fmt_cost(self.cost_usd),
            self.note,
        ]


def register(commands: Any) -> None:
    p = commands.add_parser(
        "show",
        help="show one recorded run: each node's status, attempts, time, tokens and cost",
        description="Show a recorded run: its header, a table of its nodes and the log lines kept. "
        "--json prints everything, every step's inputs and outputs included.",
    )
    p.add_argument("run_id", metavar="RUN_ID", help="the run (a unique prefix of its id is enough)")
    p.add_argument("--json", action="store_true", help="print the whole run as JSON")
    add_library_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    with open_library(args) as store:
        run = store.runs.get(resolve_run_id(store, args.run_id))
        if args.json:
            print_json(run_json(store, run))
            return 0
        steps = store.runs.steps(run.id)
        children = [c for c in store.runs.list(parent_run_id=run.id, limit=None) if c.kind == "child"]
        document = _document(store, run)
        _print_header(store, run, steps, children)
        print()
        origin = f"run {run.parent_run_id}" if run.kind == "rerun" else "an earlier run"
        rows = node_rows(steps, document, children, origin)
        print_table(["NODE", "STATUS", "ATTEMPTS", "DURATION", "TOKENS", "COST", "NOTE"], [r.cells() for r in rows])
        logs = store.runs.logs(run.id)
    if logs:
        print("\nlog:")
        for line in logs:
            where = f"{line.node_id}{f' #{line.iteration + 1}' if line.iteration else ''}  " if line.node_id else ""
            print(f"  {fmt_time(line.ts)}  {line.level:<7}  {where}{line.message}")
    return 0


def _document(store: Store, run: RunInfo) -> Workflow | None:
    """The workflow the run ran (None for a map item or sub-workflow run: its parent run keeps it)."""
    from flowdesk.store.workflows import NotFoundError

    try:
        return store.runs.document(run.id)
    except NotFoundError:
        return None


def _print_header(store: Store, run: RunInfo, steps: list[StepInfo], children: list[RunInfo]) -> None:
    lines = [("run", run.id + _lineage(run)), ("workflow", _workflow_line(store, run)), ("status", run.status)]
    lines.append(("started", fmt_time(run.started_at or run.created_at)))
    if run.finished_at:
        lines.append(("ended", f"{fmt_time(run.finished_at)} (ran {fmt_duration(run.duration_s)})"))
    if run.node_counts:
        lines.append(("nodes", ", ".join(f"{n} {status}" for status, n in sorted(run.node_counts.items()))))
    lines += _totals(steps, children)
    if run.error:
        node = run.error.get("node_id")
        lines.append(("error", (f"at node '{node}': " if node else "") + str(run.error.get("message", ""))))
    if run.segment:
        lines.append(
            ("continued", f"{run.segment} time(s); {run.restored_nodes} finished node result(s) reused last time")
        )
    if run.idempotency_key:
        lines.append(("key", run.idempotency_key))
    for label, value in lines:
        print(f"{label:<10} {value}")


def _totals(steps: list[StepInfo], children: list[RunInfo]) -> list[tuple[str, str]]:
    """Tokens and cost of the run, its map items and sub-workflow runs included.

    Summed from the steps, like the table below: the run's own totals are written when a segment
    finishes, so they miss the work of a segment whose process was killed. A map or sub-workflow
    node's step counts what its child runs spent, so the children are not added again.
    """
    tin = sum(s.input_tokens for s in steps)
    tout = sum(s.output_tokens for s in steps)
    cost = sum(s.cost_usd for s in steps)
    tokens = f"{tin:,} in + {tout:,} out" if tin + tout else "-"
    money = cost_text(cost)
    if children:
        tokens += f" (with its {len(children)} sub-run(s))"
        money += " (with its sub-runs)"
    return [("tokens", tokens), ("cost", money)]


def _lineage(run: RunInfo) -> str:
    if run.kind == "rerun":
        return f"  (re-run of {run.parent_run_id} from '{run.parent_node_id}')"
    if run.kind == "child":
        return f"  (an item of node '{run.parent_node_id}' in run {run.parent_run_id})"
    return ""


def _workflow_line(store: Store, run: RunInfo) -> str:
    from flowdesk.store.workflows import NotFoundError

    version = f", version {run.workflow_version}" if run.workflow_version else ""
    if run.source == "library" and run.workflow_id:
        try:
            slug = store.workflows.get(run.workflow_id).slug
        except NotFoundError:
            slug = f"{run.workflow_id}, deleted since"
        return f"{run.workflow_name} ({slug}{version})"
    if run.source == "child":
        return run.workflow_name
    return f"{run.workflow_name} (file {run.source})"


def node_rows(
    steps: list[StepInfo], document: Workflow | None, children: list[RunInfo], origin: str = "an earlier run"
) -> list[NodeRow]:
    """One row per node (per pass for a node that ran more than once in a loop), in the order they ran.

    ``origin`` names where reused results came from (the run a re-run was made from).
    """
    groups: dict[tuple[str, int], list[StepInfo]] = {}
    for step in steps:
        groups.setdefault((step.node_id, step.iteration), []).append(step)
    passes = Counter(node for node, _ in groups)
    items: dict[str, list[RunInfo]] = {}
    for child in children:
        items.setdefault(child.parent_node_id or "", []).append(child)
    rows = [
        _fold(f"{node} #{it + 1}" if passes[node] > 1 else node, group, items.get(node) if it == 0 else None, origin)
        for (node, it), group in groups.items()
    ]
    for node in document.nodes if document is not None else ():
        if node.id not in passes and node.kind != "note":
            rows.append(NodeRow(node.id, "not run", 0, 0.0, 0, 0, 0.0, ""))
    return rows


def _fold(label: str, group: list[StepInfo], children: list[RunInfo] | None, origin: str) -> NodeRow:
    last = group[-1]
    # a step left 'waiting' when the run suspended is the same attempt the decision later finished
    tried = [s for s in group if s.attempt > 0 and s.source == "run" and (s is last or s.status != "waiting")]
    row = NodeRow(
        label=label,
        status=last.status,
        attempts=len(tried),
        duration_s=sum(s.duration_s for s in group),
        input_tokens=sum(s.input_tokens for s in group),  # a map's step counts its items' tokens
        output_tokens=sum(s.output_tokens for s in group),
        cost_usd=sum(s.cost_usd for s in group),
        note="",
    )
    notes = []
    if last.source == "restored":
        notes.append(f"reused from {origin}")
    elif last.source == "pinned":
        notes.append("pinned output")
    if children:
        counts = Counter(c.status for c in children)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        notes.append(f"{len(children)} sub-run{'s' * (len(children) != 1)}: {summary}")
    if last.error and last.status in ("failed", "skipped", "cancelled", "interrupted"):
        notes.append(str(last.error.get("message") or ""))
    row.note = shorten("; ".join(n for n in notes if n), 90)
    return row


def run_json(store: Store, run: RunInfo) -> dict[str, Any]:
    """Everything recorded about the run, unfolded: run fields, values, every step, logs, its sub-runs."""
    inputs, outputs = store.runs.run_values(run.id)
    steps = []
    for step in store.runs.steps(run.id):
        step_inputs, step_outputs = store.runs.step_values(step.id)
        steps.append({**asdict(step), "inputs": step_inputs, "outputs": step_outputs})
    children = [c for c in store.runs.list(parent_run_id=run.id, limit=None, include_children=True)]
    return {
        "run": asdict(run),
        "inputs": inputs,
        "outputs": outputs,
        "steps": steps,
        "logs": [asdict(line) for line in store.runs.logs(run.id)],
        "children": [asdict(c) for c in children if c.kind == "child"],
        "reruns": [c.id for c in children if c.kind == "rerun"],
    }

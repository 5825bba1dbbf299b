"""`flowdesk show RUN_ID`: one recorded run, readable: a header, a per-node table, the run's log.

The table and the log come from the run's read model (``flowdesk.engine.readmodel``), replayed from
the journal: the states and lines the window shows, in the same words, for a finished run and
for one still going. One row per node (one per pass for nodes inside a loop) says what it did,
how many attempts it took and what it cost; nodes that never ran say so. Map items and
sub-workflow calls are runs of their own; their node's row counts them. `--json` prints the
journal's rows unfolded.
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
from flowdesk.cli.terminal import terminal_text
from flowdesk.engine.describe import status_text
from flowdesk.nodes.llm_contract import cost_text

if TYPE_CHECKING:
    from flowdesk.engine.readmodel import PassView, RunView
    from flowdesk.model.workflow import Workflow
    from flowdesk.store.runs import RunInfo
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
            status_text(self.status),
            str(self.attempts) if self.attempts else "-",
            fmt_duration(self.duration_s) if self.attempts else "-",
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
        view = store.runs.view(run.id)
        children = [c for c in store.runs.list(parent_run_id=run.id, limit=None) if c.kind == "child"]
        document = _document(store, run)
        _print_header(store, run, view, children)
        print()
        origin = f"run {run.parent_run_id}" if run.kind == "rerun" else "an earlier run"
        rows = node_rows(view, document, children, origin)
        print_table(["NODE", "STATUS", "ATTEMPTS", "DURATION", "TOKENS", "COST", "NOTE"], [r.cells() for r in rows])
    if view.lines:
        print("\nlog:")
        for line in view.lines:
            where = f"{line.label}  " if line.label else ""
            print(f"  {fmt_time(line.ts)}  {line.level:<7}  {where}{line.text}")
    return 0


def _document(store: Store, run: RunInfo) -> Workflow | None:
    """The workflow the run ran (None for a map item or sub-workflow run: its parent run keeps it)."""
    from flowdesk.store.workflows import NotFoundError

    try:
        return store.runs.document(run.id)
    except NotFoundError:
        return None


def _print_header(store: Store, run: RunInfo, view: RunView, children: list[RunInfo]) -> None:
    lines = [("run", run.id + _lineage(run)), ("workflow", _workflow_line(store, run)), ("status", run.status)]
    lines.append(("started", fmt_time(run.started_at or run.created_at)))
    if run.finished_at:
        lines.append(("ended", f"{fmt_time(run.finished_at)} (ran {fmt_duration(run.duration_s)})"))
    if run.node_counts:
        counts = sorted(run.node_counts.items())
        lines.append(("nodes", ", ".join(f"{n} {status_text(status)}" for status, n in counts)))
    lines += _totals(view, children)
    lines += [("warning", text) for text in view.warnings]
    if run.error:
        node = run.error.get("node_id")
        lines.append(("error", (f"at node '{node}': " if node else "") + str(run.error.get("message", ""))))
    if run.segment:
        lines.append(
            ("continued", f"{run.segment} time(s); {run.restored_nodes} finished node result(s) reused last time")
        )
    if run.idempotency_key:
        lines.append(("key", run.idempotency_key))
    lines += handler_lines(store, run)
    for label, value in lines:
        print(f"{label:<10} {terminal_text(value)}")


def _totals(view: RunView, children: list[RunInfo]) -> list[tuple[str, str]]:
    """Tokens and cost of the run, its map items and sub-workflow runs included.

    Summed over the nodes, like the table below: the run's own totals are written when a segment
    finishes, so they miss the work of a segment whose process was killed. A map or sub-workflow
    node counts what its child runs spent, so the children are not added again.
    """
    tin, tout, cost = view.totals()
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
    if run.kind == "handler":
        return f"  (on-failure handler of run {run.parent_run_id})"
    return ""


def handler_lines(store: Store, run: RunInfo) -> list[tuple[str, str]]:
    """The on-failure handler runs the run started ("handled by run ..."), newest last."""
    handlers = [r for r in store.runs.list(parent_run_id=run.id, limit=None) if r.kind == "handler"]
    return [("handled by", f"run {h.id} ({h.workflow_name}, {h.status})") for h in reversed(handlers)]


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
    view: RunView, document: Workflow | None, children: list[RunInfo], origin: str = "an earlier run"
) -> list[NodeRow]:
    """One row per node (per pass for a node that ran more than once in a loop), in the order they ran,
    then the nodes that never ran.

    ``origin`` names where reused results came from (the run a re-run was made from).
    """
    passes = Counter(node for node, _ in view.passes)
    items: dict[str, list[RunInfo]] = {}
    for child in children:
        items.setdefault(child.parent_node_id or "", []).append(child)
    rows = [
        _row(f"{node} #{it + 1}" if passes[node] > 1 else node, step, items.get(node) if it == 0 else None, origin)
        for (node, it), step in view.passes.items()
    ]
    known = {n.id for n in document.nodes if n.kind != "note"} if document is not None else set(view.nodes)
    for node_id, node in view.nodes.items():
        if node_id not in passes and node_id in known:
            rows.append(NodeRow(node_id, node.status, 0, 0.0, 0, 0, 0.0, ""))
    for node_id in sorted(known - set(view.nodes) - set(passes)):
        rows.append(NodeRow(node_id, "not_run" if view.finished else "idle", 0, 0.0, 0, 0, 0.0, ""))
    return rows


def _row(label: str, step: PassView, children: list[RunInfo] | None, origin: str) -> NodeRow:
    row = NodeRow(
        label=label,
        status=step.status,
        attempts=len(step.attempts) if step.source == "run" else 0,
        duration_s=step.duration_s,
        input_tokens=step.input_tokens,  # a map's node counts its items' tokens
        output_tokens=step.output_tokens,
        cost_usd=step.cost_usd,
        note="",
    )
    notes = []
    if step.source == "restored":
        notes.append(f"reused from {origin}")
    elif step.source == "pinned":
        notes.append("pinned output")
    if children:
        counts = Counter(c.status for c in children)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        notes.append(f"{len(children)} sub-run{'s' * (len(children) != 1)}: {summary}")
    if step.note and step.status in ("failed", "skipped", "cancelled", "waiting"):
        notes.append(step.note)
    row.note = shorten("; ".join(n for n in notes if n), 90)
    return row


def run_json(store: Store, run: RunInfo) -> dict[str, Any]:
    """Everything recorded about the run, unfolded: run fields, values, every step, logs, its sub-runs."""
    inputs, outputs = store.runs.run_values(run.id)
    children = [c for c in store.runs.list(parent_run_id=run.id, limit=None, include_children=True)]
    events = store.runs.events(run.id)
    workers = _workers(events)
    steps = []
    for step in store.runs.steps(run.id):
        step_inputs, step_outputs = store.runs.step_values(step.id)
        where = workers.get((run.id, step.node_id, step.iteration, step.attempt))
        steps.append({**step.model_dump(), "inputs": step_inputs, "outputs": step_outputs, "worker": where})
    return {
        "run": run.model_dump(),
        "inputs": inputs,
        "outputs": outputs,
        "steps": steps,
        "logs": [asdict(line) for line in store.runs.logs(run.id)],
        "children": [{**c.model_dump(), **_placement(workers, c.id)} for c in children if c.kind == "child"],
        "reruns": [c.id for c in children if c.kind == "rerun"],
        "handled_by": [c.id for c in children if c.kind == "handler"],
    }


_ATTEMPT_ENDS = ("node_succeeded", "node_failed", "node_retrying")


def _placement(workers: dict[Any, Any], run_id: str) -> dict[str, Any]:
    """Where a sub-run ran; a worker lost while running it counts as one more attempt, with the reason."""
    lost = workers.get((run_id, "lost"), [])
    return {
        "worker": workers.get(run_id),
        "attempt": 1 + len(lost),
        "lost_attempts": [{"attempt": n, "worker": w, "reason": f"worker {w} was lost"} for n, w in enumerate(lost, 1)],
    }


def _workers(events: list[Any]) -> dict[Any, str]:
    """Which cluster worker ran each sub-run (by its id) and each ``remote: true`` attempt (by node,
    iteration and attempt in a run), as the journal says (``flowdesk run --executor``)."""
    found: dict[Any, str] = {}
    for event in events:
        worker = getattr(event, "worker", None)
        if not worker:
            continue
        if event.type == "run_started":
            found[event.run_id] = worker
            if event.lost_workers:
                found[(event.run_id, "lost")] = list(event.lost_workers)
        elif event.type in _ATTEMPT_ENDS:
            found[(event.run_id, event.node_id, event.iteration, event.attempt)] = worker
    return found

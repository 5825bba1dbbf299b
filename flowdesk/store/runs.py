"""Reading the run journal: lists of runs, one run's steps and logs, the values a step saw.

Lists read only the columns they show; values (which can be large) are fetched for the one step
or run a person looks at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from flowdesk.engine.events import (
    ErrorInfo,
    NodeCancelled,
    NodeFailed,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    NodeWaiting,
    RunFinished,
    RunStarted,
    Usage,
    journal_adapter,
)
from flowdesk.engine.readmodel import RunView
from flowdesk.model.fileformat import loads_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import Database
from flowdesk.store.values import load_texts, load_value_maps
from flowdesk.store.workflows import NotFoundError

RUN_STATUSES = ("pending", "running", "paused", "waiting", "succeeded", "failed", "cancelled", "interrupted")
LIVE_STATUSES = ("pending", "running", "paused")

_RUN_COLUMNS = (
    "id, workflow_id, workflow_version, workflow_name, source, kind, parent_run_id, parent_node_id, status, error,"
    " created_at, started_at, finished_at, duration_s, input_tokens, output_tokens, cost_usd, node_count,"
    " node_counts, idempotency_key, owner, segment, restored_nodes, options, document_hash"
)


@dataclass(frozen=True)
class RunInfo:
    id: str
    workflow_id: str | None
    workflow_version: int | None
    workflow_name: str
    source: str
    kind: str
    parent_run_id: str | None
    parent_node_id: str | None
    status: str
    error: dict[str, Any] | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    duration_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    node_count: int
    node_counts: dict[str, int]
    idempotency_key: str | None
    owner: str | None
    segment: int
    restored_nodes: int
    options: dict[str, Any]
    document_hash: str | None


def _run(row: Any) -> RunInfo:
    values = list(row)
    values[9] = json.loads(values[9]) if values[9] else None
    values[18] = json.loads(values[18] or "{}")
    values[23] = json.loads(values[23] or "{}")
    return RunInfo(*values)


@dataclass(frozen=True)
class StepInfo:
    id: int
    node_id: str
    iteration: int
    attempt: int
    segment: int
    status: str
    source: str
    error: dict[str, Any] | None
    started_at: float | None
    finished_at: float | None
    duration_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class LogInfo:
    node_id: str | None
    iteration: int
    ts: float
    level: str
    kind: str
    message: str


class RunJournalReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _find(self, conn: Connection, run_id: str) -> RunInfo:
        row = conn.exec_driver_sql(f"SELECT {_RUN_COLUMNS} FROM run WHERE id = ?", (run_id,)).first()
        if row is None and len(run_id) >= 4:  # a unique prefix of a top-level run, as git allows for commits
            rows = conn.exec_driver_sql(
                f"SELECT {_RUN_COLUMNS} FROM run WHERE id LIKE ? ESCAPE '\\' AND kind != 'child' LIMIT 2",
                (run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
            ).all()
            row = rows[0] if len(rows) == 1 else None
        if row is None:
            raise NotFoundError(f"there is no run '{run_id}' in the library (see `flowdesk runs`)")
        return _run(row)

    def get(self, run_id: str) -> RunInfo:
        with self.db.read() as conn:
            return self._find(conn, run_id)

    def find_by_key(self, key: str) -> RunInfo | None:
        with self.db.read() as conn:
            row = conn.exec_driver_sql(f"SELECT {_RUN_COLUMNS} FROM run WHERE idempotency_key = ?", (key,)).first()
        return _run(row) if row else None

    def list(
        self, workflow_id: str | None = None, *, status: str | None = None, limit: int | None = 50,
        include_children: bool = False, parent_run_id: str | None = None,
    ) -> list[RunInfo]:  # fmt: skip
        """Newest first."""
        clauses, params = [], []
        if workflow_id is not None:
            clauses.append("workflow_id = ?")
            params.append(workflow_id)
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if parent_run_id is not None:
            clauses.append("parent_run_id = ?")
            params.append(parent_run_id)
        elif not include_children:
            clauses.append("kind != 'child'")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        tail = f" LIMIT {int(limit)}" if limit else ""
        with self.db.read() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT {_RUN_COLUMNS} FROM run {where} ORDER BY created_at DESC, rowid DESC{tail}", tuple(params)
            ).all()
        return [_run(r) for r in rows]

    def steps(self, run_id: str) -> list[StepInfo]:
        """Every attempt of every node, in the order they started."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            rows = conn.exec_driver_sql(
                "SELECT id, node_id, iteration, attempt, segment, status, source, error, started_at, finished_at,"
                " duration_s, input_tokens, output_tokens, cost_usd FROM step WHERE run_id = ? ORDER BY id",
                (run.id,),
            ).all()
        return [
            StepInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else None, *r[8:]) for r in rows
        ]

    def step_values(self, step_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """A step's (inputs, outputs), in full."""
        with self.db.read() as conn:
            row = conn.exec_driver_sql("SELECT inputs, outputs FROM step WHERE id = ?", (step_id,)).first()
            if row is None:
                raise NotFoundError(f"there is no step {step_id}")
            inputs, outputs = load_value_maps(conn, [row[0], row[1]])
        return inputs, outputs

    def run_values(self, run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A run's (inputs, outputs)."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            row = conn.exec_driver_sql("SELECT inputs, outputs FROM run WHERE id = ?", (run.id,)).first()
            inputs, outputs = load_value_maps(conn, [row[0], row[1]])
        return inputs, outputs

    def logs(self, run_id: str, *, limit: int | None = None) -> list[LogInfo]:
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            tail = f" LIMIT {int(limit)}" if limit else ""
            rows = conn.exec_driver_sql(
                f"SELECT node_id, iteration, ts, level, kind, message FROM log WHERE run_id = ? ORDER BY id{tail}",
                (run.id,),
            ).all()
        return [LogInfo(*r) for r in rows]

    def events(self, run_id: str) -> list[Any]:
        """The run's events as the journal kept them (its sub-runs' too), values put back by hash."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            top = run
            while top.parent_run_id is not None and top.kind == "child":
                top = self._find(conn, top.parent_run_id)
            rows = conn.exec_driver_sql("SELECT data FROM run_event WHERE run_id = ? ORDER BY seq", (top.id,)).all()
            adapter = journal_adapter()
            events = [event for row in rows for event in adapter.validate_json(row[0])]
            results = [e for e in events if e.type == "node_succeeded" and e.outputs]
            texts = load_texts(conn, (h for e in results for h in e.outputs.values()))
        for event in results:
            event.outputs = {name: json.loads(texts[h]) if h in texts else None for name, h in event.outputs.items()}
        return events

    def view(self, run_id: str) -> RunView:
        """The run's read model: its journal's events folded exactly as a live view folds them.

        A run recorded before the library kept events (schema 2) is read from its step rows instead,
        put as the events they record, through the same fold."""
        run = self.get(run_id)
        events = self.events(run.id)
        if not events and run.status != "pending":
            events = events_from_steps(run, self.steps(run.id))
        return RunView.replay(run.id, events)

    def document(self, run_id: str) -> Workflow:
        """The exact workflow the run ran."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            if run.document_hash is None:
                raise NotFoundError(
                    f"run '{run.id}' is a sub-workflow run; its parent run '{run.parent_run_id}' has the document"
                )
            text = load_texts(conn, [run.document_hash])[run.document_hash]
        return loads_workflow(text, source=f"run:{run.id}")

    def step_results(self, run_id: str) -> dict[tuple[str, int], tuple[str, dict[str, Any]]]:
        """Each (node, iteration)'s latest recorded state and outputs: what a resume or re-run can reuse.

        Per loop pass, so that a resume replays the passes recorded and goes on from there."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            rows = conn.exec_driver_sql(
                "SELECT node_id, iteration, status, outputs FROM step WHERE run_id = ? ORDER BY segment, attempt, id",
                (run.id,),
            ).all()
            latest = {(r[0], r[1]): (r[2], r[3]) for r in rows}
            outputs = load_value_maps(conn, [v[1] if v[0] == "succeeded" else None for v in latest.values()])
        return {key: (v[0], out) for (key, v), out in zip(latest.items(), outputs, strict=True)}

    def node_results(self, run_id: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
        """Each node's latest recorded state and outputs (its last loop pass): what the run shows."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            rows = conn.exec_driver_sql(
                "SELECT node_id, status, outputs FROM step WHERE run_id = ? ORDER BY segment, iteration, attempt, id",
                (run.id,),
            ).all()
            latest = {r[0]: (r[1], r[2]) for r in rows}
            outputs = load_value_maps(conn, [v[1] if v[0] == "succeeded" else None for v in latest.values()])
        status = {node: v[0] for node, v in latest.items()}
        return status, dict(zip(latest, outputs, strict=True))


# ---------------------------------------------------------------- runs recorded before schema 3
# A run recorded before the library kept events reopens through the same fold as any other: each
# step row (one node attempt and pass) becomes the start and end it records, the run row its start
# and end. What the rows never kept (nodes' log lines, loop passes) stays unknown.
def events_from_steps(run: RunInfo, steps: list[StepInfo]) -> list[Any]:
    """The events the step rows of ``run`` record, in time order."""
    started = run.started_at or run.created_at
    events: list[Any] = [
        RunStarted(run_id=run.id, ts=started, workflow_id=run.workflow_id or "", workflow_name=run.workflow_name,
                   node_count=run.node_count, parent_run_id=run.parent_run_id, parent_node_id=run.parent_node_id)
    ]  # fmt: skip
    last_attempt: dict[tuple[str, int], int] = {}
    for step in steps:
        key = (step.node_id, step.iteration)
        last_attempt[key] = max(last_attempt.get(key, 0), step.attempt)
    for step in steps:
        events += _step_events(run.id, step, retried=step.attempt < last_attempt[(step.node_id, step.iteration)])
    if run.finished_at is not None and run.status not in ("running", "paused", "pending"):
        error = _error(run.error)
        usage = Usage(input_tokens=run.input_tokens, output_tokens=run.output_tokens, cost_usd=run.cost_usd)
        events.append(RunFinished(run_id=run.id, ts=run.finished_at, status=run.status, error=error,  # type: ignore[arg-type]
                                  duration_s=run.duration_s, usage=usage, node_counts=run.node_counts))  # fmt: skip
    events[1:] = sorted(events[1:], key=lambda e: e.ts)
    return events


def _step_events(run_id: str, step: StepInfo, *, retried: bool) -> list[Any]:
    common: dict[str, Any] = {"run_id": run_id, "node_id": step.node_id, "iteration": step.iteration}
    out: list[Any] = []
    if step.started_at is not None and step.source == "run" and step.attempt > 0:  # (a skip has attempt 0)
        out.append(NodeStarted(ts=step.started_at, attempt=step.attempt, **common))
    end = step.finished_at or step.started_at or 0.0
    usage = Usage(input_tokens=step.input_tokens, output_tokens=step.output_tokens, cost_usd=step.cost_usd)
    error = _error(step.error) or ErrorInfo(message="")
    if step.status == "succeeded":
        out.append(NodeSucceeded(ts=end, attempt=step.attempt, duration_s=step.duration_s, usage=usage,
                                 source=step.source, **common))  # type: ignore[arg-type]  # fmt: skip
    elif step.status == "failed" and retried:
        out.append(NodeRetrying(ts=end, attempt=step.attempt, delay_s=0.0, error=error, duration_s=step.duration_s,
                                usage=usage, **common))  # fmt: skip
    elif step.status == "failed":
        out.append(NodeFailed(ts=end, attempt=step.attempt, error=error, duration_s=step.duration_s, usage=usage,
                              **common))  # fmt: skip
    elif step.status == "skipped":
        source = "restored" if step.source == "restored" else "run"
        out.append(NodeSkipped(ts=end, reason=error.message, source=source, **common))
    elif step.status == "waiting":
        out.append(NodeWaiting(ts=end, **common))
    elif step.status == "cancelled":
        out.append(NodeCancelled(ts=end, attempt=step.attempt, **common))
    return out


def _error(data: dict[str, Any] | None) -> ErrorInfo | None:
    if not data:
        return None
    return ErrorInfo(message=str(data.get("message", "")), error_class=str(data.get("error_class", "node")),
                     node_id=data.get("node_id"), exception=data.get("exception"))  # fmt: skip

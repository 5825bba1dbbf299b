"""Reading the run journal: lists of runs, one run's steps and logs, the values a step saw.

Lists read only the columns they show; values (which can be large) are fetched for the one step
or run a person looks at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from pydantic import ConfigDict, Field
from sqlalchemy import Connection, Row, Select, literal_column, select

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
from flowdesk.store.statements import compiled
from flowdesk.store.tables import LogRow, RunColumns, RunEventRow, RunRow, StepColumns, StepRow
from flowdesk.store.values import load_texts, load_value_maps
from flowdesk.store.workflows import NotFoundError

RUN_STATUSES = ("queued", "pending", "running", "paused", "waiting", "succeeded", "failed", "cancelled", "interrupted")
LIVE_STATUSES = ("pending", "running", "paused")

RUN = RunRow.__table__  # type: ignore[attr-defined]
STEP = StepRow.__table__  # type: ignore[attr-defined]
LOG = LogRow.__table__  # type: ignore[attr-defined]
EVENT = RunEventRow.__table__  # type: ignore[attr-defined]
_JSON_FIELDS = {"error": None, "node_counts": "{}", "options": "{}"}
"""Columns holding JSON text, decoded into the info objects (with what an empty one reads as)."""


def _selecting(table: Any, names: Iterable[str]) -> Select[Any]:
    """A select of the table's columns an info class shows, by its field names."""
    return select(*(table.c[name] for name in names))


def _decoded(row: Row[Any]) -> dict[str, Any]:
    return _decoded_values(dict(row._mapping))


def _decoded_values(values: dict[str, Any]) -> dict[str, Any]:
    """A row's columns by name, its JSON columns decoded."""
    for name, empty in _JSON_FIELDS.items():
        if name in values:
            text = values[name] or empty
            # most runs' options and counts are empty: json.loads('{}') was a fifth of a long list's time
            values[name] = {} if text == "{}" else json.loads(text) if text else None
    return values


class RunInfo(RunColumns):
    """A run as lists and views show it: the run table's columns (``tables.RunColumns``), JSON ones decoded.

    Its values (inputs, outputs), which can be large, are read for the one run a person looks at
    (``RunJournalReader.run_values``)."""

    model_config = ConfigDict(frozen=True)

    error: dict[str, Any] | None = None
    node_counts: dict[str, int] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)


def _run(row: Row[Any]) -> RunInfo:
    return _NEW_RUN_INFO(_decoded(row))  # type: ignore[no-any-return]


_NEW_RUN_INFO = RunInfo.__pydantic_validator__.validate_python
"""A ``RunInfo`` from its columns: pydantic's validator itself (SQLModel's __init__ around it costs as much again)."""


class StepInfo(StepColumns):
    """One node attempt and loop pass as the run's views show it: the step table's columns, its error decoded."""

    model_config = ConfigDict(frozen=True)

    id: int
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class LogInfo:
    node_id: str | None
    iteration: int
    ts: float
    level: str
    kind: str
    message: str


_NEW_STEP_INFO = StepInfo.__pydantic_validator__.validate_python
"""A ``StepInfo`` from its columns (as ``_run`` makes a ``RunInfo``)."""
_RUNS = _selecting(RUN, RunInfo.model_fields)
_STEPS = _selecting(STEP, StepInfo.model_fields)
_LOGS = _selecting(LOG, (f.name for f in fields(LogInfo)))


class RunJournalReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _find(self, conn: Connection, run_id: str) -> RunInfo:
        row = conn.execute(_RUNS.where(RUN.c.id == run_id)).first()
        if row is None and len(run_id) >= 4:  # a unique prefix of a top-level run, as git allows for commits
            prefix = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = conn.execute(_RUNS.where(RUN.c.id.like(prefix, escape="\\"), RUN.c.kind != "child").limit(2)).all()
            row = rows[0] if len(rows) == 1 else None
        if row is None:
            raise NotFoundError(f"there is no run '{run_id}' in the library (see `flowdesk runs`)")
        return _run(row)

    def get(self, run_id: str) -> RunInfo:
        with self.db.read() as conn:
            return self._find(conn, run_id)

    def find_by_key(self, key: str) -> RunInfo | None:
        with self.db.read() as conn:
            row = conn.execute(_RUNS.where(RUN.c.idempotency_key == key)).first()
        return _run(row) if row else None

    def list(
        self, workflow_id: str | None = None, *, status: str | None = None, limit: int | None = 50,
        include_children: bool = False, parent_run_id: str | None = None, since: float | None = None,
        offset: int = 0,
    ) -> list[RunInfo]:  # fmt: skip
        """Newest first; ``since`` keeps runs created at or after that time, ``offset`` pages."""
        query = _RUNS.order_by(RUN.c.created_at.desc(), literal_column("rowid").desc())
        if workflow_id is not None:
            query = query.where(RUN.c.workflow_id == workflow_id)
        if status is not None:
            query = query.where(RUN.c.status == status)
        if parent_run_id is not None:
            query = query.where(RUN.c.parent_run_id == parent_run_id)
        elif not include_children:
            query = query.where(RUN.c.kind != "child")
        if since is not None:
            query = query.where(RUN.c.created_at >= since)
        if limit:
            query = query.limit(int(limit))
        if offset:
            query = query.offset(int(offset))
        statement = compiled(query)
        with self.db.read():  # the driver's rows, by column name: SQLAlchemy's Row per run cost a third of a long list
            cursor = self.db.raw().execute(statement.sql, statement.params())
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        return [_NEW_RUN_INFO(_decoded_values(dict(zip(names, r, strict=True)))) for r in rows]

    def steps(self, run_id: str) -> list[StepInfo]:
        """Every attempt of every node, in the order they started."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            rows = conn.execute(_STEPS.where(STEP.c.run_id == run.id).order_by(STEP.c.id)).all()
        return [_NEW_STEP_INFO(_decoded(r)) for r in rows]

    def step_values(self, step_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """A step's (inputs, outputs), in full."""
        with self.db.read() as conn:
            row = conn.execute(select(STEP.c.inputs, STEP.c.outputs).where(STEP.c.id == step_id)).first()
            if row is None:
                raise NotFoundError(f"there is no step {step_id}")
            inputs, outputs = load_value_maps(conn, [row.inputs, row.outputs])
        return inputs, outputs

    def run_values(self, run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A run's (inputs, outputs)."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            row = conn.execute(select(RUN.c.inputs, RUN.c.outputs).where(RUN.c.id == run.id)).one()
            inputs, outputs = load_value_maps(conn, [row.inputs, row.outputs])
        return inputs, outputs

    def logs(self, run_id: str, *, limit: int | None = None) -> list[LogInfo]:
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            query = _LOGS.where(LOG.c.run_id == run.id).order_by(LOG.c.id)
            rows = conn.execute(query.limit(int(limit)) if limit else query).all()
        return [LogInfo(**r._mapping) for r in rows]

    def events(self, run_id: str) -> list[Any]:
        """The run's events as the journal kept them (its sub-runs' too), values put back by hash."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            top = run
            while top.parent_run_id is not None and top.kind == "child":
                top = self._find(conn, top.parent_run_id)
            rows = conn.execute(select(EVENT.c.data).where(EVENT.c.run_id == top.id).order_by(EVENT.c.seq)).all()
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
        if not events and run.status not in ("pending", "queued"):
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
            rows = conn.execute(
                select(STEP.c.node_id, STEP.c.iteration, STEP.c.status, STEP.c.outputs)
                .where(STEP.c.run_id == run.id)
                .order_by(STEP.c.segment, STEP.c.attempt, STEP.c.id)
            ).all()
            latest = {(r.node_id, r.iteration): (r.status, r.outputs) for r in rows}
            outputs = load_value_maps(conn, [v[1] if v[0] == "succeeded" else None for v in latest.values()])
        return {key: (v[0], out) for (key, v), out in zip(latest.items(), outputs, strict=True)}

    def node_results(self, run_id: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
        """Each node's latest recorded state and outputs (its last loop pass): what the run shows."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            rows = conn.execute(
                select(STEP.c.node_id, STEP.c.status, STEP.c.outputs)
                .where(STEP.c.run_id == run.id)
                .order_by(STEP.c.segment, STEP.c.iteration, STEP.c.attempt, STEP.c.id)
            ).all()
            latest = {r.node_id: (r.status, r.outputs) for r in rows}
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
        out.append(NodeCancelled(ts=end, attempt=step.attempt, reason=error.message, **common))
    return out


def _error(data: dict[str, Any] | None) -> ErrorInfo | None:
    if not data:
        return None
    return ErrorInfo(message=str(data.get("message", "")), error_class=str(data.get("error_class", "node")),
                     node_id=data.get("node_id"), exception=data.get("exception"))  # fmt: skip

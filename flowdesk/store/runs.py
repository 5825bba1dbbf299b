"""Reading the run journal: lists of runs, one run's steps and logs, the values a step saw.

Lists read only the columns they show; values (which can be large) are fetched for the one step
or run a person looks at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Row, Select, literal_column, select

from flowdesk.model.fileformat import loads_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import Database
from flowdesk.store.tables import LogRow, RunRow, StepRow
from flowdesk.store.values import load_texts, load_value_maps
from flowdesk.store.workflows import NotFoundError

RUN_STATUSES = ("pending", "running", "paused", "waiting", "succeeded", "failed", "cancelled", "interrupted")
LIVE_STATUSES = ("pending", "running", "paused")

RUN = RunRow.__table__  # type: ignore[attr-defined]
STEP = StepRow.__table__  # type: ignore[attr-defined]
LOG = LogRow.__table__  # type: ignore[attr-defined]
_JSON_FIELDS = {"error": None, "node_counts": "{}", "options": "{}"}
"""Columns holding JSON text, decoded into the info objects (with what an empty one reads as)."""


def _selecting(table: Any, info: type) -> Select[Any]:
    """A select of the table's columns an info class shows, by its field names."""
    return select(*(table.c[f.name] for f in fields(info)))


def _decoded(row: Row[Any]) -> dict[str, Any]:
    values = dict(row._mapping)
    for name, empty in _JSON_FIELDS.items():
        if name in values:
            text = values[name] or empty
            values[name] = json.loads(text) if text else None
    return values


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


def _run(row: Row[Any]) -> RunInfo:
    return RunInfo(**_decoded(row))


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


_RUNS = _selecting(RUN, RunInfo)
_STEPS = _selecting(STEP, StepInfo)
_LOGS = _selecting(LOG, LogInfo)


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
        include_children: bool = False, parent_run_id: str | None = None,
    ) -> list[RunInfo]:  # fmt: skip
        """Newest first."""
        query = _RUNS.order_by(RUN.c.created_at.desc(), literal_column("rowid").desc())
        if workflow_id is not None:
            query = query.where(RUN.c.workflow_id == workflow_id)
        if status is not None:
            query = query.where(RUN.c.status == status)
        if parent_run_id is not None:
            query = query.where(RUN.c.parent_run_id == parent_run_id)
        elif not include_children:
            query = query.where(RUN.c.kind != "child")
        if limit:
            query = query.limit(int(limit))
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [_run(r) for r in rows]

    def steps(self, run_id: str) -> list[StepInfo]:
        """Every attempt of every node, in the order they started."""
        with self.db.read() as conn:
            run = self._find(conn, run_id)
            rows = conn.execute(_STEPS.where(STEP.c.run_id == run.id).order_by(STEP.c.id)).all()
        return [StepInfo(**_decoded(r)) for r in rows]

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

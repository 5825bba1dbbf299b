"""The triggers stored with each workflow: add, list, find, pause, remove, and what each last did.

A trigger's settings (``config``) are plain JSON the ``flowdesk.triggers`` package interprets; a
webhook's secret is never among them (see ``flowdesk.triggers.secrets``).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from flowdesk.store.automation_tables import TriggerRow
from flowdesk.store.database import Database
from flowdesk.store.tables import RunRow, WorkflowRow
from flowdesk.store.workflows import NotFoundError, WorkflowLibrary

KINDS = ("cron", "interval", "webhook", "folder", "after")

TRIGGER = TriggerRow.__table__  # type: ignore[attr-defined]
_WORKFLOW = WorkflowRow.__table__  # type: ignore[attr-defined]
_RUN = RunRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class TriggerInfo:
    id: str
    workflow_id: str
    workflow_slug: str
    workflow_status: str
    kind: str
    config: dict[str, Any]
    paused: bool
    created_at: float
    last_fired_at: float | None
    last_run_id: str | None
    last_error: str | None

    @property
    def can_fire(self) -> bool:
        """Only an active workflow's triggers start runs, and only while not paused."""
        return not self.paused and self.workflow_status == "active"


_SELECT = select(
    TRIGGER.c.id, TRIGGER.c.workflow_id, _WORKFLOW.c.slug.label("workflow_slug"),
    _WORKFLOW.c.status.label("workflow_status"), TRIGGER.c.kind, TRIGGER.c.config, TRIGGER.c.paused,
    TRIGGER.c.created_at, TRIGGER.c.last_fired_at, TRIGGER.c.last_run_id, TRIGGER.c.last_error,
).join(_WORKFLOW, _WORKFLOW.c.id == TRIGGER.c.workflow_id)  # fmt: skip


def _info(row: Any) -> TriggerInfo:
    values = dict(row._mapping)
    values["config"] = json.loads(values["config"])
    values["paused"] = bool(values["paused"])
    return TriggerInfo(**values)


class TriggerStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._workflows = WorkflowLibrary(db)

    def add(
        self, workflow_ref: str, kind: str, config: dict[str, Any], *, trigger_id: str | None = None
    ) -> TriggerInfo:
        if kind not in KINDS:
            raise ValueError(f"a trigger's kind is one of {', '.join(KINDS)}, not {kind!r}")
        workflow = self._workflows.get(workflow_ref)
        new_id = trigger_id or f"tr_{uuid.uuid4().hex[:16]}"
        with self.db.write() as conn:
            conn.execute(
                insert(TRIGGER).values(
                    id=new_id, workflow_id=workflow.id, kind=kind, config=json.dumps(config, sort_keys=True),
                    paused=False, created_at=time.time(),
                )
            )  # fmt: skip
        return self.get(new_id)

    def get(self, trigger_id: str) -> TriggerInfo:
        with self.db.read() as conn:
            row = conn.execute(_SELECT.where(TRIGGER.c.id == trigger_id)).first()
        if row is None:
            raise NotFoundError(f"there is no trigger '{trigger_id}' (see `flowdesk triggers list`)")
        return _info(row)

    def list(self, workflow_ref: str | None = None, *, kind: str | None = None) -> list[TriggerInfo]:
        """Oldest first; only ``workflow_ref``'s (an id or slug) when given."""
        query = _SELECT.order_by(TRIGGER.c.created_at, TRIGGER.c.id)
        if workflow_ref is not None:
            query = query.where(or_(_WORKFLOW.c.id == workflow_ref, _WORKFLOW.c.slug == workflow_ref))
        if kind is not None:
            query = query.where(TRIGGER.c.kind == kind)
        with self.db.read() as conn:
            return [_info(r) for r in conn.execute(query).all()]

    def set_paused(self, trigger_id: str, paused: bool, *, now: float | None = None) -> TriggerInfo:
        """Pause or resume; resuming starts the schedule afresh from ``now``: slots missed while paused stay unfired."""
        self.get(trigger_id)
        values: dict[str, Any] = {"paused": paused}
        if not paused:
            values["last_fired_at"] = time.time() if now is None else now
        with self.db.write() as conn:
            conn.execute(update(TRIGGER).where(TRIGGER.c.id == trigger_id).values(**values))
        return self.get(trigger_id)

    def remove(self, trigger_id: str) -> TriggerInfo:
        found = self.get(trigger_id)
        with self.db.write() as conn:
            conn.execute(delete(TRIGGER).where(TRIGGER.c.id == trigger_id))
        return found

    def record_firing(
        self, trigger_id: str, fired_at: float, *, run_id: str | None = None, error: str | None = None
    ) -> None:
        """What the trigger's latest firing did (a run, or why none started)."""
        with self.db.write() as conn:
            conn.execute(
                update(TRIGGER)
                .where(TRIGGER.c.id == trigger_id)
                .values(last_fired_at=fired_at, last_run_id=run_id, last_error=error)
            )

    def last_finish(self) -> float:
        """When the latest run ended (0 for none): where watching for finished runs starts."""
        with self.db.read() as conn:
            return float(conn.execute(select(func.max(_RUN.c.finished_at))).scalar() or 0.0)

    def finished_since(self, since: float, workflow_ids: set[str]) -> list[tuple[str, float]]:
        """(run id, finished at) of the top-level runs of ``workflow_ids`` that ended after ``since``, oldest first."""
        if not workflow_ids:
            return []
        query = (
            select(_RUN.c.id, _RUN.c.finished_at)
            .where(_RUN.c.finished_at > since, _RUN.c.kind != "child", _RUN.c.workflow_id.in_(sorted(workflow_ids)))
            .order_by(_RUN.c.finished_at)
        )
        with self.db.read() as conn:
            return [(r.id, float(r.finished_at)) for r in conn.execute(query).all()]

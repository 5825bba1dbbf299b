"""The tables added for triggers and the workflow lifecycle (schema 4), as SQLModel classes.

Kept apart from ``tables.py`` so the run journal's tables and these change independently; both
are listed in ``tables.TABLES``, which the schema check compares every library against.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class TriggerRow(SQLModel, table=True):
    """Something that starts runs of a workflow by itself: a schedule, a webhook, a folder, another workflow."""

    __tablename__ = "trigger"
    __table_args__ = (Index("trigger_by_workflow", "workflow_id"),)

    id: str = Field(primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", ondelete="CASCADE")
    kind: str
    """cron, interval, webhook, folder or after."""
    config: str = "{}"
    """JSON object, by kind: cron/tz, seconds, path/input, workflow_id/status; never a secret."""
    paused: bool = False
    created_at: float
    last_fired_at: float | None = None
    """When it last fired (for schedules: the slot it fired for), so a restart knows what was missed."""
    last_run_id: str | None = None
    last_error: str | None = None
    """Why its last firing started no run (an invalid input, a workflow that cannot run), for `triggers list`."""


class PublicationRow(SQLModel, table=True):
    """The version of a workflow that triggers and the API run by default; saving new versions leaves it."""

    __tablename__ = "publication"

    workflow_id: str = Field(primary_key=True, foreign_key="workflow.id", ondelete="CASCADE")
    version: int
    published_at: float

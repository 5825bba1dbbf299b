"""The library's tables, as SQLModel classes: the one declaration of every table and column.

The schema on disk is created and changed only by ``flowdesk.store.migrations`` (frozen DDL per
schema version, as a migration must be); a test replays them and checks the result against
these classes (names, types, nullability, keys), and every open checks a library's tables
against them (``flowdesk.store.schema``). Reads select these classes' columns and read rows by
name; the journal's statements are compiled from them once (``flowdesk.store.statements``).

Values live in ``blob`` by content hash, one row per distinct value: a step's inputs and outputs
and a run's are small maps of port name to hash. A value passed down a chain of nodes (one
node's output is the next one's input), or the same document behind a thousand runs, is stored
once.
"""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from flowdesk.store.automation_tables import PublicationRow, TriggerRow
from flowdesk.store.insights_tables import INSIGHT_TABLES

STEP_KEY = ("run_id", "node_id", "iteration", "attempt", "segment")
"""A step's natural key: one row per node attempt, loop pass and run segment."""


class WorkflowRow(SQLModel, table=True):
    __tablename__ = "workflow"

    id: str = Field(primary_key=True)
    slug: str = Field(unique=True)
    name: str
    description: str = ""
    tags: str = "[]"
    """JSON array of strings."""
    status: str = "draft"
    """draft, active or archived."""
    current_version: int = 0
    created_at: float
    updated_at: float


class WorkflowVersionRow(SQLModel, table=True):
    __tablename__ = "workflow_version"
    __table_args__ = (UniqueConstraint("workflow_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", ondelete="CASCADE")
    version: int
    created_at: float
    author: str = ""
    summary: str = ""
    document_hash: str = Field(foreign_key="blob.hash")
    """The canonical file text (``dumps_workflow``), in ``blob``."""
    content_hash: str
    """Hash of the document with its ``version`` field left out: equal means nothing changed."""


class BlobRow(SQLModel, table=True):
    __tablename__ = "blob"

    hash: str = Field(primary_key=True)
    size: int
    data: str
    """JSON text."""


class RunColumns(SQLModel):
    """The run table's plain columns: declared once, for the table and for ``runs.RunInfo`` (what lists show).

    A column added here is in the table class, in every run the library reads and in ``flowdesk show
    --json``; the columns that hold JSON text are the table's own (below), decoded by the reader."""

    id: str = Field(primary_key=True)
    workflow_id: str | None = Field(default=None, foreign_key="workflow.id", ondelete="SET NULL")
    workflow_version: int | None = None
    workflow_name: str = ""
    document_hash: str | None = Field(default=None, foreign_key="blob.hash")
    source: str = ""
    """Where the workflow came from: 'library', a file path, or 'child' for a sub-workflow run."""
    kind: str = "run"
    """run, rerun or child."""
    parent_run_id: str | None = Field(default=None, foreign_key="run.id", ondelete="CASCADE")
    parent_node_id: str | None = None
    status: str = "pending"
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    node_count: int = 0
    idempotency_key: str | None = None
    owner: str | None = None
    """The process that runs it (see ``flowdesk.store.owners``); a dead owner means interrupted."""
    segment: int = 0
    """How many times the run was continued (resume, approval after a restart)."""
    restored_nodes: int = 0
    """Node results (one per node and loop pass) reused, not run again, when the run was last continued."""


class RunRow(RunColumns, table=True):
    __tablename__ = "run"
    __table_args__ = (
        Index("run_idempotency", "idempotency_key", unique=True, sqlite_where=text("idempotency_key IS NOT NULL")),
        Index("run_by_workflow", "workflow_id", "created_at"),
        Index("run_by_parent", "parent_run_id"),
        Index("run_by_created", "created_at"),
        # schema 5, for the insights (insights_tables.py): runs by when they ended, and the live ones
        Index("run_by_finished", "finished_at"),
        Index("run_live", "status", sqlite_where=text("status IN ('pending', 'running', 'paused', 'waiting')")),
    )

    inputs: str | None = None
    """JSON object: input name -> hash of its value in ``blob``."""
    outputs: str | None = None
    """JSON object: output name -> hash of its value in ``blob``."""
    error: str | None = None
    """JSON object: message, error_class, node_id, exception."""
    node_counts: str = "{}"
    """JSON object: how many nodes ended in each status."""
    options: str = "{}"
    """JSON object: how the run was started (use_pins, files_root, decisions), for resume."""


class StepColumns(SQLModel):
    """The step table's plain columns: declared once, for the table, ``runs.StepInfo`` and the recorder's rows."""

    run_id: str = Field(foreign_key="run.id", ondelete="CASCADE")
    node_id: str
    iteration: int = 0
    attempt: int = 0
    segment: int = 0
    status: str
    source: str = "run"
    """run, pinned or restored (a result reused from an earlier run)."""
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class StepRow(StepColumns, table=True):
    __tablename__ = "step"
    __table_args__ = (UniqueConstraint(*STEP_KEY),)

    id: int | None = Field(default=None, primary_key=True)
    inputs: str | None = None
    """JSON object: port -> hash of its value in ``blob`` (one blob per distinct value, shared)."""
    outputs: str | None = None
    error: str | None = None
    """JSON object: message, error_class, node_id, exception (or the reason a node was skipped)."""


class LogRow(SQLModel, table=True):
    __tablename__ = "log"
    __table_args__ = (Index("log_by_run", "run_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", ondelete="CASCADE")
    node_id: str | None = None
    iteration: int = 0
    ts: float
    level: str
    kind: str
    """The event type it came from (node_log, node_retrying, run_paused, ...)."""
    message: str


# ---------------------------------------------------------------- added for the run read model (schema 3)
class RunEventRow(SQLModel, table=True):
    """The run's events, one row per journal commit: reopening a run folds them as a live view does."""

    __tablename__ = "run_event"

    run_id: str = Field(foreign_key="run.id", ondelete="CASCADE", primary_key=True)
    """The top-level run; its sub-runs' events are in its rows."""
    seq: int = Field(primary_key=True)
    data: bytes
    """A JSON array of events (``flowdesk.engine.events.journal_adapter``); values by hash (see the recorder)."""


class QueueEntryRow(SQLModel, table=True):
    """A run given to the service's queue (``flowdesk.store.queue``): what is still to be done with it."""

    __tablename__ = "queue_entry"
    __table_args__ = (Index("queue_entry_by_state", "state", "submitted_at"),)

    run_id: str = Field(primary_key=True, foreign_key="run.id", ondelete="CASCADE")
    action: str = "start"
    """start (a new run) or resume (continue it, finished nodes kept)."""
    state: str = "queued"
    """queued (waiting for a slot), running (a service runs it), done."""
    trigger: str | None = None
    """What submitted it: 'api', or a trigger's id."""
    submitted_at: float
    dismissed: int = 0
    """1 once a person has dealt with its failure in the inbox."""


TABLES: tuple[type[SQLModel], ...] = (
    *(BlobRow, WorkflowRow, WorkflowVersionRow, RunRow, StepRow, LogRow, RunEventRow),
    *(TriggerRow, PublicationRow),  # schema 4: triggers and the lifecycle (automation_tables.py)
    *INSIGHT_TABLES,  # schema 5: the insights' roll-ups (insights_tables.py)
    QueueEntryRow,  # schema 6: the service's run queue and inbox
)


def declared_columns() -> dict[str, tuple[str, ...]]:
    """Each table's name and column names, as the classes above declare them."""
    return {cls.__table__.name: tuple(c.name for c in cls.__table__.columns) for cls in TABLES}  # type: ignore[attr-defined]

"""Schema versions of the library, and the upgrade from any older one to the current.

Each schema version is frozen DDL, applied in order inside one transaction together with
``PRAGMA user_version``: SQLite's DDL is transactional, so an upgrade either happens completely
or not at all. Before upgrading an existing library a backup copy is written beside it, so even
a bug in a migration cannot take a user's work with it.

Why not Alembic: its strengths (autogenerate, many databases, offline SQL scripts) do not apply
to one embedded SQLite file the app upgrades itself; this chain is the same mechanism
(ordered, versioned, transactional, tested from an old schema up) without a config file and a
template engine at start-up.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from flowdesk.store.insights_tables import INSIGHTS_DDL

log = logging.getLogger(__name__)

APPLICATION_ID = 0x466C6F77
"""'Flow': written into the SQLite header, so a flowdesk library is told apart from other files."""


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    statements: tuple[str, ...]


_V1 = (
    """CREATE TABLE blob (
        hash TEXT PRIMARY KEY NOT NULL,
        size INTEGER NOT NULL,
        data TEXT NOT NULL
    )""",
    """CREATE TABLE workflow (
        id TEXT PRIMARY KEY NOT NULL,
        slug TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'draft',
        current_version INTEGER NOT NULL DEFAULT 0,
        created_at FLOAT NOT NULL,
        updated_at FLOAT NOT NULL
    )""",
    """CREATE TABLE workflow_version (
        id INTEGER PRIMARY KEY,
        workflow_id TEXT NOT NULL REFERENCES workflow(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        created_at FLOAT NOT NULL,
        author TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        document_hash TEXT NOT NULL REFERENCES blob(hash),
        content_hash TEXT NOT NULL,
        UNIQUE (workflow_id, version)
    )""",
    """CREATE TABLE run (
        id TEXT PRIMARY KEY NOT NULL,
        workflow_id TEXT REFERENCES workflow(id) ON DELETE SET NULL,
        workflow_version INTEGER,
        workflow_name TEXT NOT NULL DEFAULT '',
        document_hash TEXT REFERENCES blob(hash),
        source TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'run',
        parent_run_id TEXT REFERENCES run(id) ON DELETE CASCADE,
        parent_node_id TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        inputs TEXT,
        outputs TEXT,
        error TEXT,
        created_at FLOAT NOT NULL,
        started_at FLOAT,
        finished_at FLOAT,
        duration_s FLOAT NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd FLOAT NOT NULL DEFAULT 0,
        node_count INTEGER NOT NULL DEFAULT 0,
        node_counts TEXT NOT NULL DEFAULT '{}',
        idempotency_key TEXT,
        owner TEXT,
        segment INTEGER NOT NULL DEFAULT 0,
        restored_nodes INTEGER NOT NULL DEFAULT 0,
        options TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE UNIQUE INDEX run_idempotency ON run (idempotency_key) WHERE idempotency_key IS NOT NULL",
    "CREATE INDEX run_by_workflow ON run (workflow_id, created_at)",
    "CREATE INDEX run_by_parent ON run (parent_run_id)",
    """CREATE TABLE step (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
        node_id TEXT NOT NULL,
        iteration INTEGER NOT NULL DEFAULT 0,
        attempt INTEGER NOT NULL DEFAULT 0,
        segment INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'run',
        inputs TEXT,
        outputs TEXT,
        error TEXT,
        started_at FLOAT,
        finished_at FLOAT,
        duration_s FLOAT NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd FLOAT NOT NULL DEFAULT 0,
        UNIQUE (run_id, node_id, iteration, attempt, segment)
    )""",
)

_V2 = (
    """CREATE TABLE log (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
        node_id TEXT,
        iteration INTEGER NOT NULL DEFAULT 0,
        ts FLOAT NOT NULL,
        level TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL
    )""",
    "CREATE INDEX log_by_run ON log (run_id, id)",
    "CREATE INDEX run_by_created ON run (created_at)",
)

# The run's events themselves, for the read model (flowdesk.engine.readmodel): reopening a run replays
# them through the same fold as the live view. One row per journal commit, keyed by the top-level run.
_V3 = (
    """CREATE TABLE run_event (
        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (run_id, seq)
    )""",
)

# Triggers (schedules, webhooks, folders, after another workflow) and the published version of a workflow.
_V4 = (
    """CREATE TABLE trigger (
        id TEXT PRIMARY KEY NOT NULL,
        workflow_id TEXT NOT NULL REFERENCES workflow(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        config TEXT NOT NULL DEFAULT '{}',
        paused BOOLEAN NOT NULL DEFAULT 0,
        created_at FLOAT NOT NULL,
        last_fired_at FLOAT,
        last_run_id TEXT,
        last_error TEXT
    )""",
    "CREATE INDEX trigger_by_workflow ON trigger (workflow_id)",
    """CREATE TABLE publication (
        workflow_id TEXT PRIMARY KEY NOT NULL REFERENCES workflow(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        published_at FLOAT NOT NULL
    )""",
)

# The run queue of `flowdesk serve` (flowdesk.store.queue): which runs the service was given, what it
# must still do with each (start it, or resume it after a kill), and which failures a person has seen.
_V6 = (
    """CREATE TABLE queue_entry (
        run_id TEXT PRIMARY KEY NOT NULL REFERENCES run(id) ON DELETE CASCADE,
        action TEXT NOT NULL DEFAULT 'start',
        state TEXT NOT NULL DEFAULT 'queued',
        trigger TEXT,
        submitted_at FLOAT NOT NULL,
        dismissed INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX queue_entry_by_state ON queue_entry (state, submitted_at)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "workflows, versions, runs, steps and values by hash", _V1),
    Migration(2, "kept run events (log) and the index that lists runs newest first", _V2),
    Migration(3, "the run's events, batch by batch, replayed to reopen a run", _V3),
    Migration(4, "triggers and the published version of each workflow", _V4),
    Migration(5, "insights: roll-ups of finished runs per workflow and day", INSIGHTS_DDL),
    Migration(6, "the service's run queue and inbox", _V6),
)
LATEST = MIGRATIONS[-1].version


def upgrade(conn: sqlite3.Connection, current: int, target: int = LATEST) -> list[int]:
    """Apply the migrations after ``current`` up to ``target`` in one transaction; returns those applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so this function owns the
    transaction. On any error everything is rolled back and the error is raised.
    """
    pending = [m for m in MIGRATIONS if current < m.version <= target]
    if not pending:
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for migration in pending:
            for statement in migration.statements:
                conn.execute(statement)
            log.info("library schema upgraded to %d: %s", migration.version, migration.summary)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {pending[-1].version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return [m.version for m in pending]


def backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the library beside itself before an upgrade (SQLite's online backup: consistent, WAL included)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.schema{version}-{stamp}.bak")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.schema{version}-{stamp}-{n}.bak")
    with sqlite3.connect(target) as copy:
        conn.backup(copy)
    copy.close()
    return target

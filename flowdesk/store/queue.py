"""The service's run queue as the library keeps it: what `flowdesk serve` was given and must still do.

A run given to the service gets a ``run`` row at once (status ``queued``, so every list shows it
waiting its turn) and a ``queue_entry`` saying what to do with it: start it, or resume it. The
entry outlives the service: a service killed mid-run finds, when it starts again, the runs it was
running (now ``interrupted``) and those still waiting, and takes them up again; finished nodes
are not run twice because a resume reuses the recorded steps (``store/running.py``).

The inbox is the dead-letter list: runs of the queue that failed or were interrupted and that no
one has dealt with yet, and every run waiting for an approval, across all workflows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flowdesk.engine.events import ErrorInfo, RunFinished, journal_adapter
from flowdesk.store.database import Database
from flowdesk.store.recorder import error_json
from flowdesk.store.runs import RunInfo, RunJournalReader

QUEUED, RUNNING, DONE = "queued", "running", "done"
START, RESUME = "start", "resume"
INBOX_STATUSES = ("failed", "interrupted")
"""Statuses of a queued run that put it in the inbox (a run waiting for an approval is always there)."""


@dataclass(frozen=True)
class QueueEntry:
    run_id: str
    action: str
    state: str
    trigger: str | None
    submitted_at: float


@dataclass(frozen=True)
class InboxItem:
    run: RunInfo
    trigger: str | None
    """'api', a trigger's id, or None for a run started in the app or a foreground CLI."""


class QueueStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.runs = RunJournalReader(db)

    def add(self, run_id: str, *, action: str = START, trigger: str | None = None) -> None:
        """Give the run to the queue (again: a retry or resume of a run it had before replaces the entry)."""
        with self.db.write() as conn:
            conn.exec_driver_sql(
                "INSERT INTO queue_entry (run_id, action, state, trigger, submitted_at, dismissed)"
                " VALUES (?, ?, 'queued', ?, ?, 0) ON CONFLICT (run_id) DO UPDATE SET action = excluded.action,"
                " state = 'queued', submitted_at = excluded.submitted_at, dismissed = 0,"
                " trigger = coalesce(excluded.trigger, queue_entry.trigger)",
                (run_id, action, trigger, time.time()),
            )

    def set_state(self, run_id: str, state: str) -> None:
        with self.db.write() as conn:
            conn.exec_driver_sql("UPDATE queue_entry SET state = ? WHERE run_id = ?", (state, run_id))

    def get(self, run_id: str) -> QueueEntry | None:
        with self.db.read() as conn:
            row = conn.exec_driver_sql(
                "SELECT run_id, action, state, trigger, submitted_at FROM queue_entry WHERE run_id = ?", (run_id,)
            ).first()
        return QueueEntry(*row) if row else None

    def unfinished(self) -> list[QueueEntry]:
        """Entries a starting service must take up, oldest first: waiting ones, and those a killed service ran.

        A 'running' entry whose run is no longer live was cut off (its run is ``interrupted`` once the
        library is opened): it comes back as a resume."""
        with self.db.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT q.run_id, q.action, q.state, q.trigger, q.submitted_at, r.status FROM queue_entry q"
                " JOIN run r ON r.id = q.run_id WHERE q.state != 'done' ORDER BY q.submitted_at, q.rowid"
            ).all()
        out: list[QueueEntry] = []
        for run_id, action, state, trigger, submitted_at, status in rows:
            todo = action
            if state == RUNNING:
                if status != "interrupted":
                    continue  # still live in another service, or ended without the entry being closed
                todo = RESUME
            elif action == START and status != QUEUED:
                continue  # started by someone else meanwhile
            out.append(QueueEntry(run_id, todo, QUEUED, trigger, submitted_at))
        return out

    def inbox(self, *, limit: int = 200) -> list[InboxItem]:
        """Failed and interrupted queue runs nobody has dealt with, and runs waiting for an approval; newest first."""
        marks = ",".join("?" * len(INBOX_STATUSES))
        with self.db.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT r.id, q.trigger FROM run r LEFT JOIN queue_entry q ON q.run_id = r.id"
                f" WHERE r.kind != 'child' AND (r.status = 'waiting' OR (q.dismissed = 0 AND q.state = 'done'"
                f" AND r.status IN ({marks}))) ORDER BY r.created_at DESC LIMIT ?",
                (*INBOX_STATUSES, int(limit)),
            ).all()
        return [InboxItem(self.runs.get(run_id), trigger) for run_id, trigger in rows]

    def dismiss(self, run_id: str) -> bool:
        """Take a failed run out of the inbox (it stays in the library); False if it was not there."""
        with self.db.write() as conn:
            changed = conn.exec_driver_sql("UPDATE queue_entry SET dismissed = 1 WHERE run_id = ?", (run_id,))
        return bool(changed.rowcount)

    def repair(self) -> int:
        """Give an entry to every queued run without one (a service killed between recording a run and
        queueing it); returns how many."""
        with self.db.write() as conn:
            added = conn.exec_driver_sql(
                "INSERT INTO queue_entry (run_id, action, state, trigger, submitted_at, dismissed)"
                " SELECT id, 'start', 'queued', NULL, created_at, 0 FROM run"
                " WHERE status = 'queued' AND id NOT IN (SELECT run_id FROM queue_entry)"
            )
        return int(added.rowcount or 0)

    def cancel_queued(self, run_id: str) -> bool:
        """End a run that never started as cancelled, in its row and its journal; False if it was not queued."""
        now = time.time()
        with self.db.write() as conn:
            changed = conn.exec_driver_sql(
                "UPDATE run SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'", (now, run_id)
            )
            if not changed.rowcount:
                return False
            conn.exec_driver_sql("UPDATE queue_entry SET state = 'done', dismissed = 1 WHERE run_id = ?", (run_id,))
            conn.exec_driver_sql(
                "INSERT INTO log (run_id, node_id, iteration, ts, level, kind, message) VALUES"
                " (?, NULL, 0, ?, 'info', 'run_cancelled', 'cancelled before it started')",
                (run_id, now),
            )
            journal_end(
                conn,
                run_id,
                now,
                "cancelled",
                ErrorInfo(message="cancelled before it started", error_class="cancelled"),
            )
        return True

    def fail_queued(self, run_id: str, message: str) -> None:
        """A queued run that cannot start (its document no longer runs here): failed, with why; into the inbox."""
        now = time.time()
        error = ErrorInfo(message=message, error_class="invalid")
        with self.db.write() as conn:
            conn.exec_driver_sql(
                "UPDATE run SET status = 'failed', finished_at = ?, error = ? WHERE id = ?"
                " AND status IN ('queued', 'pending')",
                (now, error_json(error), run_id),
            )
            conn.exec_driver_sql("UPDATE queue_entry SET state = 'done' WHERE run_id = ?", (run_id,))
            journal_end(conn, run_id, now, "failed", error)


def journal_end(conn: Any, run_id: str, ts: float, status: str, error: ErrorInfo) -> None:
    """The run's end in its journal, for a run that ended without the engine (``conn``: SQLAlchemy)."""
    seq = conn.exec_driver_sql("SELECT coalesce(max(seq) + 1, 0) FROM run_event WHERE run_id = ?", (run_id,)).scalar()
    event = RunFinished(run_id=run_id, ts=ts, status=status, error=error)  # type: ignore[arg-type]
    conn.exec_driver_sql(
        "INSERT INTO run_event (run_id, seq, data) VALUES (?, ?, ?)",
        (run_id, seq, journal_adapter().dump_json([event])),
    )

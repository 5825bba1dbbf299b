"""The library as one object: the database, the workflow library, the run journal, and crash recovery.

``open_store`` is what the app and the CLI call. Opening recovers from crashes: runs left live
by a process that no longer exists become ``interrupted`` (their unfinished steps too), ready to
be resumed.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from sqlalchemy import insert, select, update

from flowdesk.store.database import Database, LibraryError
from flowdesk.store.location import library_path
from flowdesk.store.owners import Owner, owner_is_alive, owners_folder
from flowdesk.store.recorder import journal_interruption
from flowdesk.store.runs import LIVE_STATUSES, LOG, RUN, STEP, RunJournalReader
from flowdesk.store.workflows import WorkflowLibrary

log = logging.getLogger(__name__)


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.workflows = WorkflowLibrary(db)
        self.runs = RunJournalReader(db)
        self._owner: Owner | None = None

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def owner(self) -> Owner:
        """This process as the owner of the runs it starts (made on first use)."""
        if self._owner is None:
            self._owner = Owner(owners_folder(self.db.path))
        return self._owner

    def owner_alive(self, token: str | None) -> bool:
        if self._owner is not None and token == self._owner.token:
            return True
        return owner_is_alive(owners_folder(self.db.path), token)

    def recover(self) -> list[str]:
        """Mark runs whose process died as interrupted; returns their ids."""
        with self.db.read() as conn:
            live = conn.execute(select(RUN.c.id, RUN.c.owner).where(RUN.c.status.in_(LIVE_STATUSES))).all()
        dead = [row.id for row in live if not self.owner_alive(row.owner)]
        if not dead:
            return []
        now = time.time()
        try:
            self._mark_interrupted(dead, now)
        except LibraryError:
            if os.access(self.db.path, os.W_OK):
                raise
            # A read-only library (read-only media, an immutable file) still opens, so the work in
            # it can be read and exported; its dead runs are marked the next time it can be written.
            log.warning(
                "the library %s is read-only: %d run(s) of stopped processes still show as live",
                self.db.path,
                len(dead),
            )
            return []
        log.warning("marked %d run(s) interrupted: %s", len(dead), ", ".join(dead))
        return dead

    def _mark_interrupted(self, dead: list[str], now: float) -> None:
        with self.db.write() as conn:
            for run_id in dead:
                conn.execute(
                    update(RUN)
                    .where(RUN.c.id == run_id, RUN.c.status.in_(LIVE_STATUSES))
                    .values(status="interrupted", finished_at=now)
                )
                conn.execute(
                    update(STEP)
                    .where(STEP.c.run_id == run_id, STEP.c.status == "running")
                    .values(status="interrupted", finished_at=now)
                )
                conn.execute(
                    insert(LOG).values(
                        run_id=run_id, ts=now, level="warning", kind="run_interrupted",
                        message="interrupted: the process running it stopped",
                    )
                )  # fmt: skip
                journal_interruption(conn, run_id, now)  # the run's read model (its events) says so too

    def close(self) -> None:
        if self._owner is not None:
            self._owner.release()
            self._owner = None
        self.db.close()


def open_store(db: str | Path | None = None, profile: str | None = None, *, recover: bool = True) -> Store:
    """Open (creating or upgrading as needed) the library; raises LibraryError with a clear message."""
    path = Path(db) if isinstance(db, Path) else library_path(db, profile)
    store = Store(Database(path))
    if recover:
        store.recover()
    return store

"""Which Dask worker ran each map item or sub-workflow call of a run, for the Run data tab.

The journal records it on the child's ``run_started`` event (docs/architecture.md §3.8), among the
events of the run it belongs to; reading those means reading the whole run's journal, so it is done
when a person looks at an item page, remembered per run, and read again at most every few seconds
while the run may still be starting children (a finished run is read once).
"""

from __future__ import annotations

import logging
import time

from flowdesk.store.database import LibraryError
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError

log = logging.getLogger(__name__)

FINISHED = frozenset({"succeeded", "failed", "cancelled", "interrupted", "waiting"})
REREAD_S = 2.0


class WorkerNames:
    """Child run id -> the address of the worker that ran it, per shown run."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._known: dict[str, dict[str, str]] = {}
        self._read_at: dict[str, float] = {}
        self._complete: set[str] = set()

    def worker(self, run_id: str, child_id: str) -> str | None:
        """The worker that ran ``child_id`` (a child of ``run_id``); None when it ran here (or not yet)."""
        known = self._known.get(run_id, {})
        if child_id in known or run_id in self._complete:
            return known.get(child_id)
        if time.monotonic() - self._read_at.get(run_id, -REREAD_S) < REREAD_S:
            return None
        self._read(run_id)
        return self._known.get(run_id, {}).get(child_id)

    def _read(self, run_id: str) -> None:
        try:
            finished = self.store.runs.get(run_id).status in FINISHED
            events = self.store.runs.events(run_id)
        except (NotFoundError, LibraryError) as exc:
            log.info("no journal for run %s: %s", run_id, exc)
            return
        self._known[run_id] = {
            e.run_id: e.worker for e in events if e.type == "run_started" and getattr(e, "worker", None)
        }
        self._read_at[run_id] = time.monotonic()
        if finished:
            self._complete.add(run_id)

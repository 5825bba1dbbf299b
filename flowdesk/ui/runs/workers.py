"""Which Dask worker ran each map item or sub-workflow call of a run, and each attempt of its
``remote: true`` nodes, for the Run data tab.

The journal records it on the child's ``run_started`` event (docs/architecture.md §3.8) and on the
event that ends a remote attempt, among the events of the run they belong to; reading those means
reading the whole run's journal, so it is done when a person looks at a page, remembered per run,
and read again at most every few seconds while the run goes on (a finished run is read once).
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
ATTEMPT_ENDS = frozenset({"node_succeeded", "node_failed", "node_retrying"})

Attempt = tuple[str, int, int]
"""(node id, iteration, attempt): one attempt of a node in a run."""


class WorkerNames:
    """Child run id, or a node's attempt, -> the address of the worker that ran it, per shown run."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._known: dict[str, dict[str | Attempt, str]] = {}
        self._read_at: dict[str, float] = {}
        self._complete: set[str] = set()

    def worker(self, run_id: str, child: str | Attempt) -> str | None:
        """The worker that ran ``child`` (a child run's id, or a node's attempt, in ``run_id``); None
        when it ran here (or not yet)."""
        known = self._known.get(run_id, {})
        if child in known or run_id in self._complete:
            return known.get(child)
        if time.monotonic() - self._read_at.get(run_id, -REREAD_S) < REREAD_S:
            return None
        self._read(run_id)
        return self._known.get(run_id, {}).get(child)

    def _read(self, run_id: str) -> None:
        try:
            finished = self.store.runs.get(run_id).status in FINISHED
            events = self.store.runs.events(run_id)
        except (NotFoundError, LibraryError) as exc:
            log.info("no journal for run %s: %s", run_id, exc)
            return
        known: dict[str | Attempt, str] = {}
        for e in events:
            worker = getattr(e, "worker", None)
            if not worker:
                continue
            if e.type == "run_started":
                known[e.run_id] = worker
            elif e.type in ATTEMPT_ENDS and e.run_id == run_id:
                known[(e.node_id, e.iteration, e.attempt)] = worker
        self._known[run_id] = known
        self._read_at[run_id] = time.monotonic()
        if finished:
            self._complete.add(run_id)

"""Following a run through its journal: the events any process recorded, from a place on, as they come.

The server-sent events of `flowdesk serve` and `flowdesk follow` read here, so a run started by
another process (the app, a foreground `flowdesk run`, another service) is followed the same way
as one of this process: the journal in the library is the one source. A place in the journal is
(batch ``seq``, index in the batch), written ``"seq:index"``: a client that lost its connection
names the last place it got (``Last-Event-ID``) and gets what came after, nothing twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowdesk.engine.events import journal_adapter
from flowdesk.store.database import Database
from flowdesk.store.runs import LIVE_STATUSES
from flowdesk.store.values import load_texts

_PLACE = re.compile(r"^(\d{1,12}):(\d{1,9})$")
OPEN_STATUSES = ("queued", *LIVE_STATUSES)
"""A run in one of these has more events to come."""


class PollPace:
    """How long a follower of another process's run waits before reading its journal again.

    Soon while events flow (``busy_s``: the next batch is likely there already); then longer at each
    read that finds nothing, up to ``quiet_s`` (a run between two nodes: its next event is seen within
    that); and once the run has been quiet for ``long_quiet_s``, up to ``idle_s`` (a run that waits on a
    slow model or an approval costs two reads a second, not ten or fifty)."""

    def __init__(
        self, busy_s: float = 0.02, quiet_s: float = 0.1, idle_s: float = 0.5, long_quiet_s: float = 2.0
    ) -> None:
        self.busy_s = busy_s
        self.quiet_s = quiet_s
        self.idle_s = idle_s
        self.long_quiet_s = long_quiet_s
        self.wait = busy_s
        self.quiet_for = 0.0

    def next(self, got_events: bool) -> float:
        """The wait after a read that found events (or not)."""
        if got_events:
            self.wait, self.quiet_for = self.busy_s, 0.0
            return self.wait
        self.quiet_for += self.wait
        longest = self.idle_s if self.quiet_for >= self.long_quiet_s else self.quiet_s
        self.wait = min(longest, self.wait * 2)
        return self.wait


class BadPlaceError(ValueError):
    """A ``Last-Event-ID`` that is not a place this journal writes."""


@dataclass(frozen=True, order=True)
class Place:
    seq: int
    index: int

    def __str__(self) -> str:
        return f"{self.seq}:{self.index}"

    @staticmethod
    def parse(text: str | None) -> Place | None:
        if not text:
            return None
        match = _PLACE.match(text.strip())
        if match is None:
            raise BadPlaceError(f"Last-Event-ID {text!r} is not a place in a run's events (expected 'SEQ:INDEX')")
        return Place(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Batch:
    events: list[tuple[Place, Any]]
    """The events after the place asked for, each with its own place."""
    ended: bool
    """The run has ended and nothing more will come (its last event is its end, and its row says so)."""
    status: str
    more: bool = False
    """The read stopped at its limit: more is recorded already (read again at once)."""


class JournalFollower:
    """Reads one run's journal from a place on; call ``read`` again for what came since."""

    def __init__(self, db: Database, run_id: str, after: Place | None = None) -> None:
        self.db = db
        self.run_id = run_id
        self.after = after
        self._last_was_end = False
        self._seen_any = after is not None

    def read(self, *, limit: int = 500) -> Batch:
        """The events recorded after the last place read (from at most ``limit`` batches), values put back."""
        return self._read(limit, journal_adapter().validate_json, _put_values_back)

    def read_json(self, *, limit: int = 500) -> Batch:
        """As ``read``, each event as the JSON object the journal holds (``{"type": ...}``): what a stream
        sends on, without building the event objects only to write them out again."""
        return self._read(limit, json.loads, _put_values_back_json)

    def _read(
        self, limit: int, decode: Callable[[Any], list[Any]], put_back: Callable[[Any, list[Any]], None]
    ) -> Batch:
        start = -1 if self.after is None else self.after.seq
        with self.db.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT seq, data FROM run_event WHERE run_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
                (self.run_id, start, int(limit)),
            ).all()
            status = conn.exec_driver_sql("SELECT status FROM run WHERE id = ?", (self.run_id,)).scalar()
            out: list[tuple[Place, Any]] = []
            for seq, data in rows:
                for index, event in enumerate(decode(data)):
                    place = Place(seq, index)
                    if self.after is None or place > self.after:
                        out.append((place, event))
            put_back(conn, [e for _, e in out])
        if out:
            self._seen_any = True
            self.after = out[-1][0]
            last = out[-1][1]
            kind, run_id = (last["type"], last["run_id"]) if isinstance(last, dict) else (last.type, last.run_id)
            self._last_was_end = kind == "run_finished" and run_id == self.run_id
        # (a run that ended before it started, a queued run cancelled, has no events at all)
        ended = len(rows) < limit and status not in OPEN_STATUSES and (self._last_was_end or not self._seen_any)
        return Batch(out, ended, str(status), more=len(rows) >= limit)

    def passed(self, place: Place, kind: str, run_id: str) -> None:
        """The follower was given the event at ``place`` elsewhere (live, ``live_feed.py``): read on after it."""
        self.after = place
        self._seen_any = True
        self._last_was_end = kind == "run_finished" and run_id == self.run_id


def _put_values_back(conn: Any, events: list[Any]) -> None:
    results = [e for e in events if e.type == "node_succeeded" and e.outputs]
    if not results:
        return
    texts = load_texts(conn, (h for e in results for h in e.outputs.values()))
    for event in results:
        event.outputs = {name: json.loads(texts[h]) if h in texts else None for name, h in event.outputs.items()}


def _put_values_back_json(conn: Any, events: list[dict[str, Any]]) -> None:
    results = [e for e in events if e.get("type") == "node_succeeded" and e.get("outputs")]
    if not results:
        return
    texts = load_texts(conn, (h for e in results for h in e["outputs"].values()))
    for event in results:
        event["outputs"] = {name: json.loads(texts[h]) if h in texts else None for name, h in event["outputs"].items()}

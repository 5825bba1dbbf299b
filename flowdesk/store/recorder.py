"""The recorder: journals a run's events into the library (the engine's ``RunJournal``).

``record`` only appends to a list, so the executor's hot path stays cheap. ``commit`` turns all
events recorded since the last commit into rows in one write transaction: the executor awaits
it before a node whose inputs just finished may start, so a finished result is on disk before
anything depends on it, and results that finish together share one commit.

One row per node attempt and iteration (``step``), upserted by its natural key, so a node that
starts and finishes between two commits costs one insert: what a resume reuses. Values go to
``blob`` by hash. The events themselves go to ``run_event``, one row per commit, for the read
model (``flowdesk.engine.readmodel``): reopening a run replays them through the live view's fold.
There a result's outputs are kept as their hashes (the reader puts the values back), the inputs
of a node and of a run are left out (the step and run rows have them) and an LLM's streamed text
is one event per node pass and commit. ``log`` rows keep the lines worth keeping, for
`flowdesk show --json`.

A run that waits on a slow node commits nothing until that node ends; its events still reach the
library once the run has been quiet for ``TRICKLE_S`` (a timer flushes them), so `flowdesk show` of a
live run is current. A busy run is not interrupted for that (its commits come soon enough, or its end
does), unless its oldest unwritten event is ``TRICKLE_MAX_S`` old: a flush blocks the event loop, and
the window shares that loop. A run someone follows live (``live_feed.py``: the service's event streams)
is flushed when its oldest unwritten event is ``FOLLOWED_TRICKLE_MAX_S`` old, so they see it as it goes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from flowdesk.engine.describe import describe, level_of
from flowdesk.engine.events import ErrorInfo, RunFinished, Usage, journal_adapter, journal_json
from flowdesk.store.database import Database, LibraryError
from flowdesk.store.insights_rollup import ENDED, roll_up_in_transaction
from flowdesk.store.live_feed import LiveBatch, LiveFeed, batch_json
from flowdesk.store.statements import column_defaults, compiled, fetch_one, insert_columns, table_of, upsert
from flowdesk.store.tables import STEP_KEY, LogRow, RunEventRow, RunRow, StepRow
from flowdesk.store.values import BlobBatch, ValueMemo, storable_text, to_json

log = logging.getLogger(__name__)

RUN = table_of(RunRow)
EVENT = table_of(RunEventRow)
_UPSERT_STEP = upsert(StepRow, STEP_KEY, keep_if_null=frozenset({"inputs"}), set_once=frozenset({"started_at"}))
_NEW_STEP = column_defaults(StepRow)
"""A step row as the table class declares it (every column but ``id``), before a node's events fill it."""
_DURABLE_AT_ONCE = frozenset({"run_waiting"})
_MAX_REMEMBERED = 100_000
"""Hashes of values this recorder wrote that it remembers, to skip writing them again."""
_INSERT_EVENTS = insert_columns(RunEventRow, ("run_id", "seq", "data"))
_NEXT_SEQ = compiled(
    select(func.coalesce(func.max(EVENT.c.seq) + 1, 0).label("seq")).where(EVENT.c.run_id == bindparam("run_id"))
)
TRICKLE_S = 0.2
"""How long a run must be quiet before the events it recorded since its last commit are written."""
TRICKLE_MAX_S = 5.0
"""The oldest an unwritten event may get while a run stays busy without committing."""
FOLLOWED_TRICKLE_MAX_S = TRICKLE_S
"""The same for a run someone follows live (the service's streams): they see its events within this."""
_INSERT_LOG = insert_columns(LogRow, ("run_id", "node_id", "iteration", "ts", "level", "kind", "message"))

# the run row's changes, one per run event (a few per run: not the hot path, but inside its transaction)
_RUN_OF = compiled(select(RUN.c.segment, RUN.c.kind).where(RUN.c.id == bindparam("id")))
_NEW_CHILD_RUN = compiled(
    insert(RUN).values(
        {
            **{name: bindparam(name) for name in ("id", "workflow_name", "parent_run_id", "parent_node_id", "inputs",
                                                  "created_at", "started_at", "node_count", "owner")},
            "source": "child", "kind": "child", "status": "running",
        }
    )
)  # fmt: skip
_RUN_STARTED = compiled(
    update(RUN)
    .where(RUN.c.id == bindparam("id"))
    .values(status="running", started_at=func.coalesce(RUN.c.started_at, bindparam("ts")), owner=bindparam("owner"),
            segment=bindparam("segment"), node_count=bindparam("node_count"), finished_at=None)
)  # fmt: skip
_RUN_PAUSED = compiled(
    update(RUN).where(RUN.c.id == bindparam("id"), RUN.c.status == "running").values(status="paused")
)
_RUN_RESUMED = compiled(
    update(RUN)
    .where(RUN.c.id == bindparam("id"), or_(RUN.c.status == "paused", RUN.c.status == "waiting"))
    .values(status="running")
)
_RUN_WAITING = compiled(update(RUN).where(RUN.c.id == bindparam("id")).values(status="waiting"))
_RUN_FINISHED = compiled(
    update(RUN)
    .where(RUN.c.id == bindparam("id"))
    .values(
        {
            **{name: bindparam(name) for name in ("status", "outputs", "error", "finished_at", "node_counts")},
            **{
                name: RUN.c[name] + bindparam(name)
                for name in ("duration_s", "input_tokens", "output_tokens", "cost_usd")
            },
        }
    )
)


def error_json(error: ErrorInfo | None) -> str | None:
    if error is None:
        return None
    return to_json(
        {
            "message": error.message,
            "error_class": error.error_class,
            "node_id": error.node_id,
            "exception": error.exception,
        }
    )


Step = dict[str, Any]
"""A step row being recorded: the step table's columns by name (``_NEW_STEP``), sent as they are."""


class RunRecorder:
    """One recorder per top-level run; it also journals that run's sub-workflow and map runs."""

    def __init__(
        self, db: Database, run_id: str, *, segment: int = 0, owner: str | None = None, live: LiveFeed | None = None
    ) -> None:
        self.db = db
        self.run_id = run_id
        self.owner = owner
        self.live = live
        """Where each committed batch goes too, when someone follows this run live (``live_feed.py``)."""
        self._written: LiveBatch | None = None
        self._segments: dict[str, int] = {run_id: segment}
        self._continuing = segment > 0
        self._events: list[Any] = []
        self._open: dict[tuple[str, str, int, int], Step] = {}
        self._retried_usage: dict[tuple[str, str, int], Usage] = {}
        self._stored: set[str] = set()
        self._memo = ValueMemo()
        self._handlers: dict[str, Any] = {
            name[4:]: getattr(self, name) for name in dir(self) if name.startswith("_on_")
        }  # event type -> handler; types without one (queued, progress, token deltas) are not kept
        self.commits = 0
        self._seq: int | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_seen = 0
        """Events buffered when the timer was set: more when it fires means the run is busy."""
        self._oldest = 0.0

    # ------------------------------------------------------------ RunJournal
    def record(self, event: Any) -> None:
        if self._continuing and getattr(event, "source", None) == "restored" and event.run_id == self.run_id:
            return  # a resume replaying its record (a result, a skip, a loop pass): the rows from before stand
        self._events.append(event)
        if self._timer is None:
            self._start_timer()
        if event.type in _DURABLE_AT_ONCE:
            # a waiting run may wait for days, with nothing else to commit: make the wait itself
            # durable, so a restart finds it waiting (and decidable) rather than interrupted
            try:
                self.flush()
            except LibraryError as exc:
                log.error("run %s: could not record that it waits: %s", self.run_id, exc)

    async def commit(self) -> None:
        self.flush()

    def _start_timer(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a test feeding events by hand): commits alone write
            return
        self._oldest, self._timer_seen = loop.time(), len(self._events)
        self._timer = loop.call_later(TRICKLE_S, self._trickle)

    def _trickle(self) -> None:
        self._timer = None
        if not self._events:
            return  # a commit wrote them
        loop = asyncio.get_running_loop()
        followed = self.live is not None and self.live.wants(self.run_id)
        oldest_allowed = FOLLOWED_TRICKLE_MAX_S if followed else TRICKLE_MAX_S
        if len(self._events) > self._timer_seen and loop.time() - self._oldest < oldest_allowed:
            self._timer_seen = len(self._events)  # still busy: look again later
            self._timer = loop.call_later(TRICKLE_S, self._trickle)
            return
        try:
            self.flush()
        except LibraryError as exc:  # the next commit tries again, and reports what it cannot write
            log.warning("run %s: events not recorded yet: %s", self.run_id, exc)

    # ------------------------------------------------------------ writing
    def flush(self) -> None:
        """Write everything recorded so far in one transaction."""
        if not self._events:
            return
        events, self._events = self._events, []
        self._timer_seen, self._oldest = 0, time.monotonic()  # (the loop's clock) for the timer, if one is set
        blobs = BlobBatch(self._stored, self._memo)
        dirty: dict[tuple[str, str, int, int], Step] = {}
        logs: list[dict[str, Any]] = []
        # On failure the batch is dropped, not retried: a full disk would refuse it again, and the
        # run's end (failed: the record could not be saved) is then small enough to get through.
        self._written = None
        self._write(events, blobs, dirty, logs)
        if self._written is not None and self.live is not None:
            batch, self._written = self._written, None
            self.live.publish(batch)  # committed: a follower that misses it live finds it in the journal
        if len(self._stored) > _MAX_REMEMBERED:
            self._stored.clear()
        self._stored.update(blobs.written)  # only once committed: a rolled-back value is not there
        for key, step in dirty.items():
            if step["status"] not in ("running", "waiting"):
                self._open.pop(key, None)
        self.commits += 1

    def _write(self, events: list[Any], blobs: BlobBatch, dirty: dict[Any, Step], logs: list[dict[str, Any]]) -> None:
        with self.db.raw_write() as raw:
            handlers = self._handlers
            for event in events:
                handler = handlers.get(event.type)
                if handler is not None:
                    handler(event, raw, blobs, dirty, logs)
            self._write_events(raw, events, blobs)
            blobs.flush(raw)
            if dirty:
                raw.executemany(_UPSERT_STEP, list(dirty.values()))
            if logs:
                raw.executemany(_INSERT_LOG, logs)
            for event in events:  # a run that ended is counted in the insights' roll-ups at once
                if event.type == "run_finished" and event.run_id == self.run_id and event.status in ENDED:
                    roll_up_in_transaction(raw, event.run_id)

    def _write_events(self, raw: Any, events: list[Any], blobs: BlobBatch) -> None:
        """The batch as one ``run_event`` row (see the module docstring for what is left out)."""
        if self._seq is None:
            self._seq = fetch_one(raw, _NEXT_SEQ, run_id=self.run_id)["seq"]  # type: ignore[index]
        lean: list[Any] = []
        followed = self.live is not None and self.live.wants(self.run_id)
        values: list[Any] = []  # per event of lean, a result's output values: for the live feed, if followed
        streams: dict[tuple[str, str, int], int] = {}
        for event in events:
            if event.type == "llm_delta":
                key = (event.run_id, event.node_id, event.iteration)
                at = streams.get(key)
                if at is None:
                    streams[key] = len(lean)
                    lean.append(event)
                    values.append(None)
                else:
                    lean[at] = replace(lean[at], text=lean[at].text + event.text)
            else:
                lean.append(_lean(event, blobs))
                values.append(event.outputs if followed and event.type == "node_succeeded" and event.outputs else None)
        if followed:
            row, data = batch_json(lean, values)
            self._written = LiveBatch(self.run_id, self._seq, lean, data)
        else:
            row = journal_json(lean)
        raw.execute(_INSERT_EVENTS, {"run_id": self.run_id, "seq": self._seq, "data": row})
        self._seq += 1

    # ------------------------------------------------------------ run events
    def _on_run_started(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        row = fetch_one(raw, _RUN_OF, id=e.run_id)
        if row is None:  # a sub-workflow or map item run: its row is made here
            raw.execute(
                _NEW_CHILD_RUN.sql,
                _NEW_CHILD_RUN.params(
                    id=e.run_id, workflow_name=e.workflow_name, parent_run_id=e.parent_run_id,
                    parent_node_id=e.parent_node_id, inputs=blobs.value_map(e.inputs), created_at=e.ts,
                    started_at=e.ts, node_count=e.node_count, owner=self.owner,
                ),
            )  # fmt: skip
            self._segments[e.run_id] = 0
            return
        segment = self._segments.get(e.run_id)
        if segment is None:  # a child run started again after its parent was continued
            segment = row["segment"] + 1
            self._segments[e.run_id] = segment
        raw.execute(
            _RUN_STARTED.sql,
            _RUN_STARTED.params(id=e.run_id, ts=e.ts, owner=self.owner, segment=segment, node_count=e.node_count),
        )

    def _on_run_paused(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        raw.execute(_RUN_PAUSED.sql, _RUN_PAUSED.params(id=e.run_id))
        logs.append(_kept(e, e.node_id, 0))

    def _on_run_resumed(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        raw.execute(_RUN_RESUMED.sql, _RUN_RESUMED.params(id=e.run_id))
        logs.append(_kept(e, None, 0))

    def _on_run_waiting(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        raw.execute(_RUN_WAITING.sql, _RUN_WAITING.params(id=e.run_id))
        logs.append(_kept(e, None, 0))

    def _on_run_finished(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        u = e.usage
        raw.execute(
            _RUN_FINISHED.sql,
            _RUN_FINISHED.params(
                id=e.run_id, status=e.status, outputs=blobs.value_map(e.outputs), error=error_json(e.error),
                finished_at=e.ts, duration_s=e.duration_s, input_tokens=u.input_tokens, output_tokens=u.output_tokens,
                cost_usd=u.cost_usd, node_counts=to_json(e.node_counts),
            ),
        )  # fmt: skip
        if e.error is not None:
            logs.append(_kept(e, e.error.node_id, 0))

    # ------------------------------------------------------------ node events
    def _step(self, e: Any, attempt: int, dirty: dict[Any, Step]) -> Step:
        key = (e.run_id, e.node_id, e.iteration, attempt)
        step = self._open.get(key)
        if step is None:
            step = _NEW_STEP.copy()
            step.update(run_id=e.run_id, node_id=e.node_id, iteration=e.iteration, attempt=attempt,
                        segment=self._segments.get(e.run_id, 0), status="running", started_at=e.ts)  # fmt: skip
            self._open[key] = step
        dirty[key] = step
        return step

    def _on_node_started(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        step = self._step(e, e.attempt, dirty)
        step["status"], step["started_at"], step["inputs"] = "running", e.ts, blobs.value_map(e.inputs)

    def _on_node_retrying(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        step = self._step(e, e.attempt, dirty)
        step["status"], step["error"], step["finished_at"] = "failed", error_json(e.error), e.ts
        step["duration_s"] = e.duration_s
        _set_usage(step, e.usage)
        key = (e.run_id, e.node_id, e.iteration)
        self._retried_usage[key] = self._retried_usage.get(key, Usage()) + e.usage
        logs.append(_kept(e, e.node_id, e.iteration))

    def _finish(self, e: Any, status: str, attempt: int, dirty: Any, usage: Usage) -> Step:
        step = self._step(e, attempt, dirty)
        step["status"], step["finished_at"] = status, e.ts
        earlier = self._retried_usage.pop((e.run_id, e.node_id, e.iteration), None)
        if earlier is not None:  # the event carries all attempts' usage; this row is the last attempt's
            usage = Usage(
                input_tokens=usage.input_tokens - earlier.input_tokens,
                output_tokens=usage.output_tokens - earlier.output_tokens,
                cost_usd=usage.cost_usd - earlier.cost_usd,
            )
        _set_usage(step, usage)
        return step

    def _on_node_succeeded(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        step = self._finish(e, "succeeded", e.attempt if e.source == "run" else 0, dirty, e.usage)
        step["outputs"], step["duration_s"], step["source"], step["error"] = (
            blobs.value_map(e.outputs), e.duration_s, e.source, None,
        )  # fmt: skip

    def _on_node_failed(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        step = self._finish(e, "failed", e.attempt, dirty, e.usage)
        step["error"], step["duration_s"] = error_json(e.error), e.duration_s
        logs.append(_kept(e, e.node_id, e.iteration))

    def _on_node_skipped(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        step = self._finish(e, "skipped", 0, dirty, Usage())
        step["source"] = e.source
        step["error"] = to_json({"message": e.reason, "error_class": "skipped"}) if e.reason else None

    def _on_node_waiting(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        step = self._step(e, self._latest_attempt(e), dirty)
        step["status"] = "waiting"
        logs.append(_kept(e, e.node_id, e.iteration))

    def _on_node_cancelled(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        step = self._finish(e, "cancelled", e.attempt, dirty, Usage())
        if e.reason:  # a branch that lost a race: why, for the run view and `flowdesk show`
            step["error"] = to_json({"message": e.reason, "error_class": "cancelled"})

    def _on_node_log(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        logs.append(_kept(e, e.node_id, e.iteration))

    def _on_loop_iterated(self, e: Any, raw: Any, blobs: BlobBatch, dirty: Any, logs: list[Any]) -> None:
        logs.append(_kept(e, e.node_id, e.iteration))

    def _latest_attempt(self, e: Any) -> int:
        attempts = [k[3] for k in self._open if k[:3] == (e.run_id, e.node_id, e.iteration)]
        return max(attempts, default=1)


def _set_usage(step: Step, usage: Usage) -> None:
    step["input_tokens"], step["output_tokens"], step["cost_usd"] = (
        usage.input_tokens, usage.output_tokens, usage.cost_usd,
    )  # fmt: skip


def journal_interruption(conn: Connection, run_id: str, ts: float) -> None:
    """A run whose process died ends in its journal as its row says: interrupted (``conn``: SQLAlchemy)."""
    top = run_id
    while True:  # a sub-run's events are in its top-level run's journal
        row = conn.execute(select(RUN.c.kind, RUN.c.parent_run_id).where(RUN.c.id == top)).first()
        if row is None or row.kind != "child" or row.parent_run_id is None:
            break
        top = row.parent_run_id
    seq = conn.execute(select(func.coalesce(func.max(EVENT.c.seq) + 1, 0)).where(EVENT.c.run_id == top)).scalar()
    error = ErrorInfo(message="the process running it stopped", error_class="interrupted")
    event = RunFinished(run_id=run_id, ts=ts, status="interrupted", error=error)
    conn.execute(insert(EVENT).values(run_id=top, seq=seq, data=journal_adapter().dump_json([event])))


def _kept(event: Any, node_id: str | None, iteration: int) -> dict[str, Any]:
    """A ``log`` row: the event in the words every display uses (``flowdesk.engine.describe``).

    A message may quote odd text (a lone surrogate from a response): kept, escaped."""
    return {
        "run_id": event.run_id, "node_id": node_id, "iteration": iteration, "ts": event.ts,
        "level": level_of(event), "kind": event.type, "message": storable_text(describe(event) or event.type),
    }  # fmt: skip


def _lean(event: Any, blobs: BlobBatch) -> Any:
    """The event as the journal keeps it: a result's outputs by hash, inputs left to the step and run rows."""
    kind = event.type
    if kind == "node_succeeded":
        return replace(event, outputs=blobs.value_hashes(event.outputs))
    if kind in ("node_started", "run_started") and event.inputs:
        return replace(event, inputs={})
    if kind == "run_finished" and event.outputs:
        return replace(event, outputs={})
    return event


def decode_error(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None

"""Counting finished runs into the insights roll-ups (``flowdesk.store.insights_tables``).

A run is counted once, when it first ends (succeeded, failed, cancelled, interrupted): the recorder
calls ``roll_up_in_transaction`` in the transaction that writes the run's end, and ``catch_up``
counts the runs that ended without it (runs found interrupted, runs recorded before the roll-ups
existed: the one-time backfill). ``catch_up`` works in batches, each its own transaction, and marks
each run it counted, so a backfill stopped half-way goes on where it stopped.

The figures of a run come from its ``step`` rows (one per node attempt and loop pass), its ``run``
row, the document it ran (models, concurrency limit) and its "reply was cut" log lines.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from flowdesk.store.insights_children import child_use
from flowdesk.store.insights_tables import duration_bucket

log = logging.getLogger(__name__)

ENDED = ("succeeded", "failed", "cancelled", "interrupted")
"""A run in one of these has ended for good (a waiting run goes on later)."""
DAY_S = 86_400
BATCH = 2_000
SLACK_S = DAY_S
"""How far before the watermark ``catch_up`` looks again for runs that ended out of order."""
TRUNCATED_LOG = "%the reply was cut at max_tokens%"
"""The LLM node's warning, as the log keeps it ("the reply was cut at max_tokens (1024); ..."; runs recorded
before the log dropped the level from its messages have "warning: " in front, matched too)."""
DEFAULT_MODEL = "offline:echo"
DEFAULT_CONCURRENCY = 8
_ENDED_SQL = ",".join(f"'{s}'" for s in ENDED)

_STEP_SQL = (
    "SELECT run_id, node_id, iteration, attempt, status, source, inputs, outputs, error, started_at, finished_at,"
    " duration_s, input_tokens, output_tokens, cost_usd FROM step WHERE run_id IN ({marks})"
)


def workflow_key(workflow_id: str | None, workflow_name: str) -> str:
    """The roll-ups' name for a run's workflow: its library id, or ``file:`` and its name."""
    return workflow_id if workflow_id else f"file:{workflow_name}"


def day_of(ts: float) -> int:
    """The UTC day (days since 1970-01-01) of a time."""
    return int(ts // DAY_S)


@dataclass(frozen=True)
class _Document:
    models: dict[str, str]
    """node id -> provider:model, for the nodes that call a model."""
    concurrency_limit: int
    workflows: dict[str, str] = field(default_factory=dict)
    """node id -> the workflow it runs (map and sub-workflow nodes): a library id or slug, or a file."""


@dataclass(slots=True)
class _Step:
    node_id: str
    iteration: int
    attempt: int
    status: str
    source: str
    inputs: str | None
    outputs: str | None
    error: str | None
    started_at: float | None
    finished_at: float | None
    duration_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass
class _Sums:
    """The batch's contributions, summed per roll-up key before they are written."""

    run_day: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    duration: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    model_day: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    node_day: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    error_day: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    node_io: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    hist: dict[tuple[Any, ...], int] = field(default_factory=lambda: defaultdict(int))


def _add(table: dict[tuple[Any, ...], list[Any]], key: tuple[Any, ...], values: Sequence[Any]) -> None:
    row = table.get(key)
    if row is None:
        table[key] = list(values)
    else:
        for i, v in enumerate(values):
            row[i] += v


def _short_hash(text: str) -> str:
    return blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


class Rollup:
    """Counts runs into the roll-ups through a raw sqlite3 connection, inside the caller's transaction."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self._documents: dict[str, _Document] = {}

    def add_runs(self, run_ids: Sequence[str]) -> list[str]:
        """Count these runs (those ended, top-level and not counted yet); returns the ids counted."""
        if not run_ids:
            return []
        marks = ",".join("?" * len(run_ids))
        runs = self.raw.execute(
            "SELECT id, workflow_id, workflow_name, document_hash, status, error, created_at, duration_s,"
            f" input_tokens, output_tokens, cost_usd FROM run WHERE id IN ({marks}) AND parent_run_id IS NULL"
            f" AND status IN ({_ENDED_SQL})"
            f" AND id NOT IN (SELECT run_id FROM insight_rolled WHERE run_id IN ({marks}))",
            (*run_ids, *run_ids),
        ).fetchall()
        if not runs:
            return []
        ids = [r[0] for r in runs]
        marks = ",".join("?" * len(ids))
        steps: dict[str, list[_Step]] = defaultdict(list)
        for row in self.raw.execute(_STEP_SQL.format(marks=marks), ids):
            steps[row[0]].append(_Step(*row[1:]))
        truncated: dict[tuple[str, str], int] = {}
        for run_id, node_id, n in self.raw.execute(
            f"SELECT run_id, node_id, count(*) FROM log WHERE run_id IN ({marks}) AND kind = 'node_log'"
            " AND message LIKE ? GROUP BY run_id, node_id",
            (*ids, TRUNCATED_LOG),
        ):
            truncated[(run_id, node_id or "")] = n
        sums = _Sums()
        for run in runs:
            self._add_run(sums, run, steps.get(run[0], []), truncated)
        self._add_children(sums, runs)
        self._write(sums, ids)
        return ids

    def _add_children(self, sums: _Sums, runs: list[Any]) -> None:
        """What the runs' map items and sub-workflows did counts for the runs' own workflows."""
        found = child_use(self.raw, {r[0]: self._document(r[3]) for r in runs}, read_document, TRUNCATED_LOG)
        for run in runs:
            use = found.get(run[0])
            if use is None:
                continue
            wf, day = workflow_key(run[1], run[2]), day_of(run[6])
            for model, values in use.models.items():
                _add(sums.model_day, (wf, day, model), values)
            for label, values in use.nodes.items():
                _add(sums.node_day, (wf, day, label), values)
            for (error_class, label), (count, cost, message) in use.retries.items():
                _add(sums.error_day, (wf, day, "retry", error_class, label), (count, cost, ""))
                sums.error_day[(wf, day, "retry", error_class, label)][2] = message

    # ------------------------------------------------------------ one run
    def _add_run(
        self, sums: _Sums, run: Sequence[Any], steps: list[_Step], truncated: dict[tuple[str, str], int]
    ) -> None:
        run_id, wf_id, wf_name, doc_hash, status, error, created_at, duration_s, in_tok, out_tok, cost = run
        wf, day = workflow_key(wf_id, wf_name), day_of(created_at)
        doc = self._document(doc_hash)
        worked = [s for s in steps if s.source == "run" and s.status not in ("skipped", "running", "waiting")]
        peak = _peak_concurrency(worked)
        _add(sums.run_day, (wf, day, status), (1, duration_s, in_tok, out_tok, cost, 0, 0))
        row = sums.run_day[(wf, day, status)]
        row[5], row[6] = max(row[5], peak), max(row[6], doc.concurrency_limit)
        _add(sums.duration, (wf, day, status, duration_bucket(duration_s)), (1, duration_s))
        if error:
            info = _error(error)
            _add(sums.error_day, (wf, day, "run", info[0], info[1]), (1, 0.0, ""))
            sums.error_day[(wf, day, "run", info[0], info[1])][2] = info[2]
        self._add_nodes(sums, wf, day, worked, doc, run_id, truncated)

    def _add_nodes(
        self, sums: _Sums, wf: str, day: int, worked: list[_Step], doc: _Document, run_id: str,
        truncated: dict[tuple[str, str], int],
    ) -> None:  # fmt: skip
        last: dict[tuple[str, int], int] = {}
        for s in worked:
            key = (s.node_id, s.iteration)
            last[key] = max(last.get(key, 0), s.attempt)
        critical = _critical_path(worked)
        critical_nodes = {s.node_id for s in worked if id(s) in critical}
        seen: set[str] = set()
        for s in worked:
            retried = s.status == "failed" and s.attempt < last[(s.node_id, s.iteration)]
            failed = s.status == "failed" and not retried
            took = s.duration_s or max(0.0, (s.finished_at or 0.0) - (s.started_at or 0.0))
            on_path = critical.get(id(s), 0.0)
            _add(
                sums.node_day,
                (wf, day, s.node_id),
                (0, 1, int(retried), int(failed), took, s.cost_usd, s.cost_usd if retried else 0.0, 0, on_path),
            )
            if s.node_id not in seen:
                seen.add(s.node_id)
                row = sums.node_day[(wf, day, s.node_id)]
                row[0] += 1
                row[7] += int(s.node_id in critical_nodes)
            sums.hist[(wf, s.node_id, duration_bucket(took))] += 1
            if retried:
                info = _error(s.error)
                key = (wf, day, "retry", info[0], s.node_id)
                _add(sums.error_day, key, (1, s.cost_usd, ""))
                sums.error_day[key][2] = info[2]
            model = doc.models.get(s.node_id)
            if model is not None:
                _add(sums.model_day, (wf, day, model), (1, s.input_tokens, s.output_tokens, s.cost_usd, 0))
            if s.status == "succeeded" and s.inputs and s.outputs:
                self._add_io(sums, (wf, s.node_id, _short_hash(s.inputs)), _short_hash(s.outputs))
        for node_id, model in doc.models.items():
            n = truncated.get((run_id, node_id))
            if n and node_id in seen:
                sums.model_day[(wf, day, model)][4] += n

    @staticmethod
    def _add_io(sums: _Sums, key: tuple[str, str, str], outputs_key: str) -> None:
        row = sums.node_io.get(key)
        if row is None:
            sums.node_io[key] = [outputs_key, 1, 0]
        else:
            row[1] += 1
            row[2] = int(row[2] or row[0] != outputs_key)

    def _document(self, doc_hash: str | None) -> _Document:
        if doc_hash is None:
            return _Document({}, DEFAULT_CONCURRENCY)
        known = self._documents.get(doc_hash)
        if known is None:
            row = self.raw.execute("SELECT data FROM blob WHERE hash = ?", (doc_hash,)).fetchone()
            known = read_document(row[0] if row else None)
            self._documents[doc_hash] = known
        return known

    # ------------------------------------------------------------ writing
    def _write(self, sums: _Sums, ids: list[str]) -> None:
        raw = self.raw
        raw.executemany(_RUN_DAY_SQL, [(*k, *v) for k, v in sums.run_day.items()])
        raw.executemany(_DURATION_SQL, [(*k, *v) for k, v in sums.duration.items()])
        raw.executemany(_MODEL_DAY_SQL, [(*k, *v) for k, v in sums.model_day.items()])
        raw.executemany(_NODE_DAY_SQL, [(*k, *v) for k, v in sums.node_day.items()])
        raw.executemany(_ERROR_DAY_SQL, [(*k, *v) for k, v in sums.error_day.items()])
        raw.executemany(_NODE_IO_SQL, [(*k, *v) for k, v in sums.node_io.items()])
        raw.executemany(_HIST_SQL, [(*k, v) for k, v in sums.hist.items()])
        raw.executemany("INSERT OR IGNORE INTO insight_rolled (run_id) VALUES (?)", [(i,) for i in ids])


def _upsert(
    table: str, keys: Sequence[str], sums: Sequence[str], maxes: Sequence[str] = (), last: Sequence[str] = ()
) -> str:
    """An insert that adds ``sums`` into the row ``keys`` name when it is there (``maxes`` keep the larger)."""
    names = (*keys, *sums, *maxes, *last)
    sets = [f"{c} = {c} + excluded.{c}" for c in sums]
    sets += [f"{c} = max({c}, excluded.{c})" for c in maxes]
    sets += [f"{c} = excluded.{c}" for c in last]
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(sets)}"
    )


_RUN_DAY_SQL = _upsert(
    "insight_run_day",
    ("workflow", "day", "status"),
    ("runs", "duration_s", "input_tokens", "output_tokens", "cost_usd"),
    ("peak_concurrency", "concurrency_limit"),
)
_DURATION_SQL = _upsert("insight_duration", ("workflow", "day", "status", "bucket"), ("runs", "duration_s"))
_MODEL_DAY_SQL = _upsert(
    "insight_model_day",
    ("workflow", "day", "model"),
    ("calls", "input_tokens", "output_tokens", "cost_usd", "truncated"),
)
_NODE_DAY_SQL = _upsert(
    "insight_node_day",
    ("workflow", "day", "node_id"),
    ("runs", "attempts", "retries", "failures", "duration_s", "cost_usd", "retry_cost_usd", "critical_runs",
     "critical_s"),
)  # fmt: skip
_ERROR_DAY_SQL = _upsert(
    "insight_error_day", ("workflow", "day", "kind", "error_class", "node_id"), ("count", "cost_usd"), last=("message",)
)
_NODE_IO_SQL = (
    "INSERT INTO insight_node_io (workflow, node_id, inputs_key, outputs_key, seen, differs) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (workflow, node_id, inputs_key) DO UPDATE SET seen = seen + excluded.seen,"
    " differs = max(differs, excluded.differs, outputs_key != excluded.outputs_key)"
)
_HIST_SQL = _upsert("insight_attempt_hist", ("workflow", "node_id", "bucket"), ("attempts",))


# ---------------------------------------------------------------- a run's shape
def _error(text: str | None) -> tuple[str, str, str]:
    """(error class, node id or '', message) of a step's or run's error JSON."""
    try:
        info = json.loads(text) if text else {}
    except ValueError:
        info = {}
    if not isinstance(info, dict):
        info = {}
    return (
        str(info.get("error_class") or "node"),
        str(info.get("node_id") or ""),
        str(info.get("message") or "")[:300],
    )


def read_document(text: str | None) -> _Document:
    """The models and concurrency limit of a run's document (defaults are left out of it when stored)."""
    try:
        doc = json.loads(text) if text else {}
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        return _Document({}, DEFAULT_CONCURRENCY)
    models: dict[str, str] = {}
    workflows: dict[str, str] = {}
    for node in doc.get("nodes") or ():
        if not isinstance(node, dict):
            continue
        config = node.get("config") if isinstance(node.get("config"), dict) else {}
        model = config.get("model")
        if isinstance(model, str):
            models[str(node.get("id"))] = model
        elif node.get("kind") == "llm":
            models[str(node.get("id"))] = DEFAULT_MODEL
        if isinstance(config.get("workflow"), str):
            workflows[str(node.get("id"))] = config["workflow"]
    settings = doc.get("settings") if isinstance(doc.get("settings"), dict) else {}
    limit = settings.get("max_concurrency", DEFAULT_CONCURRENCY)
    return _Document(models, int(limit) if isinstance(limit, int) else DEFAULT_CONCURRENCY, workflows)


def _peak_concurrency(steps: list[_Step]) -> int:
    """The most attempts running at once (an attempt ending frees its place before one starting then)."""
    moments: list[tuple[float, int]] = []
    for s in steps:
        if s.started_at is not None and s.finished_at is not None:
            moments.append((s.started_at, 1))
            moments.append((s.finished_at, -1))
    moments.sort()
    running = peak = 0
    for _, change in moments:
        running += change
        peak = max(peak, running)
    return peak


def _critical_path(steps: list[_Step]) -> dict[int, float]:
    """The attempts on the run's critical path (id -> its time): from the last to end, back through the
    attempt that ended last before each one started, i.e. what it waited for."""
    timed = sorted(
        (s for s in steps if s.started_at is not None and s.finished_at is not None), key=lambda s: s.finished_at or 0.0
    )
    if not timed:
        return {}
    ends = [s.finished_at or 0.0 for s in timed]
    path: dict[int, float] = {}
    at = len(timed) - 1
    while at >= 0:
        step = timed[at]
        path[id(step)] = max(0.0, (step.finished_at or 0.0) - (step.started_at or 0.0))
        before = bisect_right(ends, (step.started_at or 0.0) + 1e-6, 0, at) - 1
        at = before
    return path


# ---------------------------------------------------------------- entry points
def roll_up_in_transaction(raw: sqlite3.Connection, run_id: str) -> None:
    """Count a run that just ended, inside the recorder's transaction; a failure here never fails the run's
    record (it is rolled back to a savepoint, and ``catch_up`` tries again later)."""
    raw.execute("SAVEPOINT insights")
    try:
        Rollup(raw).add_runs([run_id])
        raw.execute("RELEASE insights")
    except (sqlite3.Error, ValueError, TypeError, KeyError) as exc:
        raw.execute("ROLLBACK TO insights")
        raw.execute("RELEASE insights")
        log.warning("run %s: not counted in the insights yet: %s", run_id, exc)


def catch_up(db: Any, *, batch: int = BATCH, max_batches: int | None = None) -> int:
    """Count every ended run not counted yet (``db``: the store's Database); returns how many were counted.

    Each batch is its own transaction and advances the watermark, so a stopped backfill resumes.
    """
    counted = 0
    done = 0
    while max_batches is None or done < max_batches:
        with db.raw_write() as raw:
            row = raw.execute("SELECT value FROM insight_state WHERE name = 'watermark'").fetchone()
            mark = row[0] if row else float("-inf")
            found = raw.execute(
                "SELECT id, finished_at FROM run WHERE finished_at >= ? AND parent_run_id IS NULL"
                f" AND status IN ({_ENDED_SQL}) AND NOT EXISTS (SELECT 1 FROM insight_rolled r WHERE r.run_id = run.id)"
                " ORDER BY finished_at LIMIT ?",
                (mark - SLACK_S, batch),
            ).fetchall()
            if not found:
                return counted
            Rollup(raw).add_runs([r[0] for r in found])
            newest = max(mark, found[-1][1])
            raw.execute(
                "INSERT INTO insight_state (name, value) VALUES ('watermark', ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (newest,),
            )
        counted += len(found)
        done += 1
        if len(found) < batch:
            return counted
    return counted

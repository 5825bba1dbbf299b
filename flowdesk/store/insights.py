"""How workflows do over time: the figures of a period, read from the insights roll-ups only.

``InsightsReader.stats`` first counts any run that ended without being counted (``catch_up``: a
backfill the first time, a few runs at most afterwards), then reads the roll-ups of the period's
UTC days: a few hundred rows whatever the size of the journal. Periods are whole UTC days: "24h"
is yesterday and today.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flowdesk.store.database import Database, LibraryError
from flowdesk.store.insights_figures import DayFigures, FailureGroup, ModelFigures, NodeFigures, Stats
from flowdesk.store.insights_rollup import DAY_S, catch_up, day_of, workflow_key
from flowdesk.store.insights_suggest import suggest
from flowdesk.store.insights_tables import bucket_middle

log = logging.getLogger(__name__)

PERIODS: dict[str, float | None] = {"24h": DAY_S, "7d": 7 * DAY_S, "30d": 30 * DAY_S, "all": None}
_SPAN = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNIT_S = {"h": 3600, "d": DAY_S, "w": 7 * DAY_S}


def parse_since(text: str) -> float | None:
    """Seconds back from now for '24h', '7d', '2w' (None for 'all'); a ValueError names what is accepted."""
    if text.strip().lower() == "all":
        return None
    found = _SPAN.match(text.lower())
    if not found or int(found.group(1)) <= 0:
        raise ValueError(f"--since takes a span such as 24h, 7d, 30d or 2w, or 'all'; '{text}' is none of these")
    return int(found.group(1)) * _UNIT_S[found.group(2)]


def percentile(hist: dict[int, tuple[int, float]], q: float) -> float | None:
    """The q-quantile (0..1) of a histogram (bucket -> runs, their durations' sum), as its bucket's mean."""
    total = sum(n for n, _ in hist.values())
    if not total:
        return None
    want, seen = q * total, 0
    for bucket in sorted(hist):
        n, took = hist[bucket]
        seen += n
        if seen >= want:
            return took / n if n else bucket_middle(bucket)
    return bucket_middle(max(hist))


class InsightsReader:
    """The period's figures of one workflow or of all, from the roll-ups."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def refresh(self) -> int:
        """Count the runs that ended without being counted; a library that cannot be written is read as it is."""
        if self.db.read_only:
            return 0
        try:
            return catch_up(self.db)
        except LibraryError as exc:
            log.warning("insights: could not count the latest runs: %s", exc)
            return 0

    def workflow_key(self, ref: str) -> str:
        """The roll-ups' key of a library workflow (id or slug); ``file:NAME`` passes through."""
        if ref.startswith("file:"):
            return ref
        from flowdesk.store.workflows import WorkflowLibrary

        return workflow_key(WorkflowLibrary(self.db).get(ref).id, "")

    def stats(
        self,
        workflow: str | None = None,
        since_s: float | None = None,
        *,
        now: float | None = None,
        refresh: bool = True,
    ) -> Stats:
        """The figures of ``workflow`` (a key; None for all) over the days since ``since_s`` ago (None: all).

        ``refresh=False`` reads the roll-ups as they are (the app counts a long backfill in steps first)."""
        if refresh:
            self.refresh()
        since_day = day_of((now if now is not None else time.time()) - since_s) if since_s is not None else None
        where, args = _where(workflow, since_day)
        with self.db.read() as conn:
            q = conn.exec_driver_sql
            runs = q(f"SELECT day, status, sum(runs), sum(input_tokens), sum(output_tokens), sum(cost_usd),"
                     f" max(peak_concurrency), max(concurrency_limit), workflow FROM insight_run_day{where}"
                     f" GROUP BY day, status, workflow", args).all()  # fmt: skip
            hist = q(f"SELECT day, bucket, sum(runs), sum(duration_s) FROM insight_duration{where}"
                     f" AND status IN ('succeeded', 'failed')"
                     f" GROUP BY day, bucket", args).all()  # fmt: skip
            models = q(f"SELECT day, model, sum(calls), sum(input_tokens), sum(output_tokens), sum(cost_usd),"
                       f" sum(truncated) FROM insight_model_day{where} GROUP BY day, model", args).all()  # fmt: skip
            nodes = q(f"SELECT workflow, node_id, sum(runs), sum(attempts), sum(retries), sum(failures),"
                      f" sum(duration_s), sum(cost_usd), sum(retry_cost_usd), sum(critical_runs), sum(critical_s)"
                      f" FROM insight_node_day{where} GROUP BY workflow, node_id", args).all()  # fmt: skip
            errors = q(f"SELECT workflow, kind, error_class, node_id, sum(count), sum(cost_usd), max(message)"
                       f" FROM insight_error_day{where} GROUP BY workflow, kind, error_class, node_id"
                       f" ORDER BY sum(count) DESC", args).all()  # fmt: skip
            io_where, io_args = _where(workflow, None)
            repeats = q(f"SELECT workflow, node_id, count(*), sum(seen), sum(differs) FROM insight_node_io{io_where}"
                        f" AND seen > 1 GROUP BY workflow, node_id", io_args).all()  # fmt: skip
            names = dict(q("SELECT id, name FROM workflow").all())
        stats = _assemble(workflow, since_day, runs, hist, models, nodes, errors)
        stats.names = {k: names.get(k, k[5:] if k.startswith("file:") else k) for k in stats.concurrency}
        stats.name = stats.names.get(workflow, workflow or "") if workflow else "all workflows"
        stats.suggestions = suggest(stats, repeats)
        return stats

    def workflows(self) -> list[tuple[str, str]]:
        """(key, name) of every workflow with counted runs, by name."""
        with self.db.read() as conn:
            keys = [r[0] for r in conn.exec_driver_sql("SELECT DISTINCT workflow FROM insight_run_day").all()]
            names = dict(conn.exec_driver_sql("SELECT id, name FROM workflow").all())
        found = [(k, names.get(k, k[5:] if k.startswith("file:") else k)) for k in keys]
        return sorted(found, key=lambda kn: kn[1].lower())

    def runs_on(self, workflow: str | None, day: int, *, limit: int = 500) -> list[DayRun]:
        """The top-level runs created on a UTC day (of one workflow, or all), newest first, at most ``limit``."""
        sql = (
            "SELECT id, workflow_id, workflow_name, status, duration_s, input_tokens + output_tokens, cost_usd"
            " FROM run WHERE created_at >= ? AND created_at < ? AND parent_run_id IS NULL"
        )
        args: list[Any] = [day * DAY_S, (day + 1) * DAY_S]
        if workflow is not None and workflow.startswith("file:"):
            sql += " AND workflow_id IS NULL AND workflow_name = ?"
            args.append(workflow[5:])
        elif workflow is not None:
            sql += " AND workflow_id = ?"
            args.append(workflow)
        with self.db.read() as conn:
            rows = conn.exec_driver_sql(sql + " ORDER BY created_at DESC LIMIT ?", (*args, limit)).all()
        return [DayRun(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


@dataclass(frozen=True)
class DayRun:
    """A run as the Insights view lists it when a day is picked."""

    id: str
    workflow_id: str | None
    workflow_name: str
    status: str
    duration_s: float
    tokens: int
    cost_usd: float


def _where(workflow: str | None, since_day: int | None) -> tuple[str, tuple[Any, ...]]:
    parts, args = ["1 = 1"], []
    if workflow is not None:
        parts.append("workflow = ?")
        args.append(workflow)
    if since_day is not None:
        parts.append("day >= ?")
        args.append(since_day)
    return " WHERE " + " AND ".join(parts), tuple(args)


def _assemble(
    workflow: str | None, since_day: int | None, runs: list[Any], hist: list[Any], models: list[Any],
    nodes: list[Any], errors: list[Any],
) -> Stats:  # fmt: skip
    by_day: dict[int, dict[str, int]] = defaultdict(dict)
    usage: dict[int, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    by_status: dict[str, int] = defaultdict(int)
    concurrency: dict[str, tuple[int, int]] = {}
    runs_of: dict[str, int] = defaultdict(int)
    for day, status, n, tin, tout, cost, peak, limit, wf in runs:
        by_day[day][status] = by_day[day].get(status, 0) + n
        by_status[status] += n
        runs_of[wf] += n
        u = usage[day]
        u[0], u[1], u[2] = u[0] + tin, u[1] + tout, u[2] + cost
        old = concurrency.get(wf, (0, 0))
        concurrency[wf] = (max(old[0], peak), max(old[1], limit))
    day_hist: dict[int, dict[int, tuple[int, float]]] = defaultdict(dict)
    all_hist: dict[int, tuple[int, float]] = {}
    for day, bucket, n, took in hist:
        day_hist[day][bucket] = (n, took)
        old = all_hist.get(bucket, (0, 0.0))
        all_hist[bucket] = (old[0] + n, old[1] + took)
    days = [
        DayFigures(d, dict(by_day[d]), percentile(day_hist[d], 0.5), percentile(day_hist[d], 0.95),
                   int(usage[d][0]), int(usage[d][1]), usage[d][2])
        for d in sorted(by_day)
    ]  # fmt: skip
    model_totals: dict[str, list[Any]] = {}
    model_days: dict[int, dict[str, float]] = defaultdict(dict)
    for day, model, calls, tin, tout, cost, cut in models:
        row = model_totals.setdefault(model, [0, 0, 0, 0.0, 0])
        for i, v in enumerate((calls, tin, tout, cost, cut)):
            row[i] += v
        model_days[day][model] = model_days[day].get(model, 0.0) + cost
    node_rows = [
        NodeFigures(wf, node, r, a, rt, f, d, c, rc, cr, cs, cr / runs_of[wf] if runs_of.get(wf) else 0.0)
        for wf, node, r, a, rt, f, d, c, rc, cr, cs in nodes
    ]
    node_rows.sort(key=lambda n: (-n.critical_s, -n.duration_s))
    return Stats(
        workflow=workflow,
        name="",
        since_day=since_day,
        days=days,
        by_status=dict(by_status),
        p50_s=percentile(all_hist, 0.5),
        p95_s=percentile(all_hist, 0.95),
        input_tokens=sum(d.input_tokens for d in days),
        output_tokens=sum(d.output_tokens for d in days),
        cost_usd=sum(d.cost_usd for d in days),
        models=sorted((ModelFigures(m, *v) for m, v in model_totals.items()), key=lambda m: -m.cost_usd),
        model_cost_by_day=dict(model_days),
        nodes=node_rows,
        failures=[FailureGroup(*row) for row in errors],
        concurrency=concurrency,
        runs_by_workflow=dict(runs_of),
    )

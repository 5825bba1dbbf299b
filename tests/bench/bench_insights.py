"""Insights benchmark (issue 19): `flowdesk stats` and the Insights view on 100,000 runs / 1,000,000 attempts.

Run:  python tests/bench/bench_insights.py [--runs N] [--attempts N] [--no-view]
The library is generated straight into the tables (executemany, not the engine), then counted into
the roll-ups once (the backfill, timed). Each figure is the median of five, beside the same figures
computed the old way (SQL aggregates over ``step`` and ``run``), in the same run, as a ratio.
Targets: stats <= 300 ms, the view open <= 500 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.insights_library import generate

from flowdesk.cli import main
from flowdesk.store.insights_rollup import catch_up
from flowdesk.store.store import open_store

DAY_S = 86_400


def median_ms(fn: Callable[[], object], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def cli_stats(db: Path, *argv: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["stats", *argv, "--db", str(db)]) == 0


def old_way(db: Path, since: float) -> None:
    """What the earlier attempt did: aggregates over the journal's rows for the same figures."""
    store = open_store(db)
    try:
        with store.db.read() as conn:
            q = conn.exec_driver_sql
            q("SELECT date(created_at, 'unixepoch'), status, count(*), sum(cost_usd) FROM run WHERE created_at >= ?"
              " GROUP BY 1, 2", (since,)).all()  # fmt: skip
            q("SELECT s.node_id, count(*), sum(s.duration_s), sum(s.cost_usd) FROM step s JOIN run r ON r.id = s.run_id"
              " WHERE r.created_at >= ? GROUP BY s.node_id", (since,)).all()  # fmt: skip
    finally:
        store.close()


def view_open(db: Path) -> tuple[float, float]:
    """(the first open, pyqtgraph and numpy imported by it; the median of the next four) in ms."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    store = open_store(db)
    times = []
    try:
        for _ in range(5):
            t0 = time.perf_counter()
            from flowdesk.ui.insights.window import InsightsWindow  # the first time: pyqtgraph and numpy too

            window = InsightsWindow(store)
            window.resize(1280, 860)
            window.show()
            app.processEvents()
            times.append((time.perf_counter() - t0) * 1000)
            window.close()
            window.deleteLater()
            app.processEvents()
    finally:
        store.close()
    return times[0], statistics.median(times[1:])


def warm_import() -> float:
    """How long the View menu's warm-up thread takes to import the charting library (off the UI thread)."""
    from flowdesk.ui.insights.action import _import_charts

    t0 = time.perf_counter()
    _import_charts()
    return (time.perf_counter() - t0) * 1000


def process_stats(db: Path) -> float:
    """`flowdesk stats` as a person types it: a new Python process, its imports included."""
    return median_ms(
        lambda: subprocess.run([sys.executable, "-m", "flowdesk", "stats", "--since", "30d", "--db", str(db)],
                               check=True, capture_output=True),
        n=3,
    )  # fmt: skip


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--no-view", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "lib.db"
        now = time.time()
        store = open_store(db)
        t0 = time.perf_counter()
        generate(store.db, runs=args.runs, attempts=args.attempts, days=30, workflows=10, now=now)
        made = time.perf_counter() - t0
        t0 = time.perf_counter()
        counted = catch_up(store.db)
        backfill = time.perf_counter() - t0
        store.close()
        print(f"library: {args.runs:,} runs, {args.attempts:,} attempts, made in {made:.1f} s; "
              f"backfill of {counted:,} runs into the roll-ups: {backfill:.1f} s (once)\n")  # fmt: skip
        rows: list[tuple[str, float, float | None]] = []
        for label, argv, since in (
            ("stats, all workflows, 30d", ("--since", "30d"), now - 30 * DAY_S),
            ("stats, all workflows, all", ("--since", "all"), 0.0),
            ("stats, one workflow, 7d", ("wf-3", "--since", "7d"), now - 7 * DAY_S),
            ("stats --json, all, 30d", ("--since", "30d", "--json"), now - 30 * DAY_S),
        ):
            new = median_ms(lambda argv=argv: cli_stats(db, *argv))
            old = median_ms(lambda since=since: old_way(db, since), n=3)
            rows.append((label, new, old))
        rows.append(("`flowdesk stats` process (30d, all)", process_stats(db), None))
        if not args.no_view:
            warm = warm_import()
            first, again = view_open(db)
            rows.append(("view: warm import on View menu (thread)", warm, None))
            rows.append(("view: first open (rest of the imports)", first, None))
            rows.append(("view: opens again (all, 30d)", again, None))
        print(f"{'figure':40} {'roll-ups ms':>12} {'SQL over steps ms':>18} {'ratio':>7}  target")
        for label, new, old in rows:
            target = None if "warm" in label else 500 if "view" in label else 300
            ok = "(off the UI thread)" if target is None else f"<= {target} ms " + ("ok" if new <= target else "MISSED")
            versus = f"{old:18.1f} {old / new:7.1f}x" if old is not None else f"{'-':>18} {'-':>8}"
            print(f"{label:40} {new:12.1f} {versus}  {ok}")


if __name__ == "__main__":
    main_bench()

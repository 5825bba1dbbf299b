"""Store benchmarks (issue 4): what recording a run costs, how big the journal gets, how fast it reads.

Run:  python tests/bench/bench_store.py [--quick]
Each recorded run goes into a fresh library file in a temporary folder; the in-memory run of the
same workflow is timed in the same repetition (interleaved, medians), and the table shows the
difference per node. Database bytes are the growth of the library file (WAL checkpointed) per node.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_engine import REGISTRY, chain, layered_dag, median_of

from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Workflow
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store


def _library_bytes(store: Store) -> int:
    store.db.raw().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(f"{store.path}-wal")
    return store.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _memory_run(wf: Workflow) -> float:
    t0 = time.perf_counter()
    # validated as a recorded run is (RunService.start checks the workflow before recording it)
    result = asyncio.run(run_workflow(wf, REGISTRY, EngineServices()))
    assert result.ok, result.error
    return time.perf_counter() - t0


class Recorded:
    """One recorded run per call, each in a new library; remembers the last run's size and id."""

    def __init__(self, wf: Workflow, folder: Path) -> None:
        self.wf, self.folder, self.n = wf, folder, 0
        self.bytes = 0
        self.last: tuple[Path, str] | None = None

    def __call__(self) -> float:
        self.n += 1
        store = open_store(self.folder / f"lib{self.n}.db")
        store.workflows.save(self.wf)
        before = _library_bytes(store)
        service = RunService(store, REGISTRY, EngineServices())

        async def go() -> tuple[str, float]:
            t0 = time.perf_counter()
            started = service.start(self.wf)
            assert started.handle is not None
            result = await started.handle.wait()
            assert result.ok, result.error
            return started.run_id, time.perf_counter() - t0

        run_id, elapsed = asyncio.run(go())
        self.bytes = _library_bytes(store) - before
        self.last = (store.path, run_id)
        store.close()
        return elapsed


def bench_recording(cases: list[tuple[str, Workflow]], reps: int, folder: Path) -> list[tuple[str, ...]]:
    rows = []
    for label, wf in cases:
        recorded = Recorded(wf, folder)
        memory, journal = median_of(reps, lambda wf=wf: _memory_run(wf), recorded)
        n = len(wf.nodes)
        rows.append(
            (
                label,
                f"{memory / n * 1e6:.1f}",
                f"{journal / n * 1e6:.1f}",
                f"{(journal - memory) / n * 1e6:.1f}",
                f"{recorded.bytes / n:,.0f}",
            )
        )
    return rows


def _timed(fn: Callable[[], Any], reps: int) -> float:
    return median_of(reps, lambda: _stopwatch(fn))[0]


def _stopwatch(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_reading(reps: int, folder: Path, big_run: tuple[Path, str]) -> list[tuple[str, str]]:
    store = open_store(folder / "runs.db")
    store.workflows.save(chain(3))
    rows = [
        (f"r{i:05d}", "chain", 1, "chain", "library", "run", "succeeded", 1_700_000_000.0 + i, 1.5, 10, 20, 0.001, 3)
        for i in range(10_000)
    ]
    with store.db.write():
        store.db.raw().executemany(
            "INSERT INTO run (id, workflow_id, workflow_version, workflow_name, source, kind, status, created_at,"
            " duration_s, input_tokens, output_tokens, cost_usd, node_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    listed = _timed(lambda: store.runs.list(limit=None), reps)
    assert len(store.runs.list(limit=None)) == 10_000
    listed_wf = _timed(lambda: store.runs.list("chain", limit=None), reps)
    store.close()
    path, run_id = big_run
    big = open_store(path)
    opened = _timed(lambda: (big.runs.get(run_id), big.runs.steps(run_id)), reps)
    assert len(big.runs.steps(run_id)) == 10_000
    big.close()
    return [
        ("list 10,000 runs (all, newest first)", f"{listed * 1e3:.0f} ms"),
        ("list 10,000 runs of one workflow", f"{listed_wf * 1e3:.0f} ms"),
        ("open a 10,000-step run (run + every step)", f"{opened * 1e3:.0f} ms"),
    ]


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        sys.stdout.write(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")
        if i == 0:
            sys.stdout.write("-+-".join("-" * w for w in widths) + "\n")
    sys.stdout.write("\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    reps = 3 if args.quick else 5
    with tempfile.TemporaryDirectory(dir=os.environ.get("FLOWDESK_BENCH_DIR")) as tmp:
        folder = Path(tmp)
        cases = [
            ("chain of 1,000 no-op nodes", chain(1_000)),
            ("chain of 10,000 no-op nodes", chain(10_000)),
            ("DAG of 1,000 no-op nodes", layered_dag(1_000)),
            ("DAG of 10,000 no-op nodes", layered_dag(10_000)),
        ]
        header = ("case", "in memory us/node", "recorded us/node", "journal cost us/node", "bytes/node")
        _table([header, *bench_recording(cases, reps, folder)])
        big = Recorded(layered_dag(10_000), folder)
        big()
        assert big.last is not None
        _table([("read", "median"), *bench_reading(reps, folder, big.last)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

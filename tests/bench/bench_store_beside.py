"""The journal's cost beside another checkout's (e.g. main before a store change), in one run, as ratios.

Run:  python tests/bench/bench_store_beside.py OLD_CHECKOUT [MORE_CHECKOUTS...] [--reps N]
(e.g. the code before the SQLModel change and main's head: ``git archive COMMIT | tar -x -C DIR``).
Each side runs in its own process (``PYTHONPATH`` picks the checkout), alternating, so both see
the same machine load; each measures recorded minus in-memory time per node and the library's
growth per node on the cases below (bench_store.py's measure: after one warm-up run, the median of
three, as bench_store.py's repetitions in one process are). The budget: <= 100 us and
<= 2 KB per node on the 1,000-node chain. The machine's load (1-minute average) is printed
before and after: figures from a loaded machine are comparable only as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEW = HERE.parents[1]
_ONE_SIDE = """
import gc, json, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench_engine import chain, layered_dag
from bench_store import Recorded, _memory_run
out = {}
import statistics
with tempfile.TemporaryDirectory() as tmp:
    for label, wf in (("chain of 1,000 no-op nodes", chain(1_000)), ("DAG of 1,000 no-op nodes", layered_dag(1_000))):
        recorded = Recorded(wf, Path(tmp))
        recorded(), _memory_run(wf)  # warm (first-use costs: the journal's JSON schema, SQLAlchemy's caches)
        costs = []
        for _ in range(3):  # each run starts with the collector's generations empty, so where a full collection
            gc.collect()    # falls is each version's own doing, not the phase left by the runs before (+-50 us/node)
            spent = recorded()
            gc.collect()
            costs.append(spent - _memory_run(wf))
        out[label] = [statistics.median(costs) / len(wf.nodes) * 1e6, recorded.bytes / len(wf.nodes)]
print(json.dumps(out))
"""


def _side(checkout: Path) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout), str(checkout / "tests" / "bench")])}
    done = subprocess.run(
        [sys.executable, "-c", _ONE_SIDE, str(checkout / "tests" / "bench")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("old", type=Path, nargs="+", help="checkouts to compare with (e.g. a worktree at main)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    sides = [("new", NEW), *((f"old{i + 1}", path.resolve()) for i, path in enumerate(args.old))]
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict[str, list[float]]]] = {name: [] for name, _ in sides}
    for _ in range(args.reps):
        for name, checkout in sides[1:] + sides[:1]:
            runs[name].append(_side(checkout))
    for name, checkout in sides[1:]:
        print(f"{name}: {checkout}")
    print(f"load average (1 min): {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; {args.reps} rounds")
    olds = [name for name, _ in sides[1:]]
    print(
        "case | "
        + " | ".join(f"{o} journal us/node" for o in olds)
        + " | new journal us/node | "
        + " | ".join(f"new/{o}" for o in olds)
        + " | "
        + " | ".join(f"{o} bytes/node" for o in olds)
        + " | new bytes/node"
    )
    for label in runs["new"][0]:
        us = {name: statistics.median(r[label][0] for r in runs[name]) for name, _ in sides}
        size = {name: statistics.median(r[label][1] for r in runs[name]) for name, _ in sides}
        cells = [f"{us[o]:.1f}" for o in olds] + [f"{us['new']:.1f}"]
        cells += [f"{us['new'] / us[o]:.2f}" for o in olds]
        cells += [f"{size[o]:,.0f}" for o in olds] + [f"{size['new']:,.0f}"]
        print(f"{label} | " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

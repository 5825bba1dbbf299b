"""The journal's cost beside another checkout's (e.g. main before a store change), in one run, as ratios.

Run:  python tests/bench/bench_store_beside.py OLD_CHECKOUT [--reps N]
Each side runs in its own process (``PYTHONPATH`` picks the checkout), alternating, so both see
the same machine load; each measures recorded minus in-memory time per node and the library's
growth per node on the cases below (bench_store.py's measure: after one warm-up run, the median of
three, as bench_store.py's repetitions in one process are). The budget: <= 100 us and
<= 2 KB per node on the 1,000-node chain.
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
import json, sys, tempfile
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
        costs = [recorded() - _memory_run(wf) for _ in range(3)]
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
    parser.add_argument("old", type=Path, help="the checkout to compare with (e.g. a worktree at main)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, list[float]]]] = {"old": [], "new": []}
    for _ in range(args.reps):
        runs["old"].append(_side(args.old.resolve()))
        runs["new"].append(_side(NEW))
    print("case | old journal us/node | new journal us/node | new/old | old bytes/node | new bytes/node")
    for label in runs["new"][0]:
        old_us = statistics.median(r[label][0] for r in runs["old"])
        new_us = statistics.median(r[label][0] for r in runs["new"])
        old_b = statistics.median(r[label][1] for r in runs["old"])
        new_b = statistics.median(r[label][1] for r in runs["new"])
        print(f"{label} | {old_us:.1f} | {new_us:.1f} | {new_us / old_us:.2f} | {old_b:,.0f} | {new_b:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

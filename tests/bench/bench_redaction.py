"""Benchmark: what the one redaction step costs (run on demand, not by pytest).

Every node result passes it once a run has handed out a key, so it must be cheap on the values
nodes produce. Figures per call: a run without keys (the step is skipped), one key, and five keys,
on a short output, a 10 kB reply, a 1 MB http body, a JSON object of 1,000 fields and a 1 MB
base64 word with the key at its end (the widening around a base64 piece stays linear); and the old
plain ``str.replace`` of one key beside it as the baseline ratio.

    .venv/bin/python tests/bench/bench_redaction.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import base64
import math
import time
from collections.abc import Callable
from typing import Any

from flowdesk.engine.redaction import Redactor

KEY = "sk-proj-7d0c1f9a3e5b4c2d8e6f0a1b3c5d7e9f"
CASES: list[tuple[str, Any]] = [
    ("short text", "The answer is 42."),
    ("10 kB reply", "lorem ipsum dolor sit amet " * 370),
    ("1 MB http body", "x" * 1_000_000),
    ("1,000-field object", {f"field{i}": f"value {i}" for i in range(1000)}),
    ("1 MB base64 word holding the key", "QUJD" * 125_000 + base64.b64encode(f"user:{KEY}".encode()).decode()),
]


def per_call(fn: Callable[[], Any], repeat: int) -> float:
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        spent = time.perf_counter() - start
        if spent > 0.2:
            break
        calls *= 2
    best = spent / calls
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    one, five = Redactor(), Redactor()
    one.add(KEY)
    for i in range(5):
        five.add(f"{KEY[:-2]}{i:02d}")
    print("| value | str.replace (old, one key) µs | 1 key µs | 5 keys µs | 1 key / old |")
    print("| --- | --- | --- | --- | --- |")
    for name, value in CASES:
        if isinstance(value, str):
            old = per_call(lambda v=value: v.replace(KEY, "[key removed]"), args.repeat)
        else:
            old = float("nan")
        t1 = per_call(lambda v=value: one.value(v), args.repeat)
        t5 = per_call(lambda v=value: five.value(v), args.repeat)
        ratio = f"{t1 / old:.1f}x" if not math.isnan(old) else "-"  # str.replace does not walk objects
        baseline = f"{old * 1e6:.1f}" if not math.isnan(old) else "-"
        print(f"| {name} | {baseline} | {t1 * 1e6:.1f} | {t5 * 1e6:.1f} | {ratio} |")


if __name__ == "__main__":
    main()

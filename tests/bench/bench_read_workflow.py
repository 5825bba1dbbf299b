"""Benchmark: reading a workflow file (text -> checked JSON -> pydantic models), old vs new (on demand).

Three readers side by side: "walk" (the first reader: the Python walk over every value), "hooks"
(the careful path, which every file not taken by the fast path still goes through) and "new"
(``loads_workflow`` today: a sound current file is parsed once by jiter and its value validated by
pydantic in Rust, ``model/_fastread.py``, issue 16.7).

With ``--base DIR`` (a checkout of the code before a change, e.g. ``git archive main flowdesk | tar
-x -C DIR``) a second table reads the same file with ``loads_workflow`` of that checkout and of this
one, each in a fresh process, alternately, best of the rounds: "before" beside "after" as a ratio.

The old reader walked every parsed value in pure Python (``_jsoncheck._check_tree``) to refuse what
``json`` lets through (duplicate keys, NaN, lone surrogates, deep nesting). The new one notes those
cases in the C parser's hooks and checks depth over the containers only, running the full walk only
when something is suspect (to say where). "old" below is that old pipeline, rebuilt from the same
functions, so both columns run on this machine at once; the ratio is what matters under load.

    .venv/bin/python tests/bench/bench_read_workflow.py [--sizes 1000 10000] [--repeat 5] [--base DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from side_by_side import ratio, run_in, worker_call

from flowdesk.model import _jsoncheck
from flowdesk.model.fileformat import MAX_FILE_BYTES, _parse, _validate, dumps_workflow, loads_workflow
from flowdesk.model.workflow import Edge, Node, Position, Workflow


def chain_file(n: int) -> str:
    nodes = [
        Node(
            id=f"n{i}",
            kind="transform",
            name=f"step {i}",
            config={"expression": f"inputs.input + {i}", "mode": "expression"},
            position=Position(x=i * 220.0, y=(i % 7) * 90.0),
        )
        for i in range(n)
    ]
    edges = [
        Edge(id=f"e{i}", source=f"n{i}", source_port="output", target=f"n{i + 1}", target_port="input")
        for i in range(n - 1)
    ]
    return dumps_workflow(Workflow(id="bench", name="bench", nodes=tuple(nodes), edges=tuple(edges)))


def old_read(text: str) -> Workflow:
    """The reader before the change: parse, then the pure-Python walk over every value, then pydantic."""
    root = _jsoncheck._loads(_jsoncheck._decode(text, MAX_FILE_BYTES, "file"))
    _jsoncheck._check_tree(root, text)
    return Workflow.model_validate(root)


def careful_read(text: str) -> Workflow:
    """The careful path alone (C parser with hooks, depth over the containers, pydantic on dicts)."""
    return _validate(Workflow, _parse(text, "bench", "file"), "bench")


def best_of(repeat: int, fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def read_seconds(size: int, repeat: int) -> list[float]:
    """Best wall and best CPU time of ``loads_workflow`` on the bench file, in whichever checkout
    this process imports. CPU time leaves out the waits for a core that the other processes on a
    loaded machine cause, so it is the nearer estimate of the time on a quiet one."""
    text = chain_file(size)
    loads_workflow(text)  # the first read imports jiter; not part of a read
    read = lambda: loads_workflow(text)  # noqa: E731
    return [best_of(repeat, read), best_of(repeat, read, time.process_time)]


MEASURES = {"read": read_seconds}


def before_and_after(base: Path, sizes: list[int], repeat: int, rounds: int = 3) -> None:
    """``loads_workflow`` of the checkout in ``base`` beside this one's, alternating fresh processes."""
    here, script = Path(__file__).resolve().parents[2], Path(__file__).resolve()
    print(
        f"\n{'nodes':>7} {'before s':>9} {'after s':>8} {'ratio':>6} {'before cpu':>11} {'after cpu':>10} {'ratio':>6}"
    )
    for size in sizes:
        best = {"before": [float("inf")] * 2, "after": [float("inf")] * 2}
        for _ in range(rounds):
            for side, root in (("before", base), ("after", here)):
                best[side] = [
                    min(pair) for pair in zip(best[side], run_in(root, script, "read", size, repeat), strict=True)
                ]
        (wall_before, cpu_before), (wall_after, cpu_after) = best["before"], best["after"]
        print(
            f"{size:>7} {wall_before:>9.3f} {wall_after:>8.3f} {ratio(wall_before, wall_after):>6}"
            f" {cpu_before:>11.3f} {cpu_after:>10.3f} {ratio(cpu_before, cpu_after):>6}"
        )


def main() -> int:
    if worker_call(sys.argv, MEASURES):
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--base", type=Path, help="a checkout of the code before a change, read beside this one")
    args = parser.parse_args()
    print(f"{'nodes':>7} {'MB':>6} {'walk s':>8} {'hooks s':>8} {'new s':>8} {'walk/new':>9} {'hooks/new':>10}")
    for size in args.sizes:
        text = chain_file(size)
        assert old_read(text) == careful_read(text) == loads_workflow(text)
        old = best_of(args.repeat, lambda text=text: old_read(text))
        hooks = best_of(args.repeat, lambda text=text: careful_read(text))
        new = best_of(args.repeat, lambda text=text: loads_workflow(text))
        print(
            f"{size:>7} {len(text) / 2**20:>6.1f} {old:>8.3f} {hooks:>8.3f} {new:>8.3f}"
            f" {old / new:>8.1f}x {hooks / new:>9.1f}x"
        )
    if args.base is not None:
        before_and_after(args.base, args.sizes, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

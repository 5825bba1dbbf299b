"""Engine benchmarks (issue 3): per-node overhead, side by side with LangGraph, and run control.

Run:  python tests/bench/bench_engine.py [--quick] [--against OTHER_CHECKOUT]
Prints one table; compare the ratios (the same process, the same machine, interleaved repetitions,
medians), not the absolute numbers, which move with the machine's load. With ``--against`` it runs
the whole bench in turns, this checkout then the other one (e.g. a worktree of main), each in a
process of its own, and prints both side by side with their ratio.
LangGraph is optional (`pip install -e '.[bench]'`); without it its columns say "n/a".
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from flowdesk.engine.bus import EventBus
from flowdesk.engine.runner import run_workflow, start_run
from flowdesk.engine.services import EngineServices
from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.model.validation import validate
from flowdesk.model.workflow import Edge, Node, Settings, Workflow
from flowdesk.nodes.kinds import BUILTIN_KINDS
from flowdesk.nodes.registry import Registry


async def _noop(ctx: Any, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    return {"out": None}


async def _sleep50(ctx: Any, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    await asyncio.sleep(0.05)
    return {"out": None}


def _kind(name: str, run: Callable[..., Awaitable[dict[str, Any]]]) -> KindSpec:
    ports = NodePorts(tuple(PortSpec(f"in_{i}") for i in range(1, 4)), (PortSpec("out"),))
    return KindSpec(name=name, display_name=name, category="bench", description=name, ports=ports, run=run)


REGISTRY = Registry([*BUILTIN_KINDS, _kind("bench.noop", _noop), _kind("bench.sleep", _sleep50)])


def chain(n: int, kind: str = "bench.noop") -> Workflow:
    nodes = tuple(Node(id=f"n{i}", kind=kind) for i in range(n))
    edges = tuple(
        Edge(id=f"e{i}", source=f"n{i}", source_port="out", target=f"n{i + 1}", target_port="in_1")
        for i in range(n - 1)
    )
    return Workflow(id="chain", nodes=nodes, edges=edges, settings=Settings(max_concurrency=64))


def fan(width: int) -> Workflow:
    nodes = [Node(id="src", kind="bench.noop"), Node(id="join", kind="merge", config={"inputs": 2})]
    edges = []
    for i in range(width):
        nodes.append(Node(id=f"w{i}", kind="bench.noop"))
        edges.append(Edge(id=f"a{i}", source="src", source_port="out", target=f"w{i}", target_port="in_1"))
    # a merge has a fixed number of ports: join the wide layer pairwise through a tree of merges
    layer = [f"w{i}" for i in range(width)]
    level = 0
    while len(layer) > 1:
        nxt = []
        for j in range(0, len(layer), 2):
            pair = layer[j : j + 2]
            mid = f"m{level}_{j}"
            nodes.append(Node(id=mid, kind="bench.noop"))
            for k, src in enumerate(pair, start=1):
                edges.append(
                    Edge(id=f"j{level}_{j}_{k}", source=src, source_port="out", target=mid, target_port=f"in_{k}")
                )
            nxt.append(mid)
        layer, level = nxt, level + 1
    nodes.remove(nodes[1])
    return Workflow(id="fan", nodes=tuple(nodes), edges=tuple(edges), settings=Settings(max_concurrency=256))


def layered_dag(n: int, seed: int = 7) -> Workflow:
    rng = random.Random(seed)
    width = max(1, int(n**0.5))
    nodes, edges, prev = [], [], []
    for layer in range(0, n, width):
        current = [f"n{i}" for i in range(layer, min(n, layer + width))]
        for nid in current:
            nodes.append(Node(id=nid, kind="bench.noop"))
            for k, src in enumerate(rng.sample(prev, min(len(prev), rng.randint(1, 3))) if prev else [], start=1):
                edges.append(
                    Edge(id=f"e{len(edges)}", source=src, source_port="out", target=nid, target_port=f"in_{k}")
                )
        prev = current
    return Workflow(id="dag", nodes=tuple(nodes), edges=tuple(edges), settings=Settings(max_concurrency=64))


async def _consume(sub: Any) -> int:
    """A listener that reads every event and keeps none (as the CLI printer and the GUI do)."""
    count = 0
    async for _ in sub:
        count += 1
    return count


async def _flowdesk_once(wf: Workflow, *, events: bool, validated: bool) -> float:
    bus = EventBus()
    reader = asyncio.ensure_future(_consume(bus.subscribe())) if events else None
    t0 = time.perf_counter()
    result = await run_workflow(wf, REGISTRY, EngineServices(), bus=bus, validated=validated)
    elapsed = time.perf_counter() - t0
    assert result.ok, result.error
    if reader is not None:
        bus.close()
        assert await reader >= 3 * len(wf.nodes)
    return elapsed


def _langgraph_chain(n: int) -> Callable[[], Awaitable[float]] | None:
    try:
        from typing import TypedDict

        from langgraph.graph import END, START, StateGraph
    except ImportError:
        return None

    class State(TypedDict, total=False):
        x: int

    async def noop(state: State) -> dict[str, Any]:
        return {}

    graph = StateGraph(State)
    for i in range(n):
        graph.add_node(f"n{i}", noop)
    graph.add_edge(START, "n0")
    for i in range(n - 1):
        graph.add_edge(f"n{i}", f"n{i + 1}")
    graph.add_edge(f"n{n - 1}", END)
    app = graph.compile()

    async def once() -> float:
        t0 = time.perf_counter()
        await app.ainvoke({"x": 0}, config={"recursion_limit": n + 10})
        return time.perf_counter() - t0

    return once


class GcTimer:
    """Time the garbage collector spends while the block runs (pass collect=False to median_of)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.runs = 0
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def median_of(reps: int, *fns: Callable[[], float], collect: bool = True) -> list[float]:
    """Interleave the candidates rep by rep, so load changes hit them alike; medians."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(reps):
        for i, fn in enumerate(fns):
            if collect:
                gc.collect()
            samples[i].append(fn())
    return [statistics.median(s) for s in samples]


def bench_chains(sizes: list[int], reps: int) -> list[tuple[str, ...]]:
    rows = []
    for n in sizes:
        wf = chain(n)
        lg = _langgraph_chain(n) if n <= 2000 else None
        fns: list[Callable[[], float]] = [
            lambda wf=wf: asyncio.run(_flowdesk_once(wf, events=False, validated=True)),
            lambda wf=wf: asyncio.run(_flowdesk_once(wf, events=True, validated=True)),
        ]
        if lg is not None:
            fns.append(lambda lg=lg: asyncio.run(lg()))
        meds = median_of(reps, *fns)
        fd, fd_ev = meds[0] / n * 1e6, meds[1] / n * 1e6
        lg_us = meds[2] / n * 1e6 if lg is not None else None
        rows.append(
            (
                f"chain of {n:,} no-op nodes",
                f"{fd:.1f}",
                f"{fd_ev:.1f}",
                f"{lg_us:.1f}" if lg_us else "n/a",
                f"{lg_us / fd_ev:.0f}x" if lg_us else "n/a",
            )
        )
    return rows


def bench_shapes(reps: int) -> list[tuple[str, ...]]:
    rows = []
    wf = fan(200)
    n = len(wf.nodes)
    fd, fd_ev = median_of(
        reps,
        lambda: asyncio.run(_flowdesk_once(wf, events=False, validated=True)),
        lambda: asyncio.run(_flowdesk_once(wf, events=True, validated=True)),
    )
    rows.append((f"200-wide fan-out + join ({n} nodes)", f"{fd / n * 1e6:.1f}", f"{fd_ev / n * 1e6:.1f}", "", ""))
    for size in (1_000, 10_000):
        dag = layered_dag(size)
        runs = max(3, reps // 2)
        with GcTimer() as gc_time:
            (total,) = median_of(runs, lambda dag=dag: asyncio.run(_validate_and_run(dag)), collect=False)
        gc_time.runs = runs
        share = gc_time.seconds / gc_time.runs if gc_time.runs else 0.0
        rows.append(
            (
                f"random layered DAG, {size:,} nodes: validate + run",
                f"{total / size * 1e6:.1f}",
                f"total {total * 1000:.0f} ms",
                f"(GC {share * 1000:.0f} ms)",
                "",
            )
        )
        gc.collect()
        gc.freeze()  # what `flowdesk run` does once the workflow is loaded
        (frozen,) = median_of(max(3, reps // 2), lambda dag=dag: asyncio.run(_validate_and_run(dag)))
        gc.unfreeze()
        rows.append(
            (
                "  same, loaded objects frozen (as `flowdesk run`)",
                f"{frozen / size * 1e6:.1f}",
                f"total {frozen * 1000:.0f} ms",
                "",
                "",
            )
        )
    return rows


async def _validate_and_run(wf: Workflow) -> float:
    bus = EventBus()
    reader = asyncio.ensure_future(_consume(bus.subscribe()))
    t0 = time.perf_counter()
    problems = validate(wf, REGISTRY, for_run=True)
    assert not [p for p in problems if p.severity == "error"], problems[:3]
    result = await run_workflow(wf, REGISTRY, EngineServices(), bus=bus, validated=True)
    elapsed = time.perf_counter() - t0
    assert result.ok
    bus.close()
    await reader
    return elapsed


async def _sleepers(cancel_after: float | None) -> tuple[float, float | None]:
    nodes = tuple(Node(id=f"s{i}", kind="bench.sleep") for i in range(1000))
    wf = Workflow(id="sleepers", nodes=nodes, settings=Settings(max_concurrency=50))
    t0 = time.perf_counter()
    handle = start_run(wf, REGISTRY, EngineServices(), validated=True)
    if cancel_after is None:
        result = await handle.wait()
        assert result.ok
        return time.perf_counter() - t0, None
    await asyncio.sleep(cancel_after)
    t1 = time.perf_counter()
    handle.cancel()
    result = await handle.wait()
    gone = time.perf_counter() - t1
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert result.status == "cancelled" and not leftover
    return gone, None


async def _plain_asyncio_sleepers() -> float:
    """The same work with a bare semaphore: how close asyncio itself gets to the ideal here."""
    limit = asyncio.Semaphore(50)

    async def one() -> None:
        async with limit:
            await asyncio.sleep(0.05)

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(1000)))
    return time.perf_counter() - t0


def bench_sleepers(reps: int) -> list[tuple[str, ...]]:
    total, plain = median_of(
        reps, lambda: asyncio.run(_sleepers(None))[0], lambda: asyncio.run(_plain_asyncio_sleepers())
    )
    (gone,) = median_of(reps, lambda: asyncio.run(_sleepers(0.3))[0])
    return [
        (
            "1,000 x sleep 50 ms at concurrency 50 (ideal 1.000 s)",
            f"{total:.3f} s",
            f"{(total - 1) * 100:+.1f}%",
            "",
            "",
        ),
        ("  same work, bare asyncio semaphore (no engine)", f"{plain:.3f} s", f"{(plain - 1) * 100:+.1f}%", "", ""),
        ("cancel during that run: all node tasks gone after", f"{gone * 1000:.1f} ms", "", "", ""),
    ]


def _first_number(cell: str) -> float | None:
    found = re.search(r"[-+]?\d+(?:\.\d+)?", cell.replace(",", ""))
    return float(found.group()) if found else None


def compare(against: Path, rounds: int, quick: bool) -> list[tuple[str, ...]]:
    """The bench run in turns here and in ``against``; each case's median of its first two figures."""
    here = Path(__file__).resolve()
    figures: dict[str, dict[str, list[float]]] = {}
    for _ in range(rounds):
        for label, path in (("new", None), ("old", against)):
            env = dict(os.environ)
            if path is not None:  # the other checkout's package wins over the installed (editable) one
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
            argv = [sys.executable, str(here), "--json", *(["--quick"] if quick else [])]
            rows = json.loads(subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout)
            parent = ""
            for row in rows[1:]:
                if not row[0].startswith(" "):
                    parent = row[0]
                case = row[0] if not row[0].startswith(" ") else f"{parent}, {row[0].strip()}"
                for column in (1, 2):
                    value = _first_number(row[column])
                    if value is not None:  # a bare figure is in its column's unit; else the cell says it
                        unit = re.sub(r"[-+]?[\d,]+(?:\.\d+)?", "#", row[column])
                        what = rows[0][column] if unit == "#" else unit
                        figures.setdefault(f"{case} [{what}]", {}).setdefault(label, []).append(value)
    table = [("case [column]", "this checkout", against.name, "this / that")]
    for case, by_tree in figures.items():
        new, old = (statistics.median(by_tree.get(k, [float("nan")])) for k in ("new", "old"))
        table.append((case, f"{new:.3f}", f"{old:.3f}", f"{new / old:.3f}" if old else "n/a"))
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", action="store_true", help="print the table as JSON (for --against)")
    parser.add_argument("--against", type=Path, help="also run the bench on the flowdesk in this checkout")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each checkout with --against")
    args = parser.parse_args()
    if args.against is not None:
        rows = compare(args.against.resolve(), args.rounds, args.quick)
    else:
        reps = 3 if args.quick else 7
        rows = [("case", "flowdesk us/node", "with events us/node", "LangGraph us/node", "LangGraph / flowdesk")]
        rows += bench_chains([100, 1_000, 10_000], reps)
        rows += bench_shapes(reps)
        rows += bench_sleepers(max(3, reps // 2))
        if args.json:
            sys.stdout.write(json.dumps(rows) + "\n")
            return 0
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        sys.stdout.write(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")
        if i == 0:
            sys.stdout.write("-+-".join("-" * w for w in widths) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

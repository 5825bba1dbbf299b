"""Benchmark: a map of 50 ms sleeps on a Dask cluster, beside Dask's own round trip and the local engine.

Issue 20's numbers. Three ways to do N items of 50 ms, at most C at a time, in each round:
  - local: flowdesk's map in this process;
  - dask bare: N plain Dask tasks of ``time.sleep(0.05)``, C in flight (what Dask itself costs);
  - flowdesk on dask: flowdesk's map with ``--executor``, each item one task running flowdesk's engine.
The overhead per item is (wall - ideal) x C / N, where ideal = N / C x 50 ms; flowdesk's own cost is
its overhead minus the bare one, per round. Bare and flowdesk run in alternate blocks of N / --blocks
items on one connection each for the round (as the app keeps one): run one after the other, 16 s
each, the machine's load drifted between them by more than the 1 ms measured, either way. Best,
median and worst round are shown.

The cluster (a scheduler and 2 worker processes) runs in a process of its own, as a real one runs on
other machines, so the coordinator's memory (RSS, printed after every round) is flowdesk's and the
Dask client's only: it stays flat in the number of items. CPU per item is measured per process
(coordinator, scheduler, workers) for the bare tasks and for flowdesk's. ``--trace-memory`` adds
tracemalloc's biggest differences (by traceback) between the last two rounds.

With ``--base DIR`` (the code before a change: ``git archive main flowdesk | tar -x -C DIR``) the
same rounds run against that checkout too, each checkout in a fresh process with its own cluster
(whose workers import that checkout), alternately: before beside after.

Then where flowdesk's per-item time goes, as CPU milliseconds measured in this process one part at a
time: building and pickling a task's payload, a worker running the child (its engine, with the
worker's caches), and the coordinator taking the outcome back (events replayed into the journal).

    .venv/bin/python tests/bench/bench_dask.py [--items 2000] [--concurrency 8] [--rounds 3] [--base DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import pickle
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).parents[2]))  # after PYTHONPATH: a --base checkout's flowdesk comes first
import distributed
import psutil
from side_by_side import run_in, worker_call

import flowdesk
from flowdesk.cluster.dask_children import connect
from flowdesk.cluster.payload import PayloadMaker, SealedKeys
from flowdesk.cluster.worker_runtime import WorkerRuntime
from flowdesk.cluster.worker_task import _run as run_on_worker
from flowdesk.engine.journal import MemoryJournal
from flowdesk.engine.remote import ChildJob, ChildOutcome
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import default_registry
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import LLMSettings
from tests.support.wfbuild import node, workflow

SLEEP_S = 0.05


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Library:
    def __init__(self, workflows: dict[str, Any]) -> None:
        self.workflows = workflows

    def resolve(self, ref: str) -> Any:
        return self.workflows[ref]


def _workflows(items: int, concurrency: int, start: int = 0) -> tuple[Any, dict[str, Any]]:
    child = workflow(
        [
            node("item", "transform", expression="run.inputs.item"),
            node("wait", "delay", seconds=SLEEP_S),
            node("o", "output", name="value"),
        ],
        ["item.output -> wait.value", "wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    parent = workflow(
        [
            node("src", "transform", expression=str(list(range(start, start + items)))),
            node("each", "map", workflow="sleep", concurrency=concurrency),
            node("out", "output", name="all"),
        ],
        ["src.output -> each.items", "each.results -> out.value"],
    )
    return parent, {"sleep": child}


async def _flowdesk(items: int, concurrency: int, address: str | None) -> tuple[float, Any]:
    parent, library = _workflows(items, concurrency)
    credentials = Credentials(LLMSettings(), keys=SealedKeys(), environ={})  # type: ignore[arg-type]
    remote = await connect(address, credentials) if address else None
    try:
        services = EngineServices(workflows=_Library(library), remote=remote)
        started = time.perf_counter()
        result = await run_workflow(parent, default_registry(), services)
        took = time.perf_counter() - started
    finally:
        if remote is not None:
            await remote.close()
    assert result.status == "succeeded", result.error
    return took, result.outputs


async def _bare(items: int, concurrency: int, address: str) -> float:
    client = await distributed.Client(address, asynchronous=True)
    try:
        return await _bare_tasks(client, items, concurrency)
    finally:
        await client.close()


async def _bare_tasks(client: Any, items: int, concurrency: int) -> float:
    """N plain tasks of a 50 ms sleep, C in flight: Dask's own round trip."""
    limit = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with limit:
            await client.submit(time.sleep, SLEEP_S, key=f"bare-{index}-{time.monotonic_ns()}", pure=False)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(items)))
    return time.perf_counter() - started


async def _interleaved(
    items: int, concurrency: int, address: str, blocks: int, cluster: psutil.Process
) -> dict[str, Any]:
    """Bare tasks and flowdesk's map in alternate blocks of N / blocks items (bare first in even blocks,
    flowdesk first in odd ones), each way on one connection for the round, as the app keeps one: the
    machine's load, which drifts over a round, weighs on both alike. Walls and CPU summed per way;
    flowdesk's outputs joined in item order."""
    size = items // blocks
    credentials = Credentials(LLMSettings(), keys=SealedKeys(), environ={})  # type: ignore[arg-type]
    remote = await connect(address, credentials)
    client = await distributed.Client(address, asynchronous=True)
    walls = {"bare": 0.0, "dask": 0.0}
    cpu = {"bare": [0.0, 0.0, 0.0], "dask": [0.0, 0.0, 0.0]}
    outputs: list[Any] = []
    try:
        for block in range(blocks):
            for way in ("bare", "dask") if block % 2 == 0 else ("dask", "bare"):
                before = cpu_seconds(cluster)
                if way == "bare":
                    walls[way] += await _bare_tasks(client, size, concurrency)
                else:
                    parent, library = _workflows(size, concurrency, start=block * size)
                    services = EngineServices(workflows=_Library(library), remote=remote)
                    started = time.perf_counter()
                    result = await run_workflow(parent, default_registry(), services)
                    walls[way] += time.perf_counter() - started
                    assert result.status == "succeeded", result.error
                    outputs.extend(result.outputs["all"])
                spent = _per_item(before, cpu_seconds(cluster), items)
                cpu[way] = [x + y for x, y in zip(cpu[way], spent, strict=True)]
    finally:
        await client.close()
        await remote.close()
    return {"walls": walls, "cpu": cpu, "outputs": {"all": outputs}}


class _Canned:
    """A cluster that answers at once with one real outcome (made by a worker runtime here), per item."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        self.outcome = outcome

    def takes(self, workflow: Any, workflows: Any) -> bool:
        return True

    async def run(self, job: ChildJob) -> ChildOutcome:
        events = [{**event, "run_id": job.run_id} for event in self.outcome["events"]]
        return ChildOutcome(**{**self.outcome, "events": events})


CLUSTER = """
import json, sys
import distributed
cluster = distributed.LocalCluster(
    n_workers=2, threads_per_worker=int(sys.argv[1]), processes=True, dashboard_address=None, host="127.0.0.1"
)
print(json.dumps({"scheduler": cluster.scheduler_address}), flush=True)
sys.stdin.read()  # until the bench closes our stdin
cluster.close()
"""


@contextlib.contextmanager
def cluster_process(threads: int) -> Iterator[tuple[str, psutil.Process]]:
    """A scheduler and 2 worker processes in a process of their own; its address and process. Its
    workers import the flowdesk that PYTHONPATH names, as this process does (``-P``: not the one in
    the current folder, which Python would put first)."""
    proc = subprocess.Popen(
        [sys.executable, "-P", "-c", CLUSTER, str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())["scheduler"], psutil.Process(proc.pid)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(cluster: psutil.Process) -> tuple[float, float, float]:
    """CPU seconds so far of this process (the coordinator), the scheduler's and the workers'."""
    workers = 0.0
    for child in cluster.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            workers += sum(child.cpu_times()[:2])
    return time.process_time(), sum(cluster.cpu_times()[:2]), workers


def _per_item(before: tuple[float, ...], after: tuple[float, ...], items: int) -> list[float]:
    return [(b - a) / items * 1000 for a, b in zip(before, after, strict=True)]


def measure_rounds(items: int, concurrency: int, rounds: int, trace: int, blocks: int = 8) -> dict[str, Any]:
    """The local run, then bare tasks and flowdesk's map interleaved in blocks, ``rounds`` times,
    against the flowdesk this process imports."""
    walls: dict[str, list[float]] = {"local": [], "bare": [], "dask": []}
    cpu: dict[str, list[float]] = {"bare": [0.0, 0.0, 0.0], "dask": [0.0, 0.0, 0.0]}
    rss: list[float] = []
    top: list[str] = []
    equal = True
    with cluster_process(concurrency // 2 or 1) as (address, cluster):
        asyncio.run(_flowdesk(20, concurrency, address))  # warm the workers (imports) before timing
        asyncio.run(_flowdesk(items // 4, concurrency, address))
        gc.collect()
        rss_small = rss_mb()
        if trace:
            tracemalloc.start(25)
        snapshot = None
        for _ in range(rounds):  # in turn, so the machine's load weighs on the three alike
            local, local_out = asyncio.run(_flowdesk(items, concurrency, None))
            walls["local"].append(local)
            got = asyncio.run(_interleaved(items, concurrency, address, blocks, cluster))
            for way in ("bare", "dask"):
                walls[way].append(got["walls"][way])
                cpu[way] = [x + y / rounds for x, y in zip(cpu[way], got["cpu"][way], strict=True)]
            equal = equal and got["outputs"] == local_out
            del got, local_out
            gc.collect()
            rss.append(rss_mb())  # flat from round to round when nothing per item is kept
            if trace:
                now = tracemalloc.take_snapshot()
                if snapshot is not None:
                    top = [_said(stat) for stat in now.compare_to(snapshot, "traceback")[:5]]
                snapshot = now
    return {
        "walls": walls, "cpu": cpu, "rss_small": rss_small, "rss": rss, "equal": equal,
        "flowdesk": flowdesk.__file__, "top": top, "blocks": blocks,
    }  # fmt: skip


def _said(stat: Any) -> str:
    where = " <- ".join(
        f"{Path(frame.filename).name}:{frame.lineno}" for frame in reversed(stat.traceback[-8:])
    )  # the allocation first, then who called it
    return f"{stat.size_diff / 1024:+.0f} KiB ({stat.count_diff:+d} blocks): {where}"


MEASURES = {"rounds": measure_rounds}


def parts(items: int) -> list[tuple[str, float]]:
    """CPU ms per item of each part of a remote child, measured here one at a time (a 0 s sleep)."""
    parent, library = _workflows(items, 8)
    child = library["sleep"]
    child = child.model_copy(
        update={"nodes": tuple(n.model_copy(update={"config": {"seconds": 0}}) if n.kind == "delay" else n for n in child.nodes)}
    )  # fmt: skip
    library["sleep"] = child
    credentials = Credentials(LLMSettings(), keys=SealedKeys(), environ={})  # type: ignore[arg-type]
    maker = PayloadMaker(credentials, 16, flowdesk.__version__)
    jobs = [ChildJob(f"r.each.{i}.1.item_{i}", "r", "each", 1, child, {"item": i}) for i in range(items)]
    started = time.process_time()
    blobs = [pickle.dumps(maker.payload(job)) for job in jobs]
    payload_ms = (time.process_time() - started) / items * 1000
    runtime = WorkerRuntime()

    async def on_worker() -> tuple[float, list[dict[str, Any]]]:
        try:
            await run_on_worker(pickle.loads(blobs[0]), runtime, lambda: False)  # warm: first read and compile
            started = time.process_time()
            done = [await run_on_worker(pickle.loads(blob), runtime, lambda: False) for blob in blobs]
            return (time.process_time() - started) / items * 1000, done
        finally:
            await runtime.aclose()

    worker_ms, outcomes = asyncio.run(on_worker())
    services = EngineServices(workflows=_Library(library), remote=_Canned(outcomes[0]))  # type: ignore[arg-type]
    started = time.process_time()
    result = asyncio.run(run_workflow(parent, default_registry(), services, journal=MemoryJournal()))
    back_ms = (time.process_time() - started) / items * 1000
    assert result.status == "succeeded", result.error
    return [
        (f"payload built and pickled ({len(blobs[0])} bytes)", payload_ms),
        ("a worker runs the child (unpickle, engine, events as JSON)", worker_ms),
        ("the coordinator takes it back (map, check, replay into a journal)", back_ms),
    ]


def report(name: str, n: int, c: int, got: dict[str, Any]) -> None:
    ideal = n / c * SLEEP_S
    walls = got["walls"]
    over = {way: [(wall - ideal) * c / n * 1000 for wall in each] for way, each in walls.items()}
    own = [dask - bare for dask, bare in zip(over["dask"], over["bare"], strict=True)]
    print(f"\n{name} ({Path(got['flowdesk']).parent.parent})")
    print("| way | best wall (s) | overhead per item (ms), best | every round's overhead per item (ms) |")
    print("| --- | --- | --- | --- |")
    labels = {"local": "flowdesk, this process", "bare": "Dask bare tasks", "dask": "flowdesk on Dask"}
    for way, label in labels.items():
        each = ", ".join(f"{x:.2f}" for x in over[way])
        print(f"| {label} | {min(walls[way]):.2f} | {min(over[way]):.2f} | {each} |")
    print(
        f"flowdesk's own cost per item above Dask's round trip (same round, in {got['blocks']} interleaved blocks): "
        f"best {min(own):.2f} ms, median {statistics.median(own):.2f} ms, worst {max(own):.2f} ms; "
        f"every round {', '.join(f'{x:.2f}' for x in own)} ms"
    )
    cpu = got["cpu"]
    print("CPU ms per item (coordinator / scheduler / workers): bare " + " / ".join(f"{x:.2f}" for x in cpu["bare"])
          + "; flowdesk " + " / ".join(f"{x:.2f}" for x in cpu["dask"]))  # fmt: skip
    print(f"outputs equal to the local run: {got['equal']}")
    print(
        f"coordinator RSS after {n // 4} items: {got['rss_small']:.1f} MB; after each round of {n} items: "
        + ", ".join(f"{mb:.1f}" for mb in got["rss"])
        + " MB"
    )
    for line in got["top"]:
        print(f"  tracemalloc, last round vs the one before: {line}")


def main() -> int:
    if worker_call(sys.argv, MEASURES):
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="the three ways in turn this many times")
    parser.add_argument("--base", type=Path, help="a checkout of the code before a change, measured beside this one")
    parser.add_argument("--blocks", type=int, default=8, help="bare and flowdesk's blocks interleaved per round")
    parser.add_argument("--trace-memory", action="store_true", help="tracemalloc's top differences between rounds")
    args = parser.parse_args()
    n, c = args.items, args.concurrency
    here, script = Path(__file__).resolve().parents[2], Path(__file__).resolve()
    print(
        f"{n} items of {SLEEP_S * 1000:.0f} ms, {c} at a time, a cluster of 2 worker processes (scheduler and "
        f"workers in a process of their own); ideal {n / c * SLEEP_S:.2f} s; {args.rounds} rounds"
    )
    print("load average before (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    sides = [("after (this checkout)", here)] + ([("before (--base)", args.base)] if args.base else [])
    got = {
        name: run_in(root, script, "rounds", n, c, args.rounds, int(args.trace_memory), args.blocks)
        for name, root in sides
    }
    for name, result in got.items():
        report(name, n, c, result)
    print()
    print("| where flowdesk's per-item time goes (CPU, measured here) | ms per item |")
    print("| --- | --- |")
    for name, ms in parts(min(n, 500)):
        print(f"| {name} | {ms:.2f} |")
    print("load average after (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: a map of 50 ms sleeps on a Dask LocalCluster, beside Dask's own round trip and the local engine.

Issue 20's numbers. Three ways to do N items of 50 ms, at most C at a time, in the same run:
  - local: flowdesk's map in this process;
  - dask bare: N plain Dask tasks of ``time.sleep(0.05)``, C in flight (what Dask itself costs);
  - flowdesk on dask: flowdesk's map with ``--executor``, each item one task running flowdesk's engine.
The overhead per item is (wall - ideal) x C / N, where ideal = N / C x 50 ms; flowdesk's own cost is
its overhead minus the bare one. The coordinator's memory (RSS) is printed after each size, to show
it stays flat in the number of items.

Then where flowdesk's per-item time goes, as CPU milliseconds measured in this process one part at a
time (the cluster's timings above mix them with the machine's load): building and pickling a task's
payload, a worker running the child (its engine, with the worker's caches), and the coordinator
taking the outcome back (events replayed into the journal).

    .venv/bin/python tests/bench/bench_dask.py [--items 2000] [--concurrency 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[2]))
import distributed

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


def _workflows(items: int, concurrency: int) -> tuple[Any, dict[str, Any]]:
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
            node("src", "transform", expression=str(list(range(items)))),
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
    limit = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with limit:
            await client.submit(time.sleep, SLEEP_S, key=f"bare-{index}-{time.monotonic_ns()}", pure=False)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(items)))
        return time.perf_counter() - started
    finally:
        await client.close()


class _Canned:
    """A cluster that answers at once with one real outcome (made by a worker runtime here), per item."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        self.outcome = outcome

    def takes(self, workflow: Any, workflows: Any) -> bool:
        return True

    async def run(self, job: ChildJob) -> ChildOutcome:
        events = [{**event, "run_id": job.run_id} for event in self.outcome["events"]]
        return ChildOutcome(**{**self.outcome, "events": events})


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1, help="the three ways in turn this many times; best of each")
    args = parser.parse_args()
    n, c = args.items, args.concurrency
    ideal = n / c * SLEEP_S
    walls: dict[str, list[float]] = {"local": [], "bare": [], "dask": []}
    rss_rounds: list[float] = []
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=c // 2 or 1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as cluster:
        address = cluster.scheduler_address
        asyncio.run(_flowdesk(20, c, address))  # warm the workers (imports) before timing
        rss_small = (asyncio.run(_flowdesk(n // 4, c, address)), rss_mb())[1]
        for _ in range(args.rounds):  # in turn, so the machine's load weighs on the three alike
            local, local_out = asyncio.run(_flowdesk(n, c, None))
            walls["local"].append(local)
            walls["bare"].append(asyncio.run(_bare(n, c, address)))
            remote, remote_out = asyncio.run(_flowdesk(n, c, address))
            walls["dask"].append(remote)
            rss_rounds.append(rss_mb())  # flat from round to round when nothing per item is kept
        rss_full = rss_mb()
    best = {name: min(times) for name, times in walls.items()}
    per_item = {name: (wall - ideal) * c / n * 1000 for name, wall in best.items()}
    rounds = f"best of {args.rounds} rounds" if args.rounds > 1 else "one round"
    print(
        f"{n} items of {SLEEP_S * 1000:.0f} ms, {c} at a time, LocalCluster of 2 worker processes; ideal {ideal:.2f} s; "
        f"{rounds}"
    )
    print("| way | wall (s) | overhead per item (ms) | every round's wall (s) |")
    print("| --- | --- | --- | --- |")
    names = {"local": "flowdesk, this process", "bare": "Dask bare tasks", "dask": "flowdesk on Dask"}
    for name, label in names.items():
        each = ", ".join(f"{wall:.2f}" for wall in walls[name])
        print(f"| {label} | {best[name]:.2f} | {per_item[name]:.2f} | {each} |")
    print(
        f"flowdesk's own cost per item on Dask, above Dask's round trip: {per_item['dask'] - per_item['bare']:.2f} ms"
    )
    print(f"outputs equal to the local run: {remote_out == local_out}")
    print(
        f"coordinator RSS after {n // 4} items: {rss_small:.0f} MB; after {args.rounds} x {n} items: {rss_full:.0f} MB"
        f" (after each round: {', '.join(f'{mb:.0f}' for mb in rss_rounds)} MB)"
    )
    print()
    print("| where flowdesk's per-item time goes (CPU, measured here) | ms per item |")
    print("| --- | --- |")
    for name, ms in parts(min(n, 500)):
        print(f"| {name} | {ms:.2f} |")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

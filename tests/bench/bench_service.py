"""Benchmark: `flowdesk serve` beside a run started in-process, in one run (on demand, not by pytest).

Issue 18 asks that submitting over the API adds at most 5 ms (p50) to the run itself; that 200
submits at once give 200 recorded runs, none lost or doubled (idempotency keys, every one sent
twice); that an SSE client receives 10,000 events a second without falling behind or stalling
the run; and that SIGKILL of the service mid-run, 20 times, leaves every run resumed on restart
with no finished node run again.

- submit: a 3-node workflow, from the call to the run's recorded end. Baseline: RunService.start in
  the process that runs it; service: POST /api/workflows/{id}/runs on loopback (token, JSON, the
  queue: recorded as queued, then started). "added" is the difference of the medians.
- burst: 200 POSTs at once with distinct keys, then the same 200 again at once.
- sse: a for_each of N transforms (about 12 events an item) submitted to the service by a client in
  its own process, which reads the run's stream over loopback from the start: live (this service's
  runs, fed as they are journaled) or polled (the journal read every 20 ms, as runs of other processes
  are followed), each beside the same run without a client, in turns. Per mode: the run's duration and
  its ratio to no client, the service's CPU seconds for the run (what the stream costs the service,
  less swayed by the machine's load than the duration) and its ratio, events the run wrote per second,
  events the client got per second, the lag: how long after the run's end the client had it, and the
  events per second of the service's CPU (the rate with a core to itself: the machine is shared), and
  the client's CPU seconds (on a busy machine it takes its share from the run's process). "replay" reads the stream of a finished run.
- kill: runs of a chain of delay nodes, the service SIGKILLed 20 times at random moments.

    .venv/bin/python tests/bench/bench_service.py [--submits 50] [--items 3000] [--rounds 3] [--kills 20]
        [--only submit|burst|sse|kill]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.service_process import ServiceProcess
from support.service_thread import ServiceThread
from support.wfbuild import node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import default_registry
from flowdesk.store.running import RunService
from flowdesk.store.runs import RunInfo
from flowdesk.store.store import Store, open_store


def small() -> Workflow:
    wf = workflow([node("start", "start"), node("double", "transform", expression="2"), node("out", "output", name="n")],
                  ["start.inputs -> double.input", "double.output -> out.value"])  # fmt: skip
    return wf.model_copy(update={"id": "wf_small", "name": "small"})


def each_item(n: int) -> Workflow:
    """A for_each over ``n`` items, a transform each, 64 at a time: about 12 events an item, as fast as it goes."""
    nodes = [
        node("xs", "transform", expression=f"range({n}) | list"),
        node("fe", "for_each", concurrency=64, max_items=n),
        node("double", "transform", expression="inputs.input * 2"),
        node("c", "collect"),
        node("out", "output", name="out"),
    ]
    edges = ["xs.output -> fe.items", "fe.item -> double.input", "double.output -> c.value", "c.results -> out.value"]
    return workflow(nodes, edges).model_copy(update={"id": "wf_loop", "name": "loop"})


def chain(n: int, seconds: float) -> Workflow:
    nodes = [node("start", "start")] + [node(f"d{i}", "delay", seconds=seconds) for i in range(n)]
    edges = ["start.inputs -> d0.value"] + [f"d{i}.value -> d{i + 1}.value" for i in range(n - 1)]
    return workflow(nodes, edges).model_copy(update={"id": "wf_chain", "name": "chain"})


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


# ---------------------------------------------------------------- submit latency
def baseline_submit(db: Path, count: int) -> list[float]:
    async def go() -> list[float]:
        store = open_store(db)
        service = RunService(store, default_registry(), EngineServices())
        wf = store.workflows.load("wf_small")
        out: list[float] = []
        for _ in range(count):
            t0 = time.time()
            started = service.start(wf, {}, workflow_version=1)
            assert started.handle is not None
            await started.handle.wait()
            out.append(store.runs.get(started.run_id).finished_at - t0)  # type: ignore[operator]
        store.close()
        return out

    return asyncio.run(go())


def service_submit(db: Path, count: int) -> list[float]:
    """The service in a thread of this process, as the baseline runs (the same scheduling on a busy machine);
    the client sleeps until the queue's run-finished hook wakes it, so it takes no time from the run."""
    out: list[float] = []
    ended = threading.Event()

    async def finished(run: RunInfo) -> None:
        ended.set()

    with ServiceThread(db, limit=4, on_finished=[finished]) as service, service.client() as api:
        for _ in range(count):
            ended.clear()
            t0 = time.time()
            run_id = api.post("/api/workflows/wf_small/runs", json={}).json()["run_id"]
            ended.wait(10)
            out.append(api.get(f"/api/runs/{run_id}").json()["finished_at"] - t0)
    return out


# ---------------------------------------------------------------- burst
def burst(db: Path, count: int) -> tuple[int, int, int, float]:
    async def send(client: httpx.AsyncClient) -> list[str]:
        posts = [
            client.post("/api/workflows/wf_small/runs", json={"idempotency_key": f"burst-{i}"}) for i in range(count)
        ]
        return [r.json()["run_id"] for r in await asyncio.gather(*posts)]

    async def go(service: ServiceThread) -> tuple[list[str], list[str], float]:
        limits = httpx.Limits(max_connections=count)
        headers = {"Authorization": f"Bearer {service.token}"}
        sent: list[list[str]] = []
        elapsed = 0.0
        for _ in range(2):  # a client per burst: none reuses a connection the server closed meanwhile
            async with httpx.AsyncClient(base_url=service.url, headers=headers, limits=limits, timeout=60) as client:
                t0 = time.perf_counter()
                sent.append(await send(client))
                elapsed = elapsed or time.perf_counter() - t0
        return sent[0], sent[1], elapsed

    with ServiceThread(db, limit=4) as service:
        first, second, elapsed = asyncio.run(go(service))
        store = open_store(db)
        deadline = time.monotonic() + 120
        while store.runs.list("wf_small", status="queued", limit=1) and time.monotonic() < deadline:
            time.sleep(0.1)
        with store.db.read() as conn:
            recorded = conn.exec_driver_sql("SELECT count(*) FROM run WHERE idempotency_key LIKE 'burst-%'").scalar()
        store.close()
    doubled = sum(a != b for a, b in zip(first, second, strict=True))
    return len(set(first)), int(recorded), doubled, elapsed


# ---------------------------------------------------------------- sse
SSE_MODES = ("no client", "live", "polled")


def sse(db: Path, rounds: int) -> dict[str, list[dict[str, float]]]:
    """Each mode ``rounds`` times, the modes in turn (so the machine's load falls on all alike).

    The client is its own process (``support/sse_client.py``): it submits the run and reads its stream
    over loopback. "polled" is the stream as it was before the live feed (the journal read every 20 ms),
    kept for runs of other processes: here forced for a run of the service, to compare in one run."""
    from flowdesk.service import api_runs

    client = str(Path(__file__).resolve().parents[1] / "support" / "sse_client.py")
    found: dict[str, list[dict[str, float]]] = {mode: [] for mode in SSE_MODES}
    live_here = api_runs._live_here
    with ServiceThread(db, limit=4) as service, service.client() as api:
        for _ in range(rounds):
            for mode in SSE_MODES:
                api_runs._live_here = (lambda request, run_id: None) if mode == "polled" else live_here
                argv = [sys.executable, client, service.url, service.token, "wf_loop"]
                cpu = time.process_time()  # this process is the service (the client is its own process)
                client_cpu = _children_cpu()
                out = subprocess.run(argv + (["--no-stream"] if mode == "no client" else []),
                                     capture_output=True, text=True, check=True)  # fmt: skip
                result = json.loads(out.stdout)
                result["service_cpu_s"] = time.process_time() - cpu
                result["client_cpu_s"] = _children_cpu() - client_cpu
                run = api.get(f"/api/runs/{result['run_id']}").json()
                result["duration_s"] = run["duration_s"]
                found[mode].append(result)
    api_runs._live_here = live_here
    return found


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def print_sse(found: dict[str, list[dict[str, float]]], items: int) -> None:
    def median(mode: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in found[mode])

    alone, alone_cpu = median("no client", "duration_s"), median("no client", "service_cpu_s")
    print(f"{f'for_each of {items} transforms, medians of {len(found[SSE_MODES[0]])}':30} {'run s':>7} {'x':>5}"
          f" {'cpu s':>6} {'x':>5} {'events':>7} {'run ev/s':>9} {'got ev/s':>9} {'end lag ms':>10}"
          f" {'ev/cpu s':>9} {'client s':>9}")  # fmt: skip
    for mode in SSE_MODES:
        duration, cpu = median(mode, "duration_s"), median(mode, "service_cpu_s")
        head = f"{'  ' + mode:30} {duration:7.3f} {duration / alone:5.2f} {cpu:6.2f} {cpu / alone_cpu:5.2f}"
        if mode == "no client":
            print(head)
            continue
        events = median(mode, "events")
        received = statistics.median(float(r["events"]) / float(r["seconds"]) for r in found[mode])
        print(f"{head} {events:7.0f} {events / duration:9,.0f} {received:9,.0f} {median(mode, 'lag_s') * 1000:10.0f}"
              f" {events / cpu:9,.0f} {median(mode, 'client_cpu_s'):9.2f}")  # fmt: skip


def replay(db: Path) -> tuple[int, float]:
    with ServiceThread(db, limit=4) as service, service.client() as api:
        run_id = api.get("/api/runs", params={"workflow": "wf_loop", "limit": 1}).json()["runs"][0]["id"]
        got, t0 = 0, time.perf_counter()
        with api.stream("GET", f"/api/runs/{run_id}/events", timeout=120) as response:
            for line in response.iter_lines():
                got += line.startswith("event: ")
        return got, got / (time.perf_counter() - t0)


# ---------------------------------------------------------------- kill
def kills(db: Path, count: int, runs: int = 3) -> dict[str, int]:
    rng = random.Random(18)
    service = ServiceProcess(db, limit=runs).start()
    with service.client() as api:
        ids = [api.post("/api/workflows/wf_chain/runs", json={}).json()["run_id"] for _ in range(runs)]
    mid_run = 0
    for _ in range(count):
        time.sleep(rng.uniform(0.3, 0.9))
        with service.client() as api:
            statuses = [api.get(f"/api/runs/{r}").json()["status"] for r in ids]
        mid_run += any(s != "succeeded" for s in statuses)  # a run was still to finish when killed
        service.kill()
        service.start()
    with service.client() as api:
        deadline = time.monotonic() + 120
        while any(api.get(f"/api/runs/{r}").json()["status"] != "succeeded" for r in ids):
            assert time.monotonic() < deadline, "runs did not finish after the kills"
            time.sleep(0.1)
    service.stop()
    store = open_store(db)
    rerun = resumed = 0
    for run_id in ids:
        steps = [s for s in store.runs.steps(run_id) if s.source == "run" and s.status == "succeeded"]
        per_node = [s.node_id for s in steps]
        rerun += len(per_node) - len(set(per_node))
        resumed += store.runs.get(run_id).segment
    store.close()
    return {
        "kills": count,
        "kills mid-run": mid_run,
        "runs": runs,
        "segments (resumes)": resumed,
        "nodes run twice": rerun,
    }


def prepare(db: Path, store_wfs: list[Workflow]) -> None:
    store: Store = open_store(db)
    for wf in store_wfs:
        store.workflows.save(wf)
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submits", type=int, default=50)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--items", type=int, default=3000, help="for_each items of the SSE run")
    parser.add_argument("--rounds", type=int, default=3, help="SSE runs of each mode")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--only", choices=("submit", "burst", "sse", "kill"), action="append",
                        help="measure only this (repeatable); all by default")  # fmt: skip
    args = parser.parse_args()
    parts = set(args.only or ("submit", "burst", "sse", "kill"))
    folder = Path(tempfile.mkdtemp(prefix="bench-service-"))
    os.environ["FLOWDESK_CONFIG"] = str(folder / "settings.json")
    db = folder / "library.db"
    prepare(db, [small(), each_item(args.items), chain(40, 0.25)])
    print(f"load: {os.getloadavg()[0]:.2f} (1 min average) on {os.cpu_count()} cores")

    if "submit" in parts:
        base = baseline_submit(db, args.submits)
        served = service_submit(db, args.submits)
        print(f"{'measure':38} {'baseline':>12} {'service':>12} {'ratio / added':>14}")
        print(f"{'submit -> end, p50 ms':38} {p50(base):12.2f} {p50(served):12.2f} {p50(served) - p50(base):+13.2f}ms")
    if "burst" in parts:
        unique, recorded, doubled, elapsed = burst(db, args.burst)
        print(f"{f'{args.burst} submits at once, twice':38} {'runs ' + str(recorded):>12} {'ids ' + str(unique):>12}"
              f" {'doubled ' + str(doubled):>14}   ({elapsed * 1000:.0f} ms for the first {args.burst})")  # fmt: skip
    if "sse" in parts:
        print_sse(sse(db, args.rounds), args.items)
        count, replay_rate = replay(db)
        print(f"{'SSE events/s, a finished run':38} {'':12} {replay_rate:12,.0f} {f'{count} events':>14}")
    if "kill" in parts:
        result = kills(db, args.kills)
        print(f"{'SIGKILL mid-run':38} " + ", ".join(f"{k}: {v}" for k, v in result.items()))
    print(f"load: {os.getloadavg()[0]:.2f} (1 min average) at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Map items and sub-workflow calls on a real Dask cluster (a LocalCluster of worker processes).

The coordinator (this process) keeps the journal; the workers run flowdesk's engine and send the
child's events back. What a person relies on: the outputs equal a local run's, each child says
which worker ran it, a cancel stops the cluster's work, keys never show in what the scheduler
sees, and a bad cluster gives one sentence instead of a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest

import flowdesk
from flowdesk.cluster.dask_children import connect, scheduler_address
from flowdesk.cluster.payload import PayloadMaker, SealedKeys, gather_keys
from flowdesk.cluster.worker_runtime import WorkerRuntime
from flowdesk.cluster.worker_task import _run as run_on_worker
from flowdesk.engine.bus import EventBus
from flowdesk.engine.remote import ChildJob, RemoteError
from flowdesk.engine.runner import run_workflow, start_run
from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import write_workflow
from flowdesk.nodes.registry import default_registry
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import CredentialInfo, LLMSettings
from flowdesk.store.store import open_store
from tests.support.wfbuild import WorkflowsByName, node, workflow


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        yield local


def _credentials(keys: dict[str, str] | None = None, settings: LLMSettings | None = None) -> Credentials:
    return Credentials(settings or LLMSettings(), keys=SealedKeys(keys), environ={})  # type: ignore[arg-type]


def _doubler() -> Any:
    return workflow(
        [node("twice", "transform", expression="run.inputs.item * 2"), node("o", "output", name="value")],
        ["twice.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]


def _mapping(count: int, child: str = "double", concurrency: int = 3) -> Any:
    return workflow(
        [
            node("src", "transform", expression=str(list(range(count)))),
            node("each", "map", workflow=child, concurrency=concurrency),
            node("out", "output", name="all"),
        ],
        ["src.output -> each.items", "each.results -> out.value"],
    )


async def _run(wf: Any, library: dict[str, Any], address: str | None) -> tuple[Any, list[Any]]:
    remote = await connect(address, _credentials()) if address else None
    bus = EventBus()
    sub = bus.subscribe(maxsize=100_000)
    try:
        result = await run_workflow(
            wf, default_registry(), EngineServices(workflows=WorkflowsByName(library), remote=remote), bus=bus
        )
    finally:
        if remote is not None:
            await remote.close()
    return result, sub.drain()


def test_map_items_run_on_the_workers_with_the_outputs_of_a_local_run(cluster: Any) -> None:
    library = {"double": _doubler()}
    local, _ = asyncio.run(_run(_mapping(8), library, None))
    remote, events = asyncio.run(_run(_mapping(8), library, cluster.scheduler_address))
    assert remote.status == "succeeded", remote.error
    assert remote.outputs == local.outputs == {"all": [{"value": i * 2} for i in range(8)]}
    started = [e for e in events if e.type == "run_started" and e.run_id != remote.run_id]
    workers = set(cluster.scheduler_info["workers"])
    assert len(started) == 8 and all(e.worker in workers for e in started)
    finished = [e for e in events if e.type == "run_finished" and e.run_id != remote.run_id]
    assert sorted(e.status for e in finished) == ["succeeded"] * 8
    said = [e.message for e in events if e.type == "node_log" and e.node_id == "each"]
    assert sum("ran on worker tcp://127.0.0.1:" in line for line in said) == 8


def test_a_sub_workflow_and_what_it_calls_run_on_a_worker(cluster: Any) -> None:
    """The child calls a map in turn: the nested workflow travels with it (the worker has no library)."""
    inner = _mapping(3)
    parent = workflow(
        [node("call", "subworkflow", workflow="inner"), node("out", "output", name="r")],
        ["call.outputs -> out.value"],
    )
    library = {"inner": inner, "double": _doubler()}
    result, events = asyncio.run(_run(parent, library, cluster.scheduler_address))
    assert result.status == "succeeded", result.error
    assert result.outputs == {"r": {"all": [{"value": 0}, {"value": 2}, {"value": 4}]}}
    started = [e for e in events if e.type == "run_started" and e.parent_run_id == result.run_id]
    assert len(started) == 1 and started[0].worker is not None
    # the grandchildren ran on that worker, inside the child: their events came back with it
    nested = [e for e in events if e.type == "run_started" and e.parent_run_id == started[0].run_id]
    assert len(nested) == 3


def test_a_failing_item_fails_the_node_with_the_workers_sentence(cluster: Any) -> None:
    broken = workflow(
        [node("bad", "transform", expression="1 / run.inputs.item"), node("o", "output", name="value")],
        ["bad.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    result, _ = asyncio.run(_run(_mapping(3, "broken"), {"broken": broken}, cluster.scheduler_address))
    assert result.status == "failed"
    assert "item 1 failed" in result.error.message and "division" in result.error.message.lower()  # 0, the first


def test_cancelling_the_run_stops_the_clusters_tasks_within_a_second(cluster: Any) -> None:
    sleeper = workflow(
        [
            node("item", "transform", expression="run.inputs.item"),
            node("wait", "delay", seconds=60),
            node("o", "output", name="value"),
        ],
        ["item.output -> wait.value", "wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    wf = workflow(
        [
            node("src", "transform", expression="[0, 1, 2, 3]"),
            node("each", "map", workflow="sleeper", concurrency=4),
        ],
        ["src.output -> each.items"],
    )

    async def scenario() -> tuple[str, float, int]:
        remote = await connect(cluster.scheduler_address, _credentials())
        client = remote._client
        try:
            handle = start_run(
                wf, default_registry(), EngineServices(workflows=WorkflowsByName({"sleeper": sleeper}), remote=remote)
            )
            for _ in range(200):  # until the four items are running on the workers
                processing = await client.processing()
                if sum(len(keys) for keys in processing.values()) == 4:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the items never ran on the cluster")
            cancelled_at = time.monotonic()
            handle.cancel()
            result = await handle.wait()
            while (
                sum(len(keys) for keys in (await client.processing()).values()) and time.monotonic() - cancelled_at < 5
            ):
                await asyncio.sleep(0.05)
            left = sum(len(keys) for keys in (await client.processing()).values())
            return result.status, time.monotonic() - cancelled_at, left
        finally:
            await remote.close()

    status, took, left = asyncio.run(scenario())
    assert status == "cancelled"
    assert left == 0 and took < 1.5


def test_keys_go_only_inside_the_task_that_needs_them() -> None:
    settings = LLMSettings().with_credential(
        CredentialInfo(name="gw", provider="openai", base_url="http://127.0.0.1:9/v1", hosts=("127.0.0.1",))
    )
    credentials = _credentials({"gw": "sk-secret-123"}, settings)
    asks = workflow([node("ask", "llm", model="openai:gpt-4o-mini", credential="gw", prompt="hi")])
    quiet = workflow([node("t", "transform", expression="1")])
    keys = gather_keys([asks], credentials)
    assert keys.get("gw") == "sk-secret-123" and gather_keys([quiet], credentials).names() == []
    assert "sk-secret" not in repr(keys) and "sk-secret" not in str(keys)
    assert pickle.loads(pickle.dumps(keys)).get("gw") == "sk-secret-123"


def test_an_unreachable_scheduler_is_one_sentence_and_no_hang() -> None:
    started = time.monotonic()
    with pytest.raises(RemoteError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        asyncio.run(connect("dask://127.0.0.1:9", _credentials(), timeout_s=2))
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("bad", ["127.0.0.1:8786", "dask://nohost", "http://x:1"])
def test_an_executor_that_is_not_a_scheduler_address_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="dask://HOST:PORT"):
        scheduler_address(bad)
    assert scheduler_address("dask://10.0.0.5:8786") == "tcp://10.0.0.5:8786"


def _flowdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowdesk", *args], capture_output=True, text=True, timeout=180, input="",
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def test_flowdesk_run_on_a_cluster_records_the_run_and_which_worker_ran_each_item(cluster: Any, tmp_path: Path) -> None:
    write_workflow(_doubler(), tmp_path / "double.json")
    write_workflow(_mapping(5, child="double.json"), tmp_path / "batch.json")
    db = str(tmp_path / "library.db")
    executor = cluster.scheduler_address.replace("tcp://", "dask://")
    proc = _flowdesk("run", str(tmp_path / "batch.json"), "--executor", executor, "--db", db, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"all": [{"value": i * 2} for i in range(5)]}
    run_id = next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("run "))
    shown = _flowdesk("show", run_id, "--json", "--db", db)
    assert shown.returncode == 0, shown.stderr
    children = json.loads(shown.stdout)["children"]
    workers = set(cluster.scheduler_info["workers"])
    assert len(children) == 5 and all(child["worker"] in workers for child in children)
    assert {child["status"] for child in children} == {"succeeded"}


def test_flowdesk_run_with_an_unreachable_cluster_says_so_in_one_line(tmp_path: Path) -> None:
    write_workflow(_doubler(), tmp_path / "double.json")
    write_workflow(_mapping(2, child="double.json"), tmp_path / "batch.json")
    proc = _flowdesk(
        "run", str(tmp_path / "batch.json"), "--executor", "dask://127.0.0.1:9", "--db", str(tmp_path / "l.db")
    )
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_resume_after_the_coordinator_was_killed_never_sends_a_finished_item_again(
    cluster: Any, tmp_path: Path
) -> None:
    """SIGKILL `flowdesk run` mid-map; `flowdesk resume` on the cluster reuses every finished item."""
    slow = workflow(
        [
            node("item", "transform", expression="run.inputs.item"),
            node("wait", "delay", seconds=0.6),
            node("o", "output", name="value"),
        ],
        ["item.output -> wait.value", "wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    write_workflow(slow, tmp_path / "slow.json")
    write_workflow(_mapping(8, child="slow.json", concurrency=2), tmp_path / "batch.json")
    db = tmp_path / "library.db"
    executor = cluster.scheduler_address.replace("tcp://", "dask://")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdesk", "run", str(tmp_path / "batch.json"), "--executor", executor,
         "--db", str(db), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _finished_children(db) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    before = _finished_children(db)
    run_id = _top_run(db)
    resumed = _flowdesk("resume", run_id, "--executor", executor, "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"all": [{"value": i} for i in range(8)]}
    store = open_store(db)
    try:
        events = store.runs.events(run_id)
    finally:
        store.close()
    starts: dict[str, int] = {}
    for event in events:
        if event.type == "run_started" and event.run_id != run_id:
            starts[event.run_id] = starts.get(event.run_id, 0) + 1
    assert len(starts) == 8
    again = sorted(child for child, count in starts.items() if count > 1)
    reused = [e for e in events if e.type == "node_log" and "reused the finished run" in e.message]
    assert len(reused) >= before >= 3
    assert len(again) <= 8 - before  # only items that had not finished may run again (those cut mid-way)


def _finished_children(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            row = conn.execute("SELECT count(*) FROM run WHERE kind = 'child' AND status = 'succeeded'").fetchone()
        except sqlite3.OperationalError:  # the library is being created
            return 0
    return int(row[0])


def _top_run(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        (run_id,) = conn.execute("SELECT id FROM run WHERE parent_run_id IS NULL").fetchone()
    return str(run_id)


def test_a_worker_killed_mid_map_costs_a_retry_elsewhere_not_the_run(tmp_path: Path) -> None:
    """A worker process SIGKILLed while it runs items: Dask runs them again elsewhere; the run succeeds,
    and each of those items is on record with one more attempt and the reason (the worker was lost)."""
    slow = workflow(
        [
            node("item", "transform", expression="run.inputs.item"),
            node("wait", "delay", seconds=1.0),
            node("o", "output", name="value"),
        ],
        ["item.output -> wait.value", "wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    wf = _mapping(6, child="slow", concurrency=6)

    async def scenario(address: str) -> tuple[Any, list[Any], str, int]:
        remote = await connect(address, _credentials())
        client = remote._client
        bus = EventBus()
        sub = bus.subscribe(maxsize=100_000)
        try:
            handle = start_run(
                wf,
                default_registry(),
                EngineServices(workflows=WorkflowsByName({"slow": slow}), remote=remote),
                bus=bus,
            )
            for _ in range(200):
                busy = {w: keys for w, keys in (await client.processing()).items() if keys}
                if sum(len(keys) for keys in busy.values()) == 6:
                    break
                await asyncio.sleep(0.05)
            victim = next(iter(busy))
            pids = await client.run(os.getpid, workers=[victim])
            os.kill(pids[victim], signal.SIGKILL)
            return await asyncio.wait_for(handle.wait(), 60), sub.drain(), victim, len(busy[victim])
        finally:
            await remote.close()

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=3, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        result, events, victim, on_victim = asyncio.run(scenario(local.scheduler_address))
    assert result.status == "succeeded", result.error
    assert result.outputs == {"all": [{"value": i} for i in range(6)]}
    started = [e for e in events if e.type == "run_started" and e.run_id != result.run_id]
    again = [e for e in started if e.lost_workers]
    assert len(started) == 6 and len(again) == on_victim >= 1
    assert all(e.lost_workers == [victim] and e.worker != victim and e.attempt == 2 for e in again)
    assert all(e.attempt == 1 for e in started if not e.lost_workers)
    said = [e.message for e in events if e.type == "node_log" and e.node_id == "each"]
    assert sum(f"worker {victim} was lost" in line and "attempt 2" in line for line in said) == on_victim
    assert not [e for e in events if e.type == "node_retrying"]  # not a failure of the map node


def test_a_scheduler_that_dies_mid_run_fails_the_run_with_a_sentence_not_a_hang() -> None:
    slow = workflow(
        [
            node("item", "transform", expression="run.inputs.item"),
            node("wait", "delay", seconds=30),
            node("o", "output", name="value"),
        ],
        ["item.output -> wait.value", "wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    wf = _mapping(2, child="slow", concurrency=2)
    local = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None, host="127.0.0.1"
    )

    async def scenario() -> tuple[Any, float]:
        remote = await connect(local.scheduler_address, _credentials())
        try:
            handle = start_run(
                wf, default_registry(), EngineServices(workflows=WorkflowsByName({"slow": slow}), remote=remote)
            )
            for _ in range(200):
                if sum(len(k) for k in (await remote._client.processing()).values()) == 2:
                    break
                await asyncio.sleep(0.05)
            died = time.monotonic()
            await asyncio.to_thread(local.close)
            result = await asyncio.wait_for(handle.wait(), 120)
            return result, time.monotonic() - died
        finally:
            await remote.close()

    result, took = asyncio.run(scenario())
    assert result.status == "failed"
    assert "the Dask scheduler at tcp://127.0.0.1:" in result.error.message, result.error.message
    assert "went away" in result.error.message and "resume the run" in result.error.message
    assert took < 60
    # one sentence a person reads: the item once, and none of Dask's exception class names
    assert len(re.findall(r"item \d+", result.error.message)) == 1, result.error.message
    assert not re.search(r"[A-Z][a-z]+(Error|Exception)\b", result.error.message), result.error.message


def test_show_json_lists_the_lost_attempt_of_an_item_whose_worker_was_killed(tmp_path: Path) -> None:
    slow = workflow(
        [
            node("item", "transform", expression="run.inputs.item"),
            node("wait", "delay", seconds=1.5),
            node("o", "output", name="value"),
        ],
        ["item.output -> wait.value", "wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    write_workflow(slow, tmp_path / "slow.json")
    write_workflow(_mapping(4, child="slow.json", concurrency=4), tmp_path / "batch.json")
    db = str(tmp_path / "library.db")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None, host="127.0.0.1"
        ) as local,
        distributed.Client(local.scheduler_address) as client,
    ):
        executor = local.scheduler_address.replace("tcp://", "dask://")
        proc = subprocess.Popen(
            [sys.executable, "-m", "flowdesk", "run", str(tmp_path / "batch.json"), "--executor", executor,
             "--db", db, "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if sum(len(keys) for keys in busy.values()) == 4:
                break
            assert proc.poll() is None and time.monotonic() < deadline, "the items never ran on the cluster"
            time.sleep(0.05)
        victim = next(iter(busy))
        os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out) == {"all": [{"value": i} for i in range(4)]}
    run_id = next(line.split()[1] for line in err.splitlines() if line.startswith("run "))
    shown = _flowdesk("show", run_id, "--json", "--db", db)
    children = json.loads(shown.stdout)["children"]
    again = [child for child in children if child["attempt"] == 2]
    assert len(again) == len(busy[victim]) and {child["status"] for child in children} == {"succeeded"}
    for child in again:
        assert child["lost_attempts"] == [{"attempt": 1, "worker": victim, "reason": f"worker {victim} was lost"}]
        assert child["worker"] != victim


def test_pausing_a_run_holds_new_items_while_those_on_workers_finish(cluster: Any) -> None:
    """Items already on a worker run to their end (a worker's child cannot be paused from here);
    no new item is sent until the run is resumed, and then the run finishes with every item."""
    slow = workflow(
        [
            node("item", "transform", expression="run.inputs.item"),
            node("wait", "delay", seconds=0.8),
            node("o", "output", name="value"),
        ],
        ["item.output -> wait.value", "wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    wf = _mapping(6, child="slow", concurrency=2)

    async def scenario() -> tuple[Any, int, int, int]:
        remote = await connect(cluster.scheduler_address, _credentials())
        client = remote._client
        bus = EventBus()
        sub = bus.subscribe(maxsize=100_000)
        seen: list[Any] = []

        def finished() -> int:
            seen.extend(sub.drain())
            return sum(1 for e in seen if e.type == "run_finished" and "." in e.run_id)  # a child's id names its parent

        try:
            services = EngineServices(workflows=WorkflowsByName({"slow": slow}), remote=remote)
            handle = start_run(wf, default_registry(), services, bus=bus)
            for _ in range(400):
                if sum(len(keys) for keys in (await client.processing()).values()) == 2:
                    break
                await asyncio.sleep(0.02)
            handle.pause()
            for _ in range(400):  # the two items on the workers finish
                if finished() >= 2:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)  # long enough for two more items, were any sent
            held = sum(len(keys) for keys in (await client.processing()).values())
            during = finished()
            handle.resume()
            result = await asyncio.wait_for(handle.wait(), 60)
            return result, held, during, finished()
        finally:
            await remote.close()

    result, held, during, after = asyncio.run(scenario())
    assert held == 0 and during == 2
    assert result.status == "succeeded", result.error
    assert result.outputs == {"all": [{"value": i} for i in range(6)]} and after == 6


def test_a_worker_compiles_and_checks_a_map_child_once_and_keeps_no_key() -> None:
    """The per-item cost of a map on a worker: the child's workflow is read and checked, and its
    expressions compiled, once per worker, not per item; a task's keys are never kept after it."""
    child = _doubler()
    maker = PayloadMaker(_credentials(), 16, flowdesk.__version__)
    runtime = WorkerRuntime()

    async def scenario() -> list[dict[str, Any]]:
        try:
            jobs = [ChildJob(f"r.each.{i}", "r", "each", 1, child, {"item": i}) for i in range(5)]
            results = [await run_on_worker(maker.payload(job), runtime, lambda: False) for job in jobs]
            llm, owned = runtime.llm({}, "digest", SealedKeys({"gw": "sk-secret"}))
            assert owned and "sk-secret" not in repr(runtime.__dict__)
            await llm.aclose()
            return results
        finally:
            await runtime.aclose()

    results = asyncio.run(scenario())
    assert [r["outputs"] for r in results] == [{"value": i * 2} for i in range(5)]
    assert runtime.sandbox.compiled_count == 1  # one expression, compiled for the first item only

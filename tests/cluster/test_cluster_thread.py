"""The app's way to a Dask cluster: a connection test that says in one sentence what it found, and a
connection kept on a thread of its own (the app's loop is Qt's), whose map items run on the workers."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import distributed
import pytest

import flowdesk
from flowdesk.cluster.probe import check_cluster, check_cluster_blocking
from flowdesk.cluster.threaded import ClusterThread
from flowdesk.engine.bus import EventBus
from flowdesk.engine.remote import RemoteError
from flowdesk.engine.runner import run_workflow, start_run
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import default_registry
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import LLMSettings
from tests.support.silent_port import silent_port
from tests.support.wfbuild import WorkflowsByName, node, workflow


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None, host="127.0.0.1", protocol="tcp://"
    ) as local:
        yield local


def _dask(address: str) -> str:
    return address.replace("tcp://", "dask://")


def test_a_reachable_cluster_says_how_many_workers_and_their_flowdesk(cluster: Any) -> None:
    found = check_cluster_blocking(_dask(cluster.scheduler_address))
    assert found.ok and found.workers == 2
    assert found.sentence == (
        f"Reachable: 2 workers at {cluster.scheduler_address}, all with flowdesk {flowdesk.__version__}."
    )


def test_workers_with_another_flowdesk_are_named_as_a_mismatch(cluster: Any) -> None:
    found = check_cluster_blocking(cluster.scheduler_address, expected="0.0.1")
    assert not found.ok
    assert f"run another flowdesk (2 with {flowdesk.__version__} of 2); this app is 0.0.1" in found.sentence


def test_a_scheduler_without_workers_says_how_to_start_some() -> None:
    with distributed.LocalCluster(
        n_workers=0, processes=False, dashboard_address=None, host="127.0.0.1", protocol="tcp://"
    ) as empty:
        found = check_cluster_blocking(empty.scheduler_address, timeout_s=1)
    assert not found.ok and "has no workers (start some: dask worker tcp://127.0.0.1:" in found.sentence


def test_a_closed_port_is_unreachable_in_one_sentence_without_waiting_out_the_timeout() -> None:
    """Dask's client retries a refused port until its timeout: the test says at once that nothing listens."""
    started = time.monotonic()
    found = check_cluster_blocking("dask://127.0.0.1:9", timeout_s=60)
    assert not found.ok and found.sentence == (
        "Cannot reach a Dask scheduler at tcp://127.0.0.1:9 "
        "(nothing listens on port 9 of 127.0.0.1: the connection was refused)."
    )
    assert time.monotonic() - started < 30, "it did not wait out the minute it was given"


def test_a_port_that_takes_the_connection_and_never_answers_is_given_up_on_in_one_sentence() -> None:
    """Dask's own timeout covers reaching the port; a server that never answers held the test forever."""
    with silent_port() as port:
        found = check_cluster_blocking(f"dask://127.0.0.1:{port}", timeout_s=1)
    assert not found.ok and found.sentence == (
        f"Cannot reach a Dask scheduler at tcp://127.0.0.1:{port} (something takes connections there but did not "
        "answer as a Dask scheduler within 2 s)."
    )


def test_a_name_with_several_addresses_is_refused_when_every_one_refuses() -> None:
    """localhost is ::1 and 127.0.0.1 on most desktops: asyncio's one error for both is not a refusal."""
    found = check_cluster_blocking("dask://localhost:9", timeout_s=60)
    assert found.sentence == (
        "Cannot reach a Dask scheduler at tcp://localhost:9 (nothing listens on port 9 of localhost: the connection "
        "was refused)."
    )


def test_a_host_that_never_answers_the_connection_is_given_up_on_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong address behind a firewall drops the connection without a word: the test waits its timeout once
    (not once here and again in Dask's own attempt) and says so."""

    async def silent(*_args: Any, **_kwargs: Any) -> Any:
        await asyncio.sleep(3600)

    monkeypatch.setattr(asyncio, "open_connection", silent)
    found = asyncio.run(check_cluster("dask://127.0.0.1:9", timeout_s=0.5))
    assert (
        found.sentence
        == "Cannot reach a Dask scheduler at tcp://127.0.0.1:9 (nothing answered at 127.0.0.1:9 within 0.5 s)."
    )


def test_a_host_that_does_not_exist_is_named() -> None:
    found = check_cluster_blocking("dask://no-such-host.invalid:8786", timeout_s=5)
    assert not found.ok and found.sentence.endswith("(no host is called no-such-host.invalid).")


@pytest.mark.parametrize("bad", ["sched:8786", "local", ""])
def test_not_an_address_says_what_to_type(bad: str) -> None:
    found = asyncio.run(check_cluster(bad))
    assert not found.ok and "dask://HOST:PORT" in found.sentence


def _doubler() -> Any:
    return workflow(
        [node("twice", "transform", expression="run.inputs.item * 2"), node("o", "output", name="value")],
        ["twice.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    )


def _credentials() -> Credentials:
    return Credentials(LLMSettings(), environ={})


def test_map_items_sent_through_the_thread_run_on_the_workers(cluster: Any) -> None:
    batch = workflow(
        [
            node("src", "transform", expression="[0, 1, 2, 3]"),
            node("each", "map", workflow="double"),
            node("out", "output", name="all"),
        ],
        ["src.output -> each.items", "each.results -> out.value"],
    )

    async def scenario() -> tuple[Any, list[Any], set[str]]:
        link = await ClusterThread.open(_dask(cluster.scheduler_address), _credentials())
        caller = threading.get_ident()
        assert link._thread.ident != caller  # the client lives on its own thread, not the caller's
        bus = EventBus()
        sub = bus.subscribe(maxsize=10_000)
        try:
            services = EngineServices(workflows=WorkflowsByName({"double": _doubler()}), remote=link)
            result = await run_workflow(batch, default_registry(), services, bus=bus)
        finally:
            await link.close()
        return result, sub.drain(), {t.name for t in threading.enumerate()}

    result, events, threads = asyncio.run(scenario())
    assert result.status == "succeeded", result.error
    assert result.outputs == {"all": [{"value": i * 2} for i in range(4)]}
    workers = set(cluster.scheduler_info["workers"])
    started = [e for e in events if e.type == "run_started" and e.run_id != result.run_id]
    assert len(started) == 4 and all(e.worker in workers for e in started)
    assert "flowdesk-dask" not in threads  # closed: the thread is gone


def test_cancelling_the_run_cancels_the_items_on_the_cluster(cluster: Any) -> None:
    sleeper = workflow(
        [node("wait", "delay", seconds=30), node("o", "output", name="value")],
        ["wait.value -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    )
    batch = workflow(
        [node("src", "transform", expression="[0, 1]"), node("each", "map", workflow="sleeper", concurrency=2)],
        ["src.output -> each.items"],
    )

    async def scenario() -> tuple[str, float]:
        link = await ClusterThread.open(_dask(cluster.scheduler_address), _credentials())
        client = distributed.Client(cluster.scheduler_address, asynchronous=True)
        await client
        try:
            services = EngineServices(workflows=WorkflowsByName({"sleeper": sleeper}), remote=link)
            handle = start_run(batch, default_registry(), services)
            for _ in range(200):
                if sum(len(keys) for keys in (await client.processing()).values()) == 2:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the items never ran on the cluster")
            cancelled_at = time.monotonic()
            handle.cancel()
            result = await handle.wait()
            while sum(len(k) for k in (await client.processing()).values()) and time.monotonic() - cancelled_at < 5:
                await asyncio.sleep(0.05)
            return result.status, time.monotonic() - cancelled_at
        finally:
            await client.close()
            await link.close()

    status, took = asyncio.run(scenario())
    assert status == "cancelled" and took < 3


def test_an_unreachable_scheduler_fails_to_open_in_one_sentence_and_leaves_no_thread() -> None:
    async def scenario() -> None:
        await ClusterThread.open("dask://127.0.0.1:9", _credentials(), timeout_s=1)

    with pytest.raises(RemoteError, match=r"^cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        asyncio.run(scenario())
    assert "flowdesk-dask" not in {t.name for t in threading.enumerate()}


def test_without_the_dask_extra_the_test_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what an installation without the extra has
    found = asyncio.run(check_cluster("dask://127.0.0.1:8786"))
    assert not found.ok and found.sentence == "The dask extra is not installed: pip install 'flowdesk[dask]'."


def test_a_remote_node_sent_through_the_thread_runs_on_a_worker(cluster: Any) -> None:
    """The app's connection takes a ``remote: true`` node's attempt to a worker, as the CLI's does."""
    scored = workflow(
        [node("b", "transform", expression="run.inputs.k * 6 + 1"), node("o", "output", name="score")],
        ["b.output -> o.value"],
        inputs=[{"name": "k", "type": "integer"}],  # type: ignore[list-item]
    )
    scored = scored.model_copy(update={"nodes": [n.model_copy(update={"remote": n.id == "b"}) for n in scored.nodes]})

    async def scenario() -> tuple[Any, list[Any]]:
        link = await ClusterThread.open(_dask(cluster.scheduler_address), _credentials())
        bus = EventBus()
        sub = bus.subscribe(maxsize=10_000)
        try:
            services = EngineServices(remote=link)
            result = await run_workflow(scored, default_registry(), services, inputs={"k": 10}, bus=bus)
        finally:
            await link.close()
        return result, sub.drain()

    result, events = asyncio.run(scenario())
    assert result.status == "succeeded", result.error
    assert result.outputs == {"score": 61}
    done = next(e for e in events if e.type == "node_succeeded" and e.node_id == "b")
    assert done.worker in set(cluster.scheduler_info["workers"])

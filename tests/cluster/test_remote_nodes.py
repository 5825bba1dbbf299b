"""``remote: true`` nodes on a real Dask cluster (a LocalCluster of worker processes).

A node that says ``remote: true`` has its work (an llm call, a tool, an http call, a transform)
done by a worker while the run stays here: the outputs equal a local run's, the step says which
worker ran it, retries, timeouts and cancel behave as for a local node, and only the credential
the node uses travels with it. Without an executor the node runs here and the log says so once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest

from flowdesk.cluster.dask_children import connect
from flowdesk.cluster.payload import PayloadMaker, SealedKeys
from flowdesk.engine.bus import EventBus
from flowdesk.engine.remote import NodeJob
from flowdesk.engine.runner import run_workflow, start_run
from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import loads_workflow, write_workflow
from flowdesk.model.validation import validate
from flowdesk.model.workflow import Node
from flowdesk.nodes.registry import default_registry
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import CredentialInfo, LLMSettings
from tests.support.fake_llm_server import DEFAULT_TEXT, FakeLLMServer
from tests.support.wfbuild import node, workflow


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        yield local


def _credentials(keys: dict[str, str] | None = None, settings: LLMSettings | None = None) -> Credentials:
    return Credentials(settings or LLMSettings(), keys=SealedKeys(keys), environ={})  # type: ignore[arg-type]


def _remote(n: Node) -> Node:
    return n.model_copy(update={"remote": True})


def _scoring() -> Any:
    """b reads its input port, another node's output by name and a run input: all must reach the worker."""
    return workflow(
        [
            node("a", "transform", expression="[1, 2, 3]"),
            _remote(
                node("b", "transform", expression="(inputs.input | sum) * run.inputs.k + nodes.a.output.output[0]")
            ),
            node("o", "output", name="score"),
        ],
        ["a.output -> b.input", "b.output -> o.value"],
        inputs=[{"name": "k", "type": "integer"}],
    )  # type: ignore[list-item]


async def _run(
    wf: Any, address: str | None, inputs: dict[str, Any] | None = None, credentials: Credentials | None = None,
    services: dict[str, Any] | None = None,
) -> tuple[Any, list[Any]]:  # fmt: skip
    remote = await connect(address, credentials or _credentials()) if address else None
    bus = EventBus()
    sub = bus.subscribe(maxsize=100_000)
    try:
        result = await run_workflow(
            wf, default_registry(), EngineServices(remote=remote, **(services or {})), inputs or {}, bus=bus
        )
    finally:
        if remote is not None:
            await remote.close()
    return result, sub.drain()


def test_a_remote_node_runs_on_a_worker_with_the_outputs_of_a_local_run(cluster: Any) -> None:
    local, _ = asyncio.run(_run(_scoring(), None, {"k": 10}))
    remote, events = asyncio.run(_run(_scoring(), cluster.scheduler_address, {"k": 10}))
    assert remote.status == "succeeded", remote.error
    assert remote.outputs == local.outputs == {"score": 61}
    done = {e.node_id: e for e in events if e.type == "node_succeeded"}
    assert done["b"].worker in set(cluster.scheduler_info["workers"])
    assert done["a"].worker is None and done["o"].worker is None  # the other nodes ran here
    said = [e.message for e in events if e.type == "node_log" and e.node_id == "b"]
    assert any(line.startswith("ran on worker tcp://127.0.0.1:") for line in said)


def test_a_remote_llm_node_calls_the_model_from_the_worker_with_only_its_own_key(cluster: Any) -> None:
    server = FakeLLMServer().start()
    try:
        settings = (
            LLMSettings()
            .with_credential(CredentialInfo(name="gw", provider="openai", base_url=server.url + "/v1", hosts=("127.0.0.1",)))
            .with_credential(CredentialInfo(name="other", provider="openai", base_url=server.url + "/v1"))
        )  # fmt: skip
        credentials = _credentials({"gw": "sk-gw-key", "other": "sk-other-key"}, settings)
        ask = _remote(node("ask", "llm", model="openai:gpt-4o-mini", credential="gw", prompt="hello"))
        wf = workflow([ask, node("o", "output", name="text")], ["ask.text -> o.value"])
        result, events = asyncio.run(_run(wf, cluster.scheduler_address, credentials=credentials))
    finally:
        server.stop()
    assert result.status == "succeeded", result.error
    assert result.outputs == {"text": DEFAULT_TEXT}
    assert [r.headers.get("authorization") for r in server.requests] == ["Bearer sk-gw-key"]
    done = next(e for e in events if e.type == "node_succeeded" and e.node_id == "ask")
    assert done.worker in set(cluster.scheduler_info["workers"])
    assert done.usage.input_tokens == 11 and done.usage.output_tokens == 7  # the worker's usage counts here
    payload = PayloadMaker(credentials, 16, "x").node_payload(
        NodeJob(run_id="r", node=ask, inputs={}, attempt=1, iteration=0, scope={}, run_inputs={}, settings={})
    )
    assert payload.keys.names() == ["gw"]
    assert "sk-gw-key" not in repr(payload)


def test_a_remote_node_retries_as_a_local_one_and_fails_with_the_workers_sentence(cluster: Any) -> None:
    bad = _remote(
        node(
            "bad",
            "transform",
            expression="1 / 0",
            retry={"max_attempts": 2, "initial_delay_s": 0.01, "retry_on": ["any"]},
        )
    )
    result, events = asyncio.run(_run(workflow([bad]), cluster.scheduler_address))
    assert result.status == "failed"
    assert "division" in result.error.message.lower()
    retried = [e for e in events if e.type == "node_retrying"]
    failed = [e for e in events if e.type == "node_failed"]
    assert len(retried) == 1 and retried[0].worker in set(cluster.scheduler_info["workers"])
    assert len(failed) == 1 and failed[0].attempt == 2 and failed[0].worker is not None


def test_a_remote_node_past_its_timeout_stops_on_the_worker_too(cluster: Any) -> None:
    slow = _remote(node("slow", "delay", seconds=30, timeout_s=0.5))

    async def scenario() -> tuple[Any, int]:
        remote = await connect(cluster.scheduler_address, _credentials())
        try:
            result = await run_workflow(workflow([slow]), default_registry(), EngineServices(remote=remote))
            deadline = time.monotonic() + 1.5
            left = 1
            while left and time.monotonic() < deadline:
                left = sum(len(keys) for keys in (await remote._client.processing()).values())
                await asyncio.sleep(0.05)
            return result, left
        finally:
            await remote.close()

    result, left = asyncio.run(scenario())
    assert result.status == "failed" and "timed out after 0.5 s" in result.error.message
    assert left == 0


def test_cancelling_a_run_cancels_its_remote_node_on_the_cluster(cluster: Any) -> None:
    slow = _remote(node("slow", "delay", seconds=30))

    async def scenario() -> tuple[str, int]:
        remote = await connect(cluster.scheduler_address, _credentials())
        client = remote._client
        try:
            handle = start_run(workflow([slow]), default_registry(), EngineServices(remote=remote))
            for _ in range(200):
                if sum(len(keys) for keys in (await client.processing()).values()) == 1:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the node never ran on the cluster")
            handle.cancel()
            result = await handle.wait()
            deadline = time.monotonic() + 1.5
            left = 1
            while left and time.monotonic() < deadline:
                left = sum(len(keys) for keys in (await client.processing()).values())
                await asyncio.sleep(0.05)
            return result.status, left
        finally:
            await remote.close()

    status, left = asyncio.run(scenario())
    assert status == "cancelled" and left == 0


def test_without_an_executor_a_remote_node_runs_here_and_the_log_says_so_once() -> None:
    looped = workflow(
        [_remote(node("one", "transform", expression="1")), _remote(node("two", "transform", expression="2"))],
        ["one.output -> two.input"],
    )
    result, events = asyncio.run(_run(looped, None))
    assert result.status == "succeeded"
    said = [e for e in events if e.type == "node_log" and "no cluster" in e.message]
    assert len(said) == 1 and "they run here" in said[0].message
    assert all(e.worker is None for e in events if e.type == "node_succeeded")


@pytest.mark.parametrize("kind", ["start", "output", "approval", "merge", "map", "note"])
def test_remote_is_refused_on_a_node_whose_work_is_the_run_itself(kind: str) -> None:
    config = {"output": {"name": "x"}, "map": {"workflow": "w.json"}}.get(kind, {})
    wf = workflow([_remote(node("n", kind, **config))])
    problems = [p for p in validate(wf, default_registry()) if p.node_id == "n" and "cluster" in p.message]
    assert len(problems) == 1 and problems[0].severity == "error"
    assert problems[0].message.startswith("Node 'n'") and "remote" in problems[0].message


def test_remote_is_kept_in_the_file_and_read_back(tmp_path: Path) -> None:
    write_workflow(_scoring(), tmp_path / "w.json")
    text = (tmp_path / "w.json").read_text()
    assert '"remote": true' in text
    assert loads_workflow(text, source="w.json").nodes[1].remote is True
    older = json.loads(text)
    del older["nodes"][1]["remote"]  # a file written before the option: its nodes run here
    assert loads_workflow(json.dumps(older), source="w.json").nodes[1].remote is False


def test_flowdesk_show_json_names_the_worker_of_a_remote_step(cluster: Any, tmp_path: Path) -> None:
    write_workflow(_scoring(), tmp_path / "w.json")
    db = str(tmp_path / "library.db")
    executor = cluster.scheduler_address.replace("tcp://", "dask://")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = [sys.executable, "-m", "flowdesk", "run", str(tmp_path / "w.json"), "--executor", executor, "--db", db]
    proc = subprocess.run([*run, "--input", "k=2", "--quiet"], capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"score": 13}
    run_id = next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("run "))
    show = [sys.executable, "-m", "flowdesk", "show", run_id, "--json", "--db", db]
    shown = subprocess.run(show, capture_output=True, text=True, timeout=180, env=env)
    assert shown.returncode == 0, shown.stderr
    steps = {step["node_id"]: step for step in json.loads(shown.stdout)["steps"]}
    assert steps["b"]["worker"] in set(cluster.scheduler_info["workers"])
    assert steps["a"]["worker"] is None


def test_a_worker_lost_mid_attempt_is_one_more_attempt_of_the_node_not_a_failure() -> None:
    slow = _remote(node("slow", "delay", seconds=1.5))

    async def scenario(address: str) -> tuple[Any, list[Any], str]:
        remote = await connect(address, _credentials())
        client = remote._client
        bus = EventBus()
        sub = bus.subscribe(maxsize=10_000)
        try:
            handle = start_run(workflow([slow]), default_registry(), EngineServices(remote=remote), bus=bus)
            for _ in range(400):
                busy = [w for w, keys in (await client.processing()).items() if keys]
                if busy:
                    break
                await asyncio.sleep(0.02)
            victim = busy[0]
            os.kill((await client.run(os.getpid, workers=[victim]))[victim], signal.SIGKILL)
            return await asyncio.wait_for(handle.wait(), 60), sub.drain(), victim
        finally:
            await remote.close()

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        result, events, victim = asyncio.run(scenario(local.scheduler_address))
    assert result.status == "succeeded", result.error
    retried = [e for e in events if e.type == "node_retrying"]
    assert [(e.attempt, e.worker, e.error.message) for e in retried] == [(1, victim, f"worker {victim} was lost")]
    assert [e.attempt for e in events if e.type == "node_started"] == [1, 2]
    done = next(e for e in events if e.type == "node_succeeded")
    assert done.attempt == 2 and done.worker not in (None, victim)

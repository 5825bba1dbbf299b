"""A worker's runtime (its HTTP client, providers, workflows read and expressions compiled) outlives
the connection that registered it. The app, the service and every `flowdesk run` connect on their
own: each connection used to replace the runtime on every worker, closing the HTTP client and the
providers under the children another coordinator was running there, and throwing away the caches
that make a map item cheap."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import distributed
import pytest

from flowdesk.cluster.dask_children import DaskChildren, connect
from flowdesk.cluster.payload import SealedKeys
from flowdesk.cluster.worker_runtime import PLUGIN_NAME
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import default_registry
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import LLMSettings
from tests.support.wfbuild import WorkflowsByName, node, workflow


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        yield local


def _runtimes(dask_worker: Any) -> tuple[int, int]:
    """On a worker: which runtime it has, and how many expressions that runtime compiled."""
    runtime = dask_worker.plugins[PLUGIN_NAME].runtime
    return id(runtime), runtime.sandbox.compiled_count


async def _map_on(remote: DaskChildren) -> Any:
    child = workflow(
        [node("twice", "transform", expression="run.inputs.item * 2"), node("o", "output", name="value")],
        ["twice.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    )
    parent = workflow(
        [
            node("src", "transform", expression="[1, 2, 3, 4]"),
            node("each", "map", workflow="double", concurrency=4),
            node("out", "output", name="all"),
        ],
        ["src.output -> each.items", "each.results -> out.value"],
    )
    services = EngineServices(workflows=WorkflowsByName({"double": child}), remote=remote)
    return await run_workflow(parent, default_registry(), services)


def test_a_second_coordinator_connecting_keeps_the_workers_runtime(cluster: Any) -> None:
    credentials = Credentials(LLMSettings(), keys=SealedKeys(), environ={})  # type: ignore[arg-type]

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], Any]:
        first = await connect(cluster.scheduler_address, credentials)
        try:
            result = await _map_on(first)
            before = await first._client.run(_runtimes)
            second = await connect(cluster.scheduler_address, credentials)  # another coordinator
            try:
                after = await second._client.run(_runtimes)
            finally:
                await second.close()
        finally:
            await first.close()
        return before, after, result

    before, after, result = asyncio.run(scenario())
    assert result.status == "succeeded", result.error
    assert result.outputs == {"all": [{"value": 2}, {"value": 4}, {"value": 6}, {"value": 8}]}
    assert after == before  # the same runtime on each worker, its compiled expressions still there

"""Each run's files folder is what its work on the cluster may read, whoever opened the connection.

The app keeps one connection per scheduler for all the runs that use it, and each run has its own
files folder (chosen when F5 asks for the inputs, or none: file access off). A run's remote nodes
and map items must get that run's folder: found in the app, a ``remote: true`` file_read on a
cluster failed with "file access is off for this run" although the run had a folder, since the
folder was the connection's (none). The reverse would be worse: a run without file access reading
the folder another run had been given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest

from flowdesk.cluster.dask_children import connect
from flowdesk.cluster.payload import SealedKeys
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import default_registry
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import LLMSettings
from tests.support.wfbuild import WorkflowsByName, node, workflow


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        yield local


def _reader() -> Any:
    """A remote file_read, and a map whose item reads the same file on a worker."""
    child = workflow(
        [
            node("read", "tool", tool="file_read", args={"path": "{{ run.inputs.item }}"}),
            node("o", "output", name="text"),
        ],
        ["read.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    remote_read = node("read", "tool", tool="file_read", args={"path": "note.txt"}).model_copy(update={"remote": True})
    parent = workflow(
        [
            remote_read,
            node("names", "transform", expression='["note.txt"]'),
            node("each", "map", workflow="reader"),
            node("direct", "output", name="direct"),
            node("mapped", "output", name="mapped"),
        ],
        ["read.output -> direct.value", "names.output -> each.items", "each.results -> mapped.value"],
    )
    return parent, {"reader": child}


async def _two_runs_on_one_connection(address: str, folder: Path) -> tuple[Any, Any]:
    credentials = Credentials(LLMSettings(), keys=SealedKeys({}), environ={})  # type: ignore[arg-type]
    remote = await connect(address, credentials)
    parent, library = _reader()
    try:
        given = await run_workflow(
            parent,
            default_registry(),
            EngineServices(workflows=WorkflowsByName(library), remote=remote, files_root=folder),
        )
        without = await run_workflow(
            parent, default_registry(), EngineServices(workflows=WorkflowsByName(library), remote=remote)
        )
    finally:
        await remote.close()
    return given, without


def test_each_run_on_a_shared_connection_reads_its_own_files_folder_on_the_workers(
    cluster: Any, tmp_path: Path
) -> None:
    (tmp_path / "note.txt").write_text("from the run's folder\n")
    given, without = asyncio.run(_two_runs_on_one_connection(cluster.scheduler_address, tmp_path))
    assert given.status == "succeeded", given.error
    assert given.outputs == {"direct": "from the run's folder\n", "mapped": [{"text": "from the run's folder\n"}]}
    assert without.status == "failed"
    assert without.error is not None and "file access is off for this run" in without.error.message

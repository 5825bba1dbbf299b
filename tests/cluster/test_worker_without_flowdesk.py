"""A Dask cluster whose workers cannot import flowdesk (issue 20, point 4): the run is refused
before it starts, in one sentence that says what to install, and nothing hangs.

The workers are real worker processes of a LocalCluster; a preload module given to them hides
flowdesk there (``sys.modules['flowdesk'] = None``), as on a machine where it was never installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
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
from flowdesk.cluster.dask_children import connect
from flowdesk.cluster.payload import SealedKeys
from flowdesk.cluster.probe import check_cluster
from flowdesk.engine.remote import RemoteError
from flowdesk.model.fileformat import write_workflow
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import LLMSettings
from tests.support.wfbuild import node, workflow

HIDE_FLOWDESK = "import sys\nsys.modules['flowdesk'] = None  # as if it were not installed on this machine\n"
NO_HANG_S = 30.0
"""Far above the seconds the refusal takes, far below a hang (the run would wait forever)."""


@pytest.fixture(scope="module")
def bare_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    preload = tmp_path_factory.mktemp("preload") / "hide_flowdesk.py"
    preload.write_text(HIDE_FLOWDESK)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1",
        preload=[str(preload)],
    ) as local:  # fmt: skip
        yield local


def _credentials() -> Credentials:
    return Credentials(LLMSettings(), keys=SealedKeys(), environ={})  # type: ignore[arg-type]


def test_the_workers_really_lack_flowdesk(bare_cluster: Any) -> None:
    """What the other tests rely on: on the workers, importing flowdesk fails as when it is absent."""

    def importable() -> str:
        try:
            import flowdesk.cluster.worker_task  # noqa: F401
        except ImportError as exc:
            return type(exc).__name__
        return "imported"

    with distributed.Client(bare_cluster.scheduler_address, timeout=30) as client:
        assert set(client.run(importable).values()) == {"ModuleNotFoundError"}


def test_connecting_refuses_in_one_sentence_that_says_what_to_install(bare_cluster: Any) -> None:
    started = time.monotonic()
    with pytest.raises(RemoteError) as refused:
        asyncio.run(connect(bare_cluster.scheduler_address, _credentials(), timeout_s=10))
    said = str(refused.value)
    assert time.monotonic() - started < NO_HANG_S
    assert f"a worker of the Dask cluster at {bare_cluster.scheduler_address} cannot run flowdesk" in said
    assert f"install flowdesk {flowdesk.__version__} on every worker" in said
    assert "\n" not in said


def test_flowdesk_run_is_refused_before_the_run_starts(bare_cluster: Any, tmp_path: Path) -> None:
    child = workflow(
        [node("twice", "transform", expression="run.inputs.item * 2"), node("o", "output", name="value")],
        ["twice.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    )
    batch = workflow(
        [
            node("src", "transform", expression="[1, 2]"),
            node("each", "map", workflow="double.json"),
            node("out", "output", name="all"),
        ],
        ["src.output -> each.items", "each.results -> out.value"],
    )
    write_workflow(child, tmp_path / "double.json")
    write_workflow(batch, tmp_path / "batch.json")
    db = tmp_path / "library.db"
    executor = bare_cluster.scheduler_address.replace("tcp://", "dask://")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "flowdesk", "run", str(tmp_path / "batch.json"), "--executor", executor, "--db", str(db)],
        capture_output=True, text=True, timeout=180, input="", env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert time.monotonic() - started < NO_HANG_S + 20  # the CLI's own start-up on a loaded machine
    assert proc.returncode == 2, proc.stderr
    assert "cannot run flowdesk" in proc.stderr and f"install flowdesk {flowdesk.__version__}" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert _runs(db) == 0


def test_the_settings_connection_test_says_the_workers_cannot_run_flowdesk(bare_cluster: Any) -> None:
    address = bare_cluster.scheduler_address
    check = asyncio.run(check_cluster(address.replace("tcp://", "dask://"), timeout_s=10))
    assert not check.ok
    assert check.sentence.startswith(f"The workers at {address} cannot run flowdesk")
    assert check.sentence.endswith(f"install flowdesk {flowdesk.__version__} on each.")


def _runs(db: Path) -> int:
    """Runs recorded in the library (none when it was not even created)."""
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            (count,) = conn.execute("SELECT count(*) FROM run").fetchone()
        except sqlite3.OperationalError:  # no run table: nothing was ever recorded
            return 0
    return int(count)

"""`flowdesk run` honours the workflow's own executor setting; `--executor` overrides it, and
`--executor local` forces this process (a workflow saved for a cluster still runs on a laptop)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from support.dask_process import SCRIPT
from test_cli_commands import assert_no_traceback, flowdesk

from flowdesk.model.fileformat import write_workflow
from flowdesk.model.workflow import Settings
from tests.support.wfbuild import node, workflow

CLOSED = "dask://127.0.0.1:9"


def _batch(tmp_path: Path, executor: str | None) -> Path:
    child = workflow(
        [node("twice", "transform", expression="run.inputs.item * 2"), node("o", "output", name="value")],
        ["twice.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    )
    write_workflow(child, tmp_path / "double.json")
    parent = workflow(
        [
            node("src", "transform", expression="[1, 2]"),
            node("each", "map", workflow="double.json"),
            node("out", "output", name="all"),
        ],
        ["src.output -> each.items", "each.results -> out.value"],
    )
    parent = parent.model_copy(update={"settings": Settings(executor=executor)})
    write_workflow(parent, tmp_path / "batch.json")
    return tmp_path / "batch.json"


def test_the_workflows_cluster_is_used_and_an_unreachable_one_is_one_sentence(tmp_path: Path) -> None:
    proc = flowdesk("run", str(_batch(tmp_path, CLOSED)), "--db", str(tmp_path / "l.db"), "--quiet")
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    assert_no_traceback(proc)


def test_executor_local_forces_this_process(tmp_path: Path) -> None:
    batch = _batch(tmp_path, CLOSED)
    proc = flowdesk("run", str(batch), "--executor", "local", "--db", str(tmp_path / "l.db"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"all": [{"value": 2}, {"value": 4}]}


def test_a_workflow_that_says_local_runs_here(tmp_path: Path) -> None:
    proc = flowdesk("run", str(_batch(tmp_path, "local")), "--db", str(tmp_path / "l.db"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"all": [{"value": 2}, {"value": 4}]}


def test_a_bad_executor_flag_is_one_line_naming_the_flag(tmp_path: Path) -> None:
    proc = flowdesk("run", str(_batch(tmp_path, None)), "--executor", "sched:8786", "--db", str(tmp_path / "l.db"))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("flowdesk: --executor: an executor is 'local' or dask://HOST:PORT")
    assert_no_traceback(proc)


def test_a_scheduler_killed_mid_run_is_one_sentence_and_no_traceback(tmp_path: Path) -> None:
    """Seen by hand (issue 20): the run failed with its sentence, then Dask's client logged the traceback
    of its reconnect attempt, cancelled when the run closed it, under that sentence."""
    cluster = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert cluster.stdout is not None
        address = json.loads(cluster.stdout.readline())["scheduler"]
        slow = workflow(
            [node("wait", "delay", seconds=2), node("o", "output", name="value")],
            ["wait.value -> o.value"],
            inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
        )
        write_workflow(slow, tmp_path / "slow.json")
        batch = workflow(
            [node("src", "transform", expression="range(40) | list"), node("each", "map", workflow="slow.json"),
             node("out", "output", name="all")],
            ["src.output -> each.items", "each.results -> out.value"],
        )  # fmt: skip
        write_workflow(batch, tmp_path / "batch.json")
        run = subprocess.Popen(
            [sys.executable, "-m", "flowdesk", "--db", str(tmp_path / "l.db"), "run", str(tmp_path / "batch.json"),
             "--executor", address.replace("tcp://", "dask://")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert run.stderr is not None
        for line in run.stderr:  # the run's progress, until an item is on the cluster
            if "ran on worker" in line:
                break
        cluster.send_signal(signal.SIGKILL)
        out, err = run.communicate(timeout=90)
        err = err.split("flowdesk: run failed: ", 1)[-1]  # what is said from the failure on
    finally:
        cluster.kill()
        cluster.wait()
    assert run.returncode == 1, err
    assert "the Dask scheduler at tcp://127.0.0.1:" in err and "went away; resume the run when it is back" in err
    assert "Traceback" not in err and "Traceback" not in out, err
    assert len(err.strip().splitlines()) == 1, err  # the sentence, and nothing after it

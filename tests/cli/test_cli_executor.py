"""`flowdesk run` honours the workflow's own executor setting; `--executor` overrides it, and
`--executor local` forces this process (a workflow saved for a cluster still runs on a laptop)."""

from __future__ import annotations

import json
from pathlib import Path

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

"""`flowdesk run` of a workflow whose handler runs on failure: it exits with the failed run's code and
says the handler ran; `flowdesk show` links both runs; a handler that does not exist stops the run
before it starts, and `flowdesk validate` names it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.failing_flows import failing, handler
from test_cli_commands import assert_no_traceback, flowdesk

from flowdesk.model.fileformat import write_workflow


def _files(folder: Path, *, on_failure: str | None = "notify", handler_fails: bool = False) -> Path:
    write_workflow(handler(fail=handler_fails), folder / "notify.json")
    target = folder / "nightly.json"
    write_workflow(failing(on_failure=on_failure), target)
    return target


def _run_ids(stderr: str) -> tuple[str, str]:
    failed = re.search(r"^run ([0-9a-f]{16})$", stderr, re.MULTILINE)
    handled = re.search(r"the on-failure handler 'notify' ran as run ([0-9a-f]{16}): ", stderr)
    assert failed is not None and handled is not None, stderr
    return failed.group(1), handled.group(1)


def test_run_exits_with_the_failed_runs_code_and_says_the_handler_ran(tmp_path: Path) -> None:
    proc = flowdesk("run", str(_files(tmp_path)))
    assert proc.returncode == 1, proc.stderr
    assert "flowdesk: run failed: node 'Divide' (boom) failed" in proc.stderr
    failed, handled = _run_ids(proc.stderr)
    assert f"the on-failure handler 'notify' ran as run {handled}: succeeded" in proc.stderr
    assert_no_traceback(proc)

    shown = flowdesk("show", failed)
    assert shown.returncode == 0
    assert re.search(rf"^handled by run {handled} \(Notify the team, succeeded\)$", shown.stdout, re.MULTILINE)
    assert f"(on-failure handler of run {failed})" in flowdesk("show", handled).stdout
    assert f"(on-failure handler of {failed})" in flowdesk("runs").stdout
    assert json.loads(flowdesk("show", failed, "--json").stdout)["handled_by"] == [handled]


def test_a_failing_handler_is_reported_and_the_code_stays_the_failed_runs(tmp_path: Path) -> None:
    proc = flowdesk("run", str(_files(tmp_path, handler_fails=True)), "--json")
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["status"] == "failed"
    assert result["handled_by"]["status"] == "failed" and result["handled_by"]["workflow"] == "notify"
    assert "missing" in result["handled_by"]["message"]
    assert_no_traceback(proc)


def test_a_handler_that_does_not_exist_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    target = _files(tmp_path, on_failure="handlers/alert")
    proc = flowdesk("run", str(target))
    assert proc.returncode == 2
    missing = tmp_path / "handlers" / "alert.json"
    assert (
        f"The on-failure handler 'handlers/alert' (settings.on_failure) cannot run: there is no workflow file {missing}"
        in proc.stderr
    )
    assert "no runs recorded" in flowdesk("runs").stdout
    checked = flowdesk("validate", str(target), "--json")
    assert checked.returncode == 1
    [problem] = json.loads(checked.stdout)[0]["problems"]
    assert problem["code"] == "on-failure-handler" and problem["field"] == "settings.on_failure"
    assert flowdesk("validate", str(_files(tmp_path))).returncode == 0

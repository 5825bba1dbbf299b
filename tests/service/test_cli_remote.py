"""The commands that talk to the service, as a user meets them: real `flowdesk` subprocesses."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.service_flows import slow_chain
from support.service_thread import ServiceThread
from support.wfbuild import node, workflow

from flowdesk.model.fileformat import write_workflow
from flowdesk.store.store import open_store


def flowdesk(*args: str, token: str | None = "test-token", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("FLOWDESK_TOKEN", None)
    if token:
        env["FLOWDESK_TOKEN"] = token
    proc = subprocess.run([sys.executable, "-m", "flowdesk", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_the_token_is_made_once_in_a_private_file_and_the_environment_overrides_it(private_settings: Path) -> None:
    first = flowdesk("serve", "--print-token", token=None)
    assert first.returncode == 0 and len(first.stdout.strip()) >= 32
    path = private_settings.with_name("service-token")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert flowdesk("serve", "--print-token", token=None).stdout == first.stdout
    assert flowdesk("serve", "--print-token", token="mine").stdout.strip() == "mine"


def test_another_host_needs_expose() -> None:
    refused = flowdesk("serve", "--host", "0.0.0.0")
    assert refused.returncode == 2 and "--expose" in refused.stderr


def test_without_a_service_detach_says_how_to_start_one(library: Path) -> None:
    refused = flowdesk("run", "--detach", "slow-chain", "-i", "text=x")
    assert refused.returncode == 2 and "flowdesk serve" in refused.stderr


def test_detach_then_follow_a_run_of_a_library_workflow_and_of_a_file(service: ServiceThread, tmp_path: Path) -> None:
    submitted = flowdesk("run", "--detach", "slow-chain", "-i", "text=hi")
    assert submitted.returncode == 0, submitted.stderr
    run_id = submitted.stdout.strip()
    followed = flowdesk("follow", run_id)
    assert followed.returncode == 0, followed.stderr
    assert (
        '"text": "hi"' in followed.stdout
        and "second" in followed.stderr
        and f"run {run_id} succeeded" in followed.stderr
    )

    path = tmp_path / "mine.json"
    write_workflow(slow_chain(0.01, "wf_file", "from a file"), path)
    from_file = flowdesk("run", "--detach", str(path), "--input", "text=file")
    assert from_file.returncode == 0, from_file.stderr
    assert flowdesk("follow", from_file.stdout.strip(), "--json").returncode == 0
    assert "from-a-file" in flowdesk("list").stdout


def test_bad_inputs_are_refused_before_submitting(service: ServiceThread) -> None:
    refused = flowdesk("run", "--detach", "slow-chain")
    assert refused.returncode == 2 and "text" in refused.stderr


def test_cancel_pause_and_continue_act_through_the_service(service: ServiceThread, library: Path) -> None:
    store = open_store(library)
    store.workflows.save(slow_chain(3.0, "wf_long", "long"))
    store.close()
    run_id = flowdesk("run", "--detach", "long", "-i", "text=x").stdout.strip()
    with service.client() as api:
        while api.get(f"/api/runs/{run_id}").json()["status"] != "running":
            time.sleep(0.02)
    assert flowdesk("pause", run_id).stdout.strip() == f"run {run_id}: pausing"
    assert flowdesk("continue", run_id).stdout.strip() == f"run {run_id}: resuming"
    assert flowdesk("cancel", run_id).stdout.strip() == f"run {run_id}: cancelling"
    assert flowdesk("follow", run_id).returncode == 1
    again = flowdesk("cancel", run_id)
    assert again.returncode == 2 and "cancelled" in again.stderr


def test_a_run_of_another_process_is_not_acted_on(service: ServiceThread, library: Path) -> None:
    from flowdesk.engine.services import EngineServices
    from flowdesk.nodes.registry import default_registry
    from flowdesk.store.running import RunService

    store = open_store(library)  # this test process is the other flowdesk, alive, holding the run
    try:
        started = RunService(store, default_registry(), EngineServices()).record(slow_chain(), {"text": "x"})
        with store.db.write() as conn:
            conn.exec_driver_sql("UPDATE run SET status = 'running', owner = ? WHERE id = ?",
                                 (store.owner.token, started.run_id))  # fmt: skip
        refused = flowdesk("cancel", started.run_id)
    finally:
        store.close()
    assert refused.returncode == 2 and "another flowdesk process" in refused.stderr


def failing_workflow() -> object:
    wf = workflow([node("start", "start"), node("boom", "transform", expression="inputs.input.missing.deeper")],
                  ["start.inputs -> boom.input"])  # fmt: skip
    return wf.model_copy(update={"id": "wf_fails", "name": "fails"})


@pytest.mark.slow
def test_the_inbox_lists_retries_and_dismisses_failed_runs(service: ServiceThread, library: Path) -> None:
    store = open_store(library)
    store.workflows.save(failing_workflow())  # type: ignore[arg-type]
    store.close()
    run_id = flowdesk("run", "--detach", "fails").stdout.strip()
    assert flowdesk("follow", run_id).returncode == 1
    listed = flowdesk("inbox")
    assert run_id in listed.stdout and "failed" in listed.stdout and "api" in listed.stdout
    retried = flowdesk("inbox", "retry", run_id)
    assert retried.returncode == 0, retried.stderr
    new_id = retried.stdout.strip()
    assert flowdesk("follow", new_id).returncode == 1
    listed = flowdesk("inbox").stdout
    assert new_id in listed and run_id not in listed
    assert flowdesk("inbox", "dismiss", new_id).returncode == 0
    assert "empty" in flowdesk("inbox").stdout
    assert flowdesk("inbox", "retry").returncode == 2

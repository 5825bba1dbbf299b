"""The command line as a user meets it: real subprocesses, exit codes, messages without tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowdesk.paths import examples_dir

EXAMPLES = sorted(examples_dir().glob("*.json"))


def flowdesk(
    *args: str, cwd: Path | None = None, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "flowdesk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
        input=stdin if stdin is not None else "",
    )


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def test_every_command_has_help() -> None:
    for command in ([], ["validate"], ["run"], ["schema"], ["kinds"]):
        proc = flowdesk(*command, "--help")
        assert proc.returncode == 0 and "usage: flowdesk" in proc.stdout


def test_validate_examples_pass() -> None:
    proc = flowdesk("validate", *map(str, EXAMPLES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(": ok") == len(EXAMPLES)


def test_validate_reports_problems_with_exit_1_and_json(tmp_path: Path) -> None:
    data = json.loads((examples_dir() / "ask_llm.json").read_text())
    data["edges"][0]["target_port"] = "nope"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    proc = flowdesk("validate", str(bad))
    assert proc.returncode == 1 and "invalid" in proc.stdout and "nope" in proc.stdout
    proc = flowdesk("validate", "--json", str(bad))
    report = json.loads(proc.stdout)
    assert report[0]["valid"] is False and any(p["code"] for p in report[0]["problems"])


def test_validate_flags_each_mistake_in_templates_and_expressions_with_the_node_id(tmp_path: Path) -> None:
    """Issue 13.4: the mistakes the Problems dock shows while typing, from the command line."""
    data = json.loads((examples_dir() / "feed_discovery.json").read_text())
    templated = next(n for n in data["nodes"] if n["kind"] == "llm")
    transform = next(n for n in data["nodes"] if n["kind"] == "transform")
    wrong_port = "{{ nodes." + transform["id"] + ".output.nope }}"
    templated["config"]["prompt"] = "{{ run.inputs.topc }} {{ nodes.nowhere.output.text }} " + wrong_port
    transform["config"]["expression"] = "(inputs.input"
    bad = tmp_path / "mistakes.json"
    bad.write_text(json.dumps(data))
    proc = flowdesk("validate", str(bad))
    assert proc.returncode == 1, proc.stdout
    lines = proc.stdout.splitlines()

    def line_of(code_words: str) -> str:
        found = [line for line in lines if code_words in line]
        assert found, proc.stdout
        return found[0]

    assert f"[{templated['id']} config.prompt]" in line_of("reads run.inputs.topc, but 'topc' is not a run input")
    assert f"[{templated['id']} config.prompt]" in line_of("there is no node 'nowhere'")
    assert "has no output 'nope'" in line_of(f"reads nodes.{transform['id']}.output.nope")
    assert f"[{transform['id']} config.expression]" in line_of(
        "column 14: the expression ends too early: ')' is missing"
    )
    report = json.loads(flowdesk("validate", "--json", str(bad)).stdout)
    codes = {(p["node_id"], p["code"]) for p in report[0]["problems"]}
    assert {(templated["id"], "undeclared-run-input"), (templated["id"], "unknown-node-reference"),
            (templated["id"], "unknown-port-reference"), (transform["id"], "source-syntax")} <= codes  # fmt: skip


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b'{\n  "format": "flowdesk.workflow",\n  oops\n}', ":3:"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "nested"),
        (json.dumps({"format": "flowdesk.workflow", "format_version": 99, "id": "x"}).encode(), "newer"),
    ],
)
def test_validate_bad_files_get_one_clear_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "wf.json"
    path.write_bytes(content)
    proc = flowdesk("validate", str(path))
    assert proc.returncode == 1
    assert_no_traceback(proc)
    assert expected in proc.stderr and str(path) in proc.stderr


def test_schema_and_kinds() -> None:
    schema = json.loads(flowdesk("schema").stdout)
    assert schema["title"] and "nodes" in schema["properties"]
    kinds = json.loads(flowdesk("kinds", "--json").stdout)
    assert {"llm", "map", "note"} <= {k["name"] for k in kinds}
    text = flowdesk("kinds", "switch").stdout
    assert "cases" in text and "outputs: a: any, b: any, default: any" in text
    assert flowdesk("kinds", "nope").returncode == 1


@pytest.mark.parametrize("name", ["ask_llm", "feed_discovery", "code_review_loop", "summarise_document"])
def test_examples_run_headless(name: str) -> None:
    proc = flowdesk("run", str(examples_dir() / f"{name}.json"))
    assert proc.returncode == 0, proc.stderr
    assert "run succeeded" in proc.stderr
    json.loads(proc.stdout)


def test_etl_example_reads_and_writes_inside_the_files_root(tmp_path: Path) -> None:
    shutil.copy(examples_dir() / "data" / "orders.json", tmp_path / "orders.json")
    proc = flowdesk("run", str(examples_dir() / "etl_orders.json"), "--files-root", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    report = json.loads((tmp_path / "orders_report.json").read_text())
    assert report == result["outputs"]["report"]
    assert report["revenue_by_customer"] == {"acme": 184.75, "globex": 134.99, "initech": 410.0}
    assert report["large_orders"] == ["o-1001", "o-1004"]
    without_root = flowdesk("run", str(examples_dir() / "etl_orders.json"))
    assert without_root.returncode == 2, without_root.stderr
    assert "uses file_read, which only works inside a folder you choose: give it with --files-root DIR" in (
        without_root.stderr
    )
    assert "retry" not in without_root.stderr  # refused before any node ran, not after four attempts


def test_approval_example_waits_without_a_terminal_and_runs_when_approved() -> None:
    path = str(examples_dir() / "parallel_summaries.json")
    waiting = flowdesk("run", path)
    assert waiting.returncode == 3 and "waiting for approval at approve" in waiting.stderr
    approved = flowdesk("run", path, "--approve", "all", "--json")
    assert approved.returncode == 0, approved.stderr
    digest = json.loads(approved.stdout)["outputs"]["digest"]
    assert len(digest["summaries"]) == 3 and all(isinstance(s, str) and s for s in digest["summaries"])
    rejected = flowdesk("run", path, "--reject", "approve", "--json")
    assert json.loads(rejected.stdout)["outputs"].keys() == {"rejected"}


def test_run_inputs_from_command_line_and_bad_inputs_exit_2(tmp_path: Path) -> None:
    path = str(examples_dir() / "ask_llm.json")
    ok = flowdesk("run", path, "--input", "question=Why test?", "--json", "--quiet")
    assert ok.returncode == 0 and "Why test?" not in ok.stderr
    bad = flowdesk("run", path, "--input", "nope=1")
    assert bad.returncode == 2 and "not an input" in bad.stderr
    assert flowdesk("run", str(tmp_path / "missing.json")).returncode == 2


def test_ctrl_c_cancels_the_run_cleanly_with_exit_130(tmp_path: Path) -> None:
    data = json.loads((examples_dir() / "ask_llm.json").read_text())
    for node in data["nodes"]:
        if node["kind"] == "llm":
            node["config"]["model"] = "offline:lorem?latency=30"
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps(data))
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdesk", "run", str(slow)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 20
    seen = ""
    while "answer started" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "cancelled" in seen + err
    assert "Traceback" not in err


def test_approval_is_asked_on_a_terminal(tmp_path: Path) -> None:
    """With a terminal on stdin, the run stops at the approval node and asks; 'y' approves it."""
    import pty

    primary, secondary = pty.openpty()
    path = str(examples_dir() / "parallel_summaries.json")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdesk", "run", path],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(secondary)
    try:
        os.write(primary, b"y\n")  # typed ahead; read once the question is asked
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(primary)
    assert proc.returncode == 0, err
    assert "Approve 'approve'? [y/n]" in err
    assert json.loads(out)["digest"]["summaries"] and "run succeeded" in err

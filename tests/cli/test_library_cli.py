"""The library commands as a user meets them: real `flowdesk` subprocesses on the examples.

Every test has its own library (the autouse fixture sets FLOWDESK_DB, which the subprocesses
inherit), so runs and workflows never leak between tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flowdesk.paths import examples_dir

EXAMPLES = examples_dir()


def flowdesk(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flowdesk", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or {**os.environ, "PYTHONUNBUFFERED": "1"},
        input=stdin,
    )
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    return proc


def ok(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = flowdesk(*args, **kwargs)
    assert proc.returncode == 0, f"flowdesk {' '.join(args)} -> {proc.returncode}\n{proc.stderr}"
    return proc


def run_id_of(proc: subprocess.CompletedProcess[str]) -> str:
    """The id `flowdesk run` (and resume, approve, rerun) announces on stderr: a line `run <id>`."""
    ids = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("run ") and len(line.split()) == 2]
    assert ids, proc.stderr
    return ids[0]


def example(name: str) -> str:
    return str(EXAMPLES / f"{name}.json")


def node_line(table: str, node: str) -> str:
    lines = [line for line in table.splitlines() if line.split()[:1] == [node]]
    assert lines, f"no row for {node} in\n{table}"
    return lines[0]


def test_every_library_command_has_help() -> None:
    for command in ("import", "export", "list", "history", "restore", "runs", "show", "resume", "approve", "rerun"):
        proc = ok(command, "--help")
        assert "usage: flowdesk" in proc.stdout and "--db" in proc.stdout


def test_import_list_run_by_slug_runs_show() -> None:
    first = ok("import", example("ask_llm"))
    assert first.stdout.strip() == "imported 'Ask an LLM' as ask-an-llm (version 1)"
    again = ok("import", example("ask_llm"))
    assert "unchanged" in again.stdout and "version 1" in again.stdout

    listed = ok("list").stdout
    row = node_line(listed, "ask-an-llm")
    assert "Ask an LLM" in row and " 1 " in row and "draft" in row
    assert [w["slug"] for w in json.loads(ok("list", "--json").stdout)] == ["ask-an-llm"]
    assert "ask-an-llm" not in ok("list", "nothing-like-it").stdout

    run = ok("run", "ask-an-llm", "-i", "question=Why keep a journal?")
    run_id = run_id_of(run)
    outputs = json.loads(run.stdout)
    assert outputs["answer"]

    runs = ok("runs").stdout
    assert run_id in runs and "Ask an LLM" in runs and "succeeded" in runs
    assert [r["id"] for r in json.loads(ok("runs", "ask-an-llm", "--json").stdout)] == [run_id]
    assert "succeeded" in node_line(ok("list").stdout, "ask-an-llm")

    shown = ok("show", run_id).stdout
    assert "Ask an LLM (ask-an-llm, version 1)" in shown and "status     succeeded" in shown
    for node in ("start", "answer", "result"):
        assert "succeeded" in node_line(shown, node)
    assert "tokens" in shown and " in + " in shown

    full = json.loads(ok("show", run_id, "--json").stdout)
    assert full["run"]["id"] == run_id and full["run"]["status"] == "succeeded"
    assert full["inputs"] == {"question": "Why keep a journal?"}
    assert full["outputs"] == outputs
    steps = {s["node_id"]: s for s in full["steps"]}
    assert steps.keys() == {"start", "answer", "result"}
    assert steps["answer"]["outputs"]["text"] == outputs["answer"]
    assert steps["start"]["outputs"] == {"inputs": {"question": "Why keep a journal?"}}


def test_export_equals_the_imported_file(tmp_path: Path) -> None:
    for name in ("ask_llm", "code_review_loop", "etl_orders", "parallel_summaries", "summarise_document"):
        ok("import", example(name))
    for info in json.loads(ok("list", "--json").stdout):
        original = json.loads((EXAMPLES / f"{info['id']}.json").read_text())
        assert json.loads(ok("export", info["slug"]).stdout) == original
        target = tmp_path / f"{info['id']}.json"
        written = ok("export", info["id"], "-o", str(target))
        assert str(target) in written.stdout and json.loads(target.read_text()) == original


def test_history_and_restore_after_a_changed_import(tmp_path: Path) -> None:
    ok("import", example("ask_llm"))
    data = json.loads((EXAMPLES / "ask_llm.json").read_text())
    data["description"] = "A changed description."
    changed = tmp_path / "ask_llm_changed.json"
    changed.write_text(json.dumps(data))
    assert "as ask-an-llm (version 2)" in ok("import", str(changed)).stdout

    history = ok("history", "ask-an-llm").stdout
    assert "2 *" in history and "imported from ask_llm_changed.json" in history
    versions = json.loads(ok("history", "ask_llm", "--json").stdout)
    assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]

    assert json.loads(ok("export", "ask-an-llm").stdout)["description"] == "A changed description."
    assert json.loads(ok("export", "ask-an-llm", "--version", "1").stdout)["description"] != "A changed description."
    assert "restored version 1 of ask-an-llm as version 3" in ok("restore", "ask-an-llm", "1").stdout
    original = json.loads((EXAMPLES / "ask_llm.json").read_text())["description"]
    assert json.loads(ok("export", "ask-an-llm").stdout)["description"] == original
    assert "3 *" in ok("history", "ask-an-llm").stdout
    assert "as ask-an-llm-2 (version 1)" in ok("import", str(changed), "--as-new").stdout


def test_unknown_names_bad_files_and_a_corrupt_library_get_one_clear_line(tmp_path: Path) -> None:
    for args, expected in [
        (("run", "no-such-workflow"), "no workflow file or library workflow 'no-such-workflow'"),
        (("export", "no-such-workflow"), "there is no workflow 'no-such-workflow'"),
        (("history", "no-such-workflow"), "there is no workflow 'no-such-workflow'"),
        (("runs", "no-such-workflow"), "there is no workflow 'no-such-workflow'"),
        (("show", "0123456789abcdef"), "there is no run '0123456789abcdef'"),
        (("resume", "0123456789abcdef"), "there is no run '0123456789abcdef'"),
        (("approve", "0123456789abcdef", "approve"), "there is no run '0123456789abcdef'"),
        (("rerun", "0123456789abcdef", "--from", "answer"), "there is no run '0123456789abcdef'"),
        (("runs", "--status", "bogus"), "--status must be one of"),
        (("run", str(tmp_path / "missing.json")), "missing.json"),
    ]:
        proc = flowdesk(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("flowdesk: ") and expected in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr

    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "format": "flowdesk.workflow",\n  oops\n}')
    proc = flowdesk("import", str(broken))
    assert proc.returncode == 2 and str(broken) in proc.stderr and ":3:" in proc.stderr

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database, just some bytes\n" * 20)
    before = corrupt.read_bytes()
    for args in (
        ("--db", str(corrupt), "list"),
        ("list", "--db", str(corrupt)),
        ("--db", str(corrupt), "import", example("ask_llm")),
    ):
        proc = flowdesk(*args)
        assert proc.returncode == 2 and "not a flowdesk library" in proc.stderr and str(corrupt) in proc.stderr
    assert corrupt.read_bytes() == before

    run_id = run_id_of(ok("run", example("ask_llm")))
    proc = flowdesk("approve", run_id, "answer")
    assert proc.returncode == 2 and "not waiting" in proc.stderr
    proc = flowdesk("rerun", run_id, "--from", "nope")
    assert proc.returncode == 2 and "no node 'nope'" in proc.stderr
    proc = flowdesk("resume", run_id)
    assert proc.returncode == 2 and "succeeded" in proc.stderr


def test_db_option_before_or_after_the_command(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    ok("--db", str(other), "import", example("ask_llm"))
    assert "ask-an-llm" in ok("list", "--db", str(other)).stdout
    assert "ask-an-llm" in ok("--db", str(other), "list").stdout
    assert "no workflows yet" in ok("list").stdout  # the default (FLOWDESK_DB) library is another one


def test_idempotency_key_returns_the_earlier_run() -> None:
    first = ok("run", example("ask_llm"), "--idempotency-key", "nightly-2026-11-22", "--json")
    again = ok("run", example("ask_llm"), "--idempotency-key", "nightly-2026-11-22", "--json")
    assert json.loads(again.stdout)["run_id"] == json.loads(first.stdout)["run_id"]
    assert json.loads(again.stdout)["outputs"] == json.loads(first.stdout)["outputs"]
    assert "already used this idempotency key" in again.stderr
    plain = ok("run", example("ask_llm"), "--idempotency-key", "nightly-2026-11-22")
    assert json.loads(plain.stdout) == json.loads(first.stdout)["outputs"]
    assert len(json.loads(ok("runs", "--json").stdout)) == 1
    other = ok("run", example("ask_llm"), "--idempotency-key", "another", "--json")
    assert json.loads(other.stdout)["run_id"] != json.loads(first.stdout)["run_id"]


def test_a_waiting_run_is_finished_by_approve_or_reject() -> None:
    waiting = flowdesk("run", example("parallel_summaries"))
    assert waiting.returncode == 3
    run_id = run_id_of(waiting)
    assert f"`flowdesk approve {run_id} approve`" in waiting.stderr
    assert run_id in ok("runs", "--status", "waiting").stdout
    assert "waiting" in node_line(ok("show", run_id).stdout, "approve")

    approved = ok("approve", run_id, "approve", "--json")
    result = json.loads(approved.stdout)
    assert result["run_id"] == run_id and result["status"] == "succeeded"
    assert len(result["outputs"]["digest"]["summaries"]) == 3
    shown = ok("show", run_id[:8]).stdout  # a prefix is enough, though the map items' ids share it
    assert "succeeded" in node_line(shown, "approve") and "succeeded" in node_line(shown, "published")
    assert "3 sub-runs: 3 succeeded" in node_line(shown, "summaries")
    assert "continued" in shown

    second = run_id_of(flowdesk("run", example("parallel_summaries")))
    rejected = ok("approve", second, "approve", "--reject", "--comment", "not today", "--json")
    assert json.loads(rejected.stdout)["outputs"].keys() == {"rejected"}
    assert "not today" in ok("show", second).stdout


def test_stored_workflow_calls_another_stored_one() -> None:
    """parallel_summaries names its map's workflow by file name; in the library that is the workflow's id."""
    ok("import", example("summarise_document"))
    ok("import", example("parallel_summaries"))
    proc = ok("run", "parallel-summarisation", "--approve", "all", "--json")
    result = json.loads(proc.stdout)
    assert result["status"] == "succeeded" and len(result["outputs"]["digest"]["summaries"]) == 3
    shown = ok("show", result["run_id"]).stdout
    assert "with its 3 sub-run(s)" in shown


def test_rerun_from_a_node_reuses_what_is_upstream() -> None:
    first = run_id_of(ok("run", example("ask_llm")))
    rerun = ok("rerun", first, "--from", "answer")
    second = run_id_of(rerun)
    assert second != first and json.loads(rerun.stdout)["answer"]
    shown = ok("show", second).stdout
    assert f"re-run of {first} from 'answer'" in shown
    assert f"reused from run {first}" in node_line(shown, "start")
    assert "reused" not in node_line(shown, "answer") and "succeeded" in node_line(shown, "answer")
    assert "reused" not in node_line(shown, "result")
    runs = ok("runs").stdout
    assert first in runs and second in runs and "re-run of" in runs


def test_loop_passes_and_retries_show_per_pass(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "code_review_loop.json").read_text())
    for node in data["nodes"]:
        if node["id"] == "approved":
            node["config"]["expression"] = "false"  # never approved: the loop runs all its passes
    looping = tmp_path / "looping.json"
    looping.write_text(json.dumps(data))
    run_id = run_id_of(ok("run", str(looping)))
    shown = ok("show", run_id).stdout
    for label in ("review #1", "review #2", "review #3", "fix #3"):
        assert label in shown
    assert "skipped" in node_line(shown, "accept")
    assert "loop pass 2 (via " in shown  # the same words as the live log
    assert "note" not in [line.split()[0] for line in shown.splitlines() if line.strip()]


def test_library_run_with_files_root_and_its_rerun(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "data" / "orders.json", tmp_path / "orders.json")
    ok("import", example("etl_orders"))
    slug = json.loads(ok("list", "--json").stdout)[0]["slug"]
    proc = ok("run", slug, "--files-root", str(tmp_path), "--json")
    result = json.loads(proc.stdout)
    assert json.loads((tmp_path / "orders_report.json").read_text()) == result["outputs"]["report"]
    (tmp_path / "orders_report.json").unlink()
    ok("rerun", result["run_id"], "--from", "save")  # the files root was recorded with the run
    assert (tmp_path / "orders_report.json").exists()


def test_profiles_keep_libraries_side_by_side(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FLOWDESK_DB", "FLOWDESK_PROFILE")}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    ok("--profile", "dev", "import", example("ask_llm"), env=env)
    ok("import", example("code_review_loop"), "--profile", "prod", env=env)
    assert "ask-an-llm" in ok("--profile", "dev", "list", env=env).stdout
    assert "ask-an-llm" not in ok("list", "--profile", "prod", env=env).stdout
    assert "code-review-loop" in ok("list", "--profile", "prod", env=env).stdout
    assert "no workflows yet" in ok("list", env=env).stdout
    profiles = tmp_path / "data" / "flowdesk" / "profiles"
    assert (profiles / "dev" / "library.db").is_file() and (profiles / "prod" / "library.db").is_file()
    assert (tmp_path / "data" / "flowdesk" / "library.db").is_file()
    proc = flowdesk("--profile", "../escape", "list", env=env)
    assert proc.returncode == 2 and "profile name" in proc.stderr


def _slow_copy(tmp_path: Path, name: str, latency: float) -> Path:
    data = json.loads((EXAMPLES / f"{name}.json").read_text())
    for node in data["nodes"]:
        if node["kind"] == "llm":
            node["config"]["model"] = f"offline:lorem?latency={latency}"
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def _start_and_kill_when(args: list[str], marker: str, **popen: Any) -> str:
    """Start `flowdesk ARGS`, kill -9 it once ``marker`` shows on stderr; returns the run id it announced."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdesk", *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, **popen
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any(marker in line for line in seen) and time.monotonic() < deadline:
            line = proc.stderr.readline() if proc.stderr else ""
            if not line:
                break
            seen.append(line)
        proc.kill()
    finally:
        proc.wait(timeout=30)
    assert any(marker in line for line in seen), "".join(seen)
    return next(line.split()[1] for line in seen if line.startswith("run ") and len(line.split()) == 2)


def test_a_killed_run_shows_interrupted_and_resume_finishes_it(tmp_path: Path) -> None:
    slow = _slow_copy(tmp_path, "ask_llm", 2)
    run_id = _start_and_kill_when(["run", str(slow)], "answer started")
    assert run_id in ok("runs", "--status", "interrupted").stdout
    shown = ok("show", run_id).stdout
    assert "status     interrupted" in shown and "succeeded" in node_line(shown, "start")
    assert "succeeded" not in node_line(shown, "answer")
    resumed = ok("resume", run_id)
    assert run_id_of(resumed) == run_id and json.loads(resumed.stdout)["answer"]
    assert "start ok (reused)" in resumed.stderr
    full = json.loads(ok("show", run_id, "--json").stdout)
    assert full["run"]["status"] == "succeeded" and full["run"]["segment"] == 1
    assert [s["node_id"] for s in full["steps"]].count("start") == 1  # its recorded success was not run again
    assert "continued" in ok("show", run_id).stdout


def test_a_run_killed_at_the_terminal_prompt_still_waits_and_is_approved_later() -> None:
    """The wait is journaled when it begins, so the process dying at the prompt loses nothing:
    the run shows 'waiting', and `flowdesk approve` (no terminal needed) finishes it."""
    import pty

    primary, secondary = pty.openpty()
    try:
        run_id = _start_and_kill_when(["run", example("parallel_summaries")], "waiting for approval", stdin=secondary)
    finally:
        os.close(secondary)
        os.close(primary)
    assert "status     waiting" in ok("show", run_id).stdout
    assert "waiting" in node_line(ok("show", run_id).stdout, "approve")
    proc = flowdesk("resume", run_id)
    assert proc.returncode == 2 and f"flowdesk approve {run_id} approve" in proc.stderr
    proc = flowdesk("approve", run_id, "approve")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["digest"]["summaries"]
    shown = ok("show", run_id).stdout
    assert "succeeded" in node_line(shown, "approve") and "succeeded" in node_line(shown, "published")


def _fixable(tmp_path: Path, expression: str) -> Path:
    """start -> double (a transform) -> result; the same file name each time, so import makes a new version."""
    path = tmp_path / "fixable.json"
    document = {
        "format": "flowdesk.workflow", "format_version": 1, "id": "fixable", "name": "Fixable",
        "inputs": [{"name": "n", "type": "integer", "default": 21, "required": False}],
        "nodes": [
            {"id": "start", "kind": "start"},
            {"id": "double", "kind": "transform", "config": {"expression": expression}},
            {"id": "result", "kind": "output", "config": {"name": "answer"}},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "inputs", "target": "double", "target_port": "input"},
            {"id": "e2", "source": "double", "source_port": "output", "target": "result", "target_port": "value"},
        ],
    }  # fmt: skip
    path.write_text(json.dumps(document))
    return path


def test_rerun_after_a_fix_runs_the_fixed_version(tmp_path: Path) -> None:
    ok("import", str(_fixable(tmp_path, "inputs.input.m * 2")))
    failed = flowdesk("run", "fixable")
    assert failed.returncode == 1 and "'m'" in failed.stderr
    first = run_id_of(failed)
    ok("import", str(_fixable(tmp_path, "inputs.input.n * 2")))  # the fix, saved as version 2
    rerun = ok("rerun", first, "--from", "double")
    assert json.loads(rerun.stdout) == {"answer": 42}
    assert "on version 2: reused 1 node result(s) (start)" in rerun.stderr
    audit = flowdesk("rerun", first, "--from", "double", "--recorded")
    assert audit.returncode == 1  # the recorded version still has the mistake
    assert "'m'" in audit.stderr and "on the recorded version" in audit.stderr


def test_rerun_of_a_version_needing_a_new_input_says_so(tmp_path: Path) -> None:
    ok("import", str(_fixable(tmp_path, "inputs.input.n * 2")))
    first = run_id_of(ok("run", "fixable"))
    document = json.loads((tmp_path / "fixable.json").read_text())
    document["inputs"].append({"name": "factor", "type": "integer"})  # required, no default
    (tmp_path / "fixable.json").write_text(json.dumps(document))
    ok("import", str(tmp_path / "fixable.json"))
    proc = flowdesk("rerun", first, "--from", "double")
    assert proc.returncode == 2, proc.stderr
    assert "input 'factor' is required" in proc.stderr and "internal error" not in proc.stderr

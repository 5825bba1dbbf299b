"""A breakpoint saved in a workflow file never hangs a headless `flowdesk run`: it is passed unless
--breakpoints asks to stop there; then a terminal is asked, and without one the run says how to go on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_cli_commands import assert_no_traceback, flowdesk

from flowdesk.paths import examples_dir


def _with_breakpoint(tmp_path: Path) -> tuple[str, str]:
    data = json.loads((examples_dir() / "ask_llm.json").read_text(encoding="utf-8"))
    llm = next(node for node in data["nodes"] if node["kind"] == "llm")
    llm["breakpoint"] = True
    path = tmp_path / "with_breakpoint.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path), llm["id"]


def test_a_headless_run_passes_a_saved_breakpoint(tmp_path: Path) -> None:
    path, _ = _with_breakpoint(tmp_path)
    proc = flowdesk("run", path, "-i", "question=Why?", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "passing the workflow's breakpoints (--breakpoints stops at them)" in proc.stderr
    assert "run paused" not in proc.stderr and json.loads(proc.stdout)
    assert_no_traceback(proc)


def test_with_breakpoints_and_no_terminal_the_run_says_how_to_continue(tmp_path: Path) -> None:
    path, node_id = _with_breakpoint(tmp_path)
    proc = flowdesk("run", path, "-i", "question=Why?", "--breakpoints", timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert f"stopped at the breakpoint before '{node_id}' and there is no terminal to continue it here" in proc.stderr
    assert "finish it with `flowdesk resume " in proc.stderr
    assert_no_traceback(proc)


def test_with_breakpoints_at_a_terminal_the_run_stops_and_continues(tmp_path: Path) -> None:
    import pty

    path, node_id = _with_breakpoint(tmp_path)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdesk", "run", path, "-i", "question=Why?", "--breakpoints"],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(secondary)
    try:
        os.write(primary, b"c\n")  # typed ahead; read once the run stops
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(primary)
    assert proc.returncode == 0, err
    assert f"Stopped before '{node_id}'. [c]ontinue, [s]tep or [q]uit?" in err
    assert json.loads(out)

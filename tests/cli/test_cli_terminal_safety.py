"""What a workflow file or a server says reaches the terminal escaped and cut: no ESC sequence,
BEL or C1 control from a stranger's workflow acts on the terminal, no lone surrogate crashes the
output, and an error quoting a megabyte stays readable."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from test_cli_commands import assert_no_traceback, flowdesk

from flowdesk.cli.live import report_result
from flowdesk.engine.events import Usage
from flowdesk.engine.results import RunResult
from flowdesk.nodes.context import NodeFailure
from flowdesk.nodes.tools import json_pick

ESC_TITLE = "\x1b]0;owned\x07"


def _file(tmp_path: Path, nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> str:
    data = {
        "format": "flowdesk.workflow",
        "format_version": 1,
        "id": "evil",
        "name": f"evil {ESC_TITLE}\x9b31m",
        "nodes": nodes,
        "edges": edges,
    }
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]


def test_control_characters_from_a_workflow_are_escaped_on_the_terminal(tmp_path: Path) -> None:
    nodes = [
        {"id": "make", "kind": "transform", "config": {"expression": "'\\u001b[2J\\u009b1m' ~ 'x'"}},
        {"id": "out", "kind": "output", "config": {"name": "value"}},
        {"id": "bad", "kind": "transform", "config": {"expression": "'\u001b[31m\u0007' ~ nope"}},
    ]
    edges = [{"id": "e1", "source": "make", "source_port": "output", "target": "out", "target_port": "value"}]
    proc = flowdesk("run", _file(tmp_path, nodes, edges), timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert _raw_controls(proc.stderr) == [] and _raw_controls(proc.stdout) == []
    assert "\\x1b]0;owned\\x07" in proc.stderr  # shown, harmless
    assert "\\x1b[31m\\x07" in proc.stderr
    assert "\\x1b[2J" in proc.stderr or "\\u001b[2J" in proc.stderr  # the value, shown escaped
    assert_no_traceback(proc)


def test_a_lone_surrogate_in_an_output_is_written_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, like a real UTF-8 terminal
    monkeypatch.setattr(sys, "stdout", stdout)
    result = RunResult(
        run_id="r", status="succeeded", outputs={"value": "a\ud800b\x9b"}, error=None, duration_s=0.0,
        usage=Usage(), node_status={}, node_outputs={}, iterations={}, waiting=[],
    )  # fmt: skip
    report_result(result, as_json=False)
    stdout.flush()
    written = stdout.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    assert json.loads(written) == {"value": "a\ud800b\x9b"}
    assert "\\ud800" in written and "\x9b" not in written


def test_an_error_quoting_a_megabyte_is_cut_to_a_readable_length() -> None:
    huge = "k" * 1_000_000
    try:
        json_pick({"a": 1}, huge)
    except NodeFailure as exc:
        message = str(exc)
    else:
        raise AssertionError("json_pick found a key that is not there")
    assert len(message) < 300 and message.startswith("json_pick: nothing at 'kkkk")


def test_a_stored_workflows_name_is_escaped_in_tables(tmp_path: Path) -> None:
    nodes = [{"id": "make", "kind": "transform", "config": {"expression": "1"}}]
    path = _file(tmp_path, nodes, [])
    db = str(tmp_path / "lib.db")
    imported = flowdesk("import", path, "--db", db)
    assert imported.returncode == 0, imported.stderr
    listed = flowdesk("list", "--db", db)
    assert listed.returncode == 0, listed.stderr
    assert _raw_controls(listed.stdout) == [] and "\\x1b]0;owned\\x07" in listed.stdout

"""Which nodes of a workflow from elsewhere run code: what the app asks about before its first run, and what
`flowdesk import` says (issue 22.2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.wfbuild import node, workflow

from flowdesk.nodes.registry import builtin_registry
from flowdesk.providers.import_review import code_uses, code_uses_deep, review_import
from flowdesk.providers.settings import LLMSettings


def test_tools_that_reach_out_and_foreign_kinds_are_named_and_pure_tools_are_not() -> None:
    wf = workflow(
        [node("start", "start"), node("pick", "tool", tool="json_pick", args={}),
         node("save", "tool", tool="file_write", args={}), node("shell", "tool", tool="run_shell", args={}),
         node("odd", "acme_magic")],
        [],
    )  # fmt: skip
    lines = code_uses(wf, builtin_registry())
    assert lines == [
        "node 'save' calls the built-in tool 'file_write', which writes files in the folder you choose for the run",
        "node 'shell' calls the tool 'run_shell': Python code installed on this machine",
        "node 'odd' is of the node kind 'acme_magic', which no installed plugin provides (one would run its code)",
    ]


def test_a_workflow_of_expressions_only_has_nothing_to_ask() -> None:
    wf = workflow([node("start", "start"), node("t", "transform", expression="1 + 1")], [])
    assert review_import(wf, LLMSettings(), builtin_registry()).is_quiet


def test_flowdesk_import_says_which_nodes_run_code(tmp_path: Path) -> None:
    data = {"format": "flowdesk.workflow", "format_version": 1, "id": "writer", "name": "writer",
            "nodes": [{"id": "save", "kind": "tool", "config": {"tool": "file_write", "args": {}}}], "edges": []}  # fmt: skip
    path = tmp_path / "writer.json"
    path.write_text(json.dumps(data))
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "import", "--keep-invalid", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "node 'save' calls the built-in tool 'file_write'" in done.stdout and "runs code" in done.stdout


def test_workflows_it_calls_are_followed_once_each_even_in_a_ring() -> None:
    ring_a = workflow([node("go", "subworkflow", workflow="b.json"), node("save", "tool", tool="file_write")], [])
    ring_b = workflow([node("back", "map", workflow="a.json"), node("shell", "tool", tool="run_shell")], [])
    files = {"a.json": ring_a, "b.json": ring_b}
    lines = code_uses_deep(ring_a, builtin_registry(), files.get)
    assert lines == [
        "node 'save' calls the built-in tool 'file_write', which writes files in the folder you choose for the run",
        "via the workflow it calls, 'b.json': node 'shell' calls the tool 'run_shell': Python code installed on "
        "this machine",
        "via the workflow it calls, 'a.json': node 'save' calls the built-in tool 'file_write', which writes files "
        "in the folder you choose for the run",
    ]

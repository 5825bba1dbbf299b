"""Tools against hostile files and patterns: FIFOs, sockets and devices refused, a folder swapped
for a link mid-open, a catastrophic regex, and a tool thread stuck in a blocking call."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from flowdesk.nodes.context import NodeFailure
from flowdesk.nodes.tool_files import file_read, file_write
from flowdesk.nodes.tools import ToolContext, builtin_tools

WAIT_S = 10.0
"""How long a call may take before the test calls it stuck (a generous wall-clock guard, not a timing)."""


def _call_guarded(fn: Any, **kwargs: Any) -> tuple[str, Any]:
    """Call ``fn`` in a daemon thread; ("value"|"failure", ...) or a test failure if it is stuck."""
    box: list[tuple[str, Any]] = []

    def work() -> None:
        try:
            box.append(("value", fn(**kwargs)))
        except NodeFailure as exc:
            box.append(("failure", str(exc)))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(WAIT_S)
    assert box, f"{fn.__name__}({kwargs}) was still running after {WAIT_S} s"
    return box[0]


def _unblock_fifo(fifo: Path) -> None:
    """Open the FIFO's other end (non-blocking) so an old reader stuck on it can finish."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_file_read_refuses_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    try:
        kind, message = _call_guarded(file_read, path="pipe", context=ToolContext(files_root=tmp_path))
    finally:
        _unblock_fifo(fifo)
    assert (kind, message) == (
        "failure",
        "file_read: 'pipe' is a FIFO (named pipe), not a regular file; only files can be read or written",
    )


def test_file_write_refuses_a_fifo_and_leaves_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    kind, message = _call_guarded(file_write, path="pipe", content="x", context=ToolContext(files_root=tmp_path))
    assert kind == "failure" and "is a FIFO (named pipe), not a regular file" in message
    assert (tmp_path / "pipe").is_fifo()


def test_file_read_refuses_a_socket_and_a_device(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        kind, message = _call_guarded(file_read, path="sock", context=ToolContext(files_root=tmp_path))
    finally:
        server.close()
    assert kind == "failure" and "'sock' is a socket, not a regular file" in message
    kind, message = _call_guarded(file_read, path="null", context=ToolContext(files_root=Path("/dev")))
    assert kind == "failure" and "'null' is a device, not a regular file" in message


def _swapper(root: Path, outside: Path, stop: threading.Event) -> None:
    """Keep replacing the folder ``root/sub`` by a link to ``outside`` and back."""
    sub, away = root / "sub", root / "sub_away"
    while not stop.is_set():
        try:
            os.rename(sub, away)
            os.symlink(outside, sub)
            os.unlink(sub)
            os.rename(away, sub)
        except OSError:
            pass


def test_a_folder_swapped_for_a_link_mid_open_never_leads_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "f.txt").write_text("inside", encoding="utf-8")
    (outside / "f.txt").write_text("secret", encoding="utf-8")
    context = ToolContext(files_root=root)
    stop = threading.Event()
    swapper = threading.Thread(target=_swapper, args=(root, outside, stop), daemon=True)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    swapper.start()
    reads: set[str] = set()
    try:
        for index in range(3000):
            try:
                reads.add(file_read("sub/f.txt", context=context))
            except NodeFailure:
                pass
            try:
                file_write("sub/w.txt", f"w{index}", context=context)
            except NodeFailure:
                pass
    finally:
        stop.set()
        swapper.join()
        sys.setswitchinterval(old_interval)
    assert "secret" not in reads
    assert sorted(os.listdir(outside)) == ["f.txt"], "a write landed outside the files folder"
    assert (outside / "f.txt").read_text(encoding="utf-8") == "secret"


REDOS_SCRIPT = textwrap.dedent(
    """
    from flowdesk.nodes.tools import regex_extract
    print(regex_extract("a" * 40 + "!", "(a+)+$"), regex_extract("x aaab", "(a+)+b", group=1))
    """
)


def test_regex_extract_is_linear_on_a_catastrophic_pattern() -> None:
    # In a child process: Python's re holds the GIL through the whole search, so no thread could stop it.
    try:
        done = subprocess.run([sys.executable, "-c", REDOS_SCRIPT], capture_output=True, text=True, timeout=WAIT_S * 3)
    except subprocess.TimeoutExpired:
        pytest.fail(f"(a+)+$ on 41 characters was still searching after {WAIT_S * 3} s")
    assert done.stdout.split() == ["None", "aaa"], done.stderr


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)a", r"(?<=x)a"])
def test_regex_extract_refuses_patterns_that_need_backtracking(pattern: str) -> None:
    tool = builtin_tools().get("regex_extract")
    assert tool is not None
    kind, message = _call_guarded(tool.fn, text="xaa", pattern=pattern)
    assert kind == "failure" and "backreferences and lookahead/lookbehind are not supported" in message


STUCK_TOOL_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    from support.wfbuild import catalog_with, node, workflow
    from flowdesk.engine.runner import run_workflow
    from flowdesk.engine.services import EngineServices
    from flowdesk.nodes.tools import Tool, ToolRegistry

    def wait_on_pipe(path: str) -> str:
        with open(path) as handle:  # blocks until a writer comes, which never happens
            return handle.read()

    tools = ToolRegistry([Tool.from_function(wait_on_pipe)])
    wf = workflow([node("t", "tool", tool="wait_on_pipe", args={"path": sys.argv[1]}, timeout_s=0.3)])
    result = asyncio.run(run_workflow(wf, catalog_with([]), EngineServices(tools=tools)))
    print(result.status, result.error.message if result.error else "")
    """
)


def test_a_tool_stuck_in_a_blocking_call_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    script = tmp_path / "stuck.py"
    script.write_text(STUCK_TOOL_SCRIPT, encoding="utf-8")
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, str(script), str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the process was still alive 30 s after its only node timed out")
    finally:
        _unblock_fifo(fifo)
    assert process.returncode == 0, err
    assert out.startswith("failed") and "timed out after 0.3 s" in out, out

"""Tools for the ``tool`` node: the registry, plugins, call_tool and each built-in."""

from __future__ import annotations

import asyncio
import os
import threading
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from flowdesk.nodes.context import NodeFailure
from flowdesk.nodes.tools import (
    MAX_TEXT_BYTES,
    Tool,
    ToolContext,
    ToolRegistry,
    builtin_tools,
    call_tool,
    default_tools,
)

BUILTINS = ["json_pick", "regex_extract", "text_split", "text_join", "file_read", "file_write"]


def call(name: str, files_root: Path | None = None, registry: ToolRegistry | None = None, **args: Any) -> Any:
    tool = (registry or builtin_tools()).get(name)
    assert tool is not None
    return asyncio.run(call_tool(tool, args, ToolContext(files_root=files_root)))


# --- registry and plugins ------------------------------------------------------------------------


def test_builtins_are_registered_with_descriptions() -> None:
    registry = builtin_tools()
    assert registry.names() == BUILTINS and len(registry) == len(BUILTINS)
    for tool in registry:
        assert tool.description and "\n" not in tool.description
    assert [t.name for t in registry if t.wants_context] == ["file_read", "file_write"]
    assert registry.get("nope") is None and "json_pick" in registry


def test_plugin_tool_is_found_through_entry_points() -> None:
    """Needs tests/plugin installed (pip install ./tests/plugin)."""
    registry = default_tools()
    assert registry.plugin_errors == []
    shout = registry.get("shout")
    assert shout is not None, "the example plugin is not installed: pip install ./tests/plugin"
    assert shout.description == "A tool: upper-cases its argument." and not shout.wants_context
    assert call("shout", registry=registry, text="hi") == "HI!"


def test_broken_plugins_are_recorded_not_raised() -> None:
    registry = builtin_tools()
    registry.load_plugins(
        [
            EntryPoint(name="missing", value="no_such_module_xyz:tool", group="flowdesk.tools"),
            EntryPoint(name="not_callable", value="os:sep", group="flowdesk.tools"),
            EntryPoint(name="json_pick", value="json:dumps", group="flowdesk.tools"),
            EntryPoint(name="dumps", value="json:dumps", group="flowdesk.tools"),
        ]
    )
    messages = [e.message for e in registry.plugin_errors]
    assert len(messages) == 3
    assert "ModuleNotFoundError" in messages[0]
    assert "expected a callable" in messages[1]
    assert "already registered" in messages[2]
    assert registry.plugin_errors[0].entry_point == "missing = no_such_module_xyz:tool"
    assert registry.names() == [*BUILTINS, "dumps"]


def test_duplicate_tools_need_replace() -> None:
    registry = builtin_tools()
    tool = Tool.from_function(len, name="json_pick")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(tool)
    registry.register(tool, replace=True)
    assert registry.get("json_pick") is tool


# --- call_tool -----------------------------------------------------------------------------------


def test_sync_tools_run_in_a_worker_thread_and_async_tools_are_awaited() -> None:
    def where() -> str:
        """Names the thread it ran in."""
        return threading.current_thread().name

    async def later(x: int, *, context: ToolContext) -> dict[str, Any]:
        """Awaits, then reports what it got."""
        await asyncio.sleep(0)
        context.log("later ran")
        return {"x": x, "root": str(context.files_root)}

    logs: list[str] = []
    ctx = ToolContext(files_root=Path("/data"), log=logs.append)
    sync_result = asyncio.run(call_tool(Tool.from_function(where), {}, ctx))
    assert sync_result != threading.current_thread().name
    later_tool = Tool.from_function(later)
    assert later_tool.wants_context
    assert asyncio.run(call_tool(later_tool, {"x": 3}, ctx)) == {"x": 3, "root": "/data"}
    assert logs == ["later ran"]


def test_bad_arguments_name_the_tool_and_the_parameter() -> None:
    with pytest.raises(NodeFailure, match="tool 'json_pick': missing argument 'path'"):
        call("json_pick", data={})
    with pytest.raises(NodeFailure, match=r"tool 'text_split': unknown argument 'sep' \(accepts: text, separator"):
        call("text_split", text="a", sep=",")
    with pytest.raises(NodeFailure, match="'context' is supplied by flowdesk"):
        call("file_read", path="x", context="mine")


def test_results_must_be_json() -> None:
    def odd() -> Any:
        """Returns something JSON can't hold."""
        return {1, 2}

    def tupled() -> Any:
        """Returns a tuple, which JSON writes as a list."""
        return (1, "a")

    ctx = ToolContext(files_root=None)
    with pytest.raises(NodeFailure, match="tool 'odd' returned a value that is not JSON") as info:
        asyncio.run(call_tool(Tool.from_function(odd), {}, ctx))
    assert info.value.error_class == "invalid_output"
    with pytest.raises(NodeFailure, match="not JSON"):
        asyncio.run(call_tool(Tool.from_function(lambda: float("nan"), name="nan"), {}, ctx))
    assert asyncio.run(call_tool(Tool.from_function(tupled), {}, ctx)) == [1, "a"]


def test_a_tool_raising_is_a_node_failure_naming_it() -> None:
    def boom() -> None:
        """Always fails."""
        raise KeyError("k")

    with pytest.raises(NodeFailure, match="tool 'boom' failed: KeyError") as info:
        asyncio.run(call_tool(Tool.from_function(boom), {}, ToolContext(files_root=None)))
    assert isinstance(info.value.__cause__, KeyError)


# --- json_pick, regex_extract, text_split, text_join ---------------------------------------------

DATA = {"items": [{"title": "first", "tags": ["a", "b"]}, {"title": "second"}], "odd key": {"x.y": 1}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("items[0].title", "first"),
        ("items[-1].title", "second"),
        ("items[0].tags[1]", "b"),
        ('["odd key"]["x.y"]', 1),
        ("items", DATA["items"]),
        ("", DATA),
    ],
)
def test_json_pick(path: str, expected: Any) -> None:
    assert call("json_pick", data=DATA, path=path) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("items[5].title", "nothing at 'items[5]'"),
        ("items[0].author", "nothing at 'items[0].author'"),
        ("items.title", "nothing at 'items.title'"),
        ("items[x]", "cannot read the path 'items[x]' at character 6"),
    ],
)
def test_json_pick_missing_paths_fail_naming_the_path(path: str, message: str) -> None:
    with pytest.raises(NodeFailure, match=message.replace("[", r"\[").replace("]", r"\]")):
        call("json_pick", data=DATA, path=path)


def test_regex_extract() -> None:
    text = "order 12 shipped, order 7 pending"
    assert call("regex_extract", text=text, pattern=r"order (\d+)") == "order 12"
    assert call("regex_extract", text=text, pattern=r"order (\d+)", group=1) == "12"
    assert call("regex_extract", text=text, pattern=r"order (?P<n>\d+)", group="n", all=True) == ["12", "7"]
    assert call("regex_extract", text=text, pattern=r"invoice") is None
    assert call("regex_extract", text=text, pattern=r"invoice", all=True) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"text": "x", "pattern": "a" * 1001}, "the limit is 1000"),
        ({"text": "x" * (MAX_TEXT_BYTES + 1), "pattern": "x"}, "over 10 MB"),
        ({"text": "x", "pattern": "("}, "bad pattern"),
        ({"text": "x", "pattern": "x", "group": 3}, "no group 3"),
    ],
)
def test_regex_extract_refusals(args: dict[str, Any], message: str) -> None:
    with pytest.raises(NodeFailure, match=message):
        call("regex_extract", **args)


def test_text_split_and_join() -> None:
    assert call("text_split", text="a\nb\nc") == ["a", "b", "c"]
    assert call("text_split", text="a,b,c", separator=",", max_parts=2) == ["a", "b,c"]
    assert call("text_split", text="a,b", separator=",", max_parts=1) == ["a,b"]
    with pytest.raises(NodeFailure, match="must not be empty"):
        call("text_split", text="a", separator="")
    with pytest.raises(NodeFailure, match="max_parts"):
        call("text_split", text="a", max_parts=0)
    assert call("text_join", items=["a", "b"]) == "a\nb"
    assert call("text_join", items=["a", 1, {"k": "é"}], separator=" | ") == 'a | 1 | {"k": "é"}'


# --- file_read, file_write -----------------------------------------------------------------------


def test_files_inside_the_root_are_written_atomically_and_read(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert call("file_write", files_root=tmp_path, path="sub/note.txt", content="héllo\n") == "sub/note.txt"
    assert (tmp_path / "sub" / "note.txt").read_text(encoding="utf-8") == "héllo\n"
    assert call("file_read", files_root=tmp_path, path="sub/note.txt") == "héllo\n"
    assert call("file_read", files_root=tmp_path, path="sub/../sub/./note.txt") == "héllo\n"
    assert call("file_write", files_root=tmp_path, path="sub/note.txt", content="v2") == "sub/note.txt"
    assert call("file_read", files_root=tmp_path, path=str(tmp_path / "sub" / "note.txt")) == "v2"
    assert sorted(os.listdir(tmp_path / "sub")) == ["note.txt"]  # no temp file left behind


def test_sync_tool_logs_reach_the_event_loop_thread(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []

    async def run() -> None:
        tool = builtin_tools().get("file_write")
        assert tool is not None
        ctx = ToolContext(files_root=tmp_path, log=lambda m: seen.append((m, threading.current_thread().name)))
        await call_tool(tool, {"path": "a.txt", "content": "abc"}, ctx)

    asyncio.run(run())
    assert seen == [("wrote 3 characters to a.txt", threading.current_thread().name)]


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "keep.txt").write_text("old", encoding="utf-8")

    def broken_replace(src: str, dst: str, **_dir_fds: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(NodeFailure, match="cannot write 'keep.txt': No space left"):
        call("file_write", files_root=tmp_path, path="keep.txt", content="new")
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["keep.txt"]


@pytest.mark.parametrize("tool", ["file_read", "file_write"])
@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "sub/../../x", "link_out/secret.txt", "link_file"])
def test_paths_escaping_the_root_are_refused(tmp_path: Path, tool: str, path: str) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("secret", encoding="utf-8")
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (root / "link_file").symlink_to(outside / "secret.txt")
    args = {"path": path} if tool == "file_read" else {"path": path, "content": "pwned"}
    with pytest.raises(NodeFailure, match=f"{tool}: .* is outside the files folder"):
        call(tool, files_root=root, **args)
    assert (outside / "secret.txt").read_text(encoding="utf-8") == "secret"
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("tool", ["file_read", "file_write"])
def test_file_tools_are_off_without_a_files_root(tool: str) -> None:
    args = {"path": "a.txt"} if tool == "file_read" else {"path": "a.txt", "content": ""}
    with pytest.raises(NodeFailure, match="file access is off"):
        call(tool, files_root=None, **args)


def test_file_read_limits_and_errors(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(MAX_TEXT_BYTES + 1)
    (tmp_path / "bin.dat").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "dir").mkdir()
    for path, message in [
        ("big.txt", "the limit is 10 MB"),
        ("bin.dat", "not UTF-8"),
        ("missing.txt", "cannot read 'missing.txt'"),
        ("dir", "is a folder"),
        ("", "not a usable path"),
    ]:
        with pytest.raises(NodeFailure, match=message):
            call("file_read", files_root=tmp_path, path=path)
    with pytest.raises(NodeFailure, match="folder of 'nowhere/a.txt' does not exist"):
        call("file_write", files_root=tmp_path, path="nowhere/a.txt", content="x")

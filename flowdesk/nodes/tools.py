"""Tools: Python callables the ``tool`` node calls, built in or published by plugins.

A plugin publishes a tool with an entry point in the ``flowdesk.tools`` group whose object is a
callable (``shout = my_package:shout``); the entry point's name is the tool's name and the
callable's docstring is its description. A tool that wants to touch files takes a keyword
parameter named ``context`` and gets a :class:`ToolContext`, which is the only way to reach the
folder the user allowed (``files_root``); the built-in file tools refuse every path outside it.

A broken plugin never stops flowdesk: its error is logged and kept in ``plugin_errors``.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from flowdesk.nodes.context import NodeFailure
from flowdesk.nodes.registry import PluginError
from flowdesk.nodes.tool_context import MAX_MESSAGE_CHARS, ToolContext, cut_message, quote
from flowdesk.nodes.tool_files import MAX_FILE_BYTES, file_read, file_write

__all__ = ["Tool", "ToolContext", "ToolRegistry", "builtin_tools", "call_tool", "default_tools"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "flowdesk.tools"
MAX_PATTERN_CHARS = 1_000
MAX_TEXT_BYTES = MAX_FILE_BYTES
"""Cap on text a regex scans and on a file read: keeps a tool from stalling or flooding a run."""


@dataclass(frozen=True)
class Tool:
    """A registered callable; ``wants_context`` when it has a keyword parameter named ``context``."""

    name: str
    fn: Callable[..., Any]
    description: str
    wants_context: bool

    @classmethod
    def from_function(cls, fn: Callable[..., Any], name: str | None = None) -> Tool:
        """A tool for ``fn``, named after it unless told otherwise, described by its docstring."""
        return cls(
            name=name or fn.__name__,
            fn=fn,
            description=inspect.cleandoc(fn.__doc__ or "").split("\n\n")[0].replace("\n", " "),
            wants_context=_takes_context(fn),
        )


def _takes_context(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` accepts ``context`` by keyword (how a tool asks for a ToolContext)."""
    try:
        param = inspect.signature(fn).parameters.get("context")
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    return param is not None and param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD)


class ToolRegistry:
    """Tools by name, in registration order."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self.plugin_errors: list[PluginError] = []
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool, *, replace: bool = False) -> None:
        """Add a tool; a name already taken needs ``replace=True`` (a plugin can't shadow silently)."""
        if not replace and tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def load_plugins(self, eps: Iterable[EntryPoint] | None = None) -> None:
        """Register every ``flowdesk.tools`` entry point's callable; record, never raise, failures."""
        for ep in entry_points(group=ENTRY_POINT_GROUP) if eps is None else eps:
            try:
                fn = ep.load()
                if not callable(fn):
                    raise TypeError(f"expected a callable, got {type(fn).__name__}")
                self.register(Tool.from_function(fn, name=ep.name))
            except Exception as exc:  # noqa: BLE001 - a plugin can fail in any way; it must not take flowdesk down
                message = f"{type(exc).__name__}: {exc}"
                log.warning("tool plugin %s could not be loaded: %s", ep.value, message)
                self.plugin_errors.append(PluginError(f"{ep.name} = {ep.value}", message))


async def call_tool(tool: Tool, args: Mapping[str, Any], context: ToolContext) -> Any:
    """Call ``tool`` with keyword ``args`` (plus ``context`` if it wants one); its JSON result.

    Sync functions run in a worker thread so a slow tool never blocks the event loop (and the GUI);
    async ones are awaited. Arguments are checked against the signature first so a mistake in the
    node's config names the tool and the parameter instead of surfacing as a TypeError from inside.
    """
    if "context" in args and tool.wants_context:
        raise NodeFailure(f"tool {tool.name!r}: 'context' is supplied by flowdesk, not by the node's args")
    is_async = inspect.iscoroutinefunction(tool.fn)
    if tool.wants_context and not is_async:
        context = _thread_safe(context)
    kwargs = {**args, "context": context} if tool.wants_context else dict(args)
    _check_arguments(tool, kwargs)
    try:
        if is_async:
            result = await tool.fn(**kwargs)
        else:
            result = await _in_daemon_thread(tool, kwargs)
            if inspect.isawaitable(result):
                result = await result
    except NodeFailure as exc:
        if len(str(exc)) <= MAX_MESSAGE_CHARS:
            raise
        raise NodeFailure(cut_message(str(exc)), exc.error_class) from exc
    except Exception as exc:  # a tool's own bug or error: name the tool, keep the cause chained
        raise NodeFailure(cut_message(f"tool {tool.name!r} failed: {type(exc).__name__}: {exc}")) from exc
    return _as_json(tool, result)


async def _in_daemon_thread(tool: Tool, kwargs: dict[str, Any]) -> Any:
    """``tool.fn(**kwargs)`` in a thread of its own that never holds up the process's exit.

    ``asyncio.to_thread``'s pool threads are joined when the loop shuts down and again at exit,
    so a tool stuck in a blocking call (a pipe, a socket) kept ``flowdesk run`` from ending after
    its node had timed out. A cancelled await leaves the thread to finish (or not) on its own."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    call = contextvars.copy_context().run

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def work() -> None:
        try:
            result, error = call(tool.fn, **kwargs), None
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine, which classifies it
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop is closed: nobody waits for this result any more
            pass

    threading.Thread(target=work, name=f"tool {tool.name}", daemon=True).start()
    return await future


def _thread_safe(context: ToolContext) -> ToolContext:
    """A context whose ``log`` hands messages to the event loop: a sync tool logs from a worker thread,
    and the engine's log sink (events, GUI, recorder) lives on the loop. Messages keep their order
    and arrive before the tool's result does (both go through the loop's FIFO callback queue)."""
    loop = asyncio.get_running_loop()
    sink = context.log
    return replace(context, log=lambda message: loop.call_soon_threadsafe(sink, message))


def _as_json(tool: Tool, result: Any) -> Any:
    """``result`` as the JSON value a port carries (tuples become lists); NodeFailure if it is none."""
    try:
        return json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise NodeFailure(
            f"tool {tool.name!r} returned a value that is not JSON ({type(result).__name__}): {exc}", "invalid_output"
        ) from exc


def _check_arguments(tool: Tool, kwargs: Mapping[str, Any]) -> None:
    """NodeFailure naming the first missing or unknown argument if ``kwargs`` don't fit ``tool.fn``."""
    try:
        signature = inspect.signature(tool.fn)
    except (TypeError, ValueError):
        return  # no signature to check against; the call itself will tell
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        missing = [
            p.name
            for p in signature.parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in kwargs
        ]
        accepted = list(signature.parameters)  # signature order, for a stable message
        has_var_kw = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
        unknown = [] if has_var_kw else [k for k in kwargs if k not in accepted]
        if missing:
            detail = f"missing argument {quote(missing[0])}"
        elif unknown:
            detail = (
                f"unknown argument {quote(unknown[0])} (accepts: {', '.join(p for p in accepted if p != 'context')})"
            )
        else:
            detail = str(exc)
        raise NodeFailure(f"tool {tool.name!r}: {detail}") from None


# --- built-in tools ------------------------------------------------------------------------------

_PATH_PART = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]")


def json_pick(data: Any, path: str) -> Any:
    """Picks a value out of JSON data by a path like ``items[0].title`` or ``a["odd key"]``."""
    value, pos, walked = data, 0, ""
    while pos < len(path):
        match = _PATH_PART.match(path, pos)
        if match is None:
            raise NodeFailure(f"json_pick: cannot read the path {quote(path)} at character {pos + 1}")
        key, index, quoted_a, quoted_b = match.groups()
        step: str | int = (
            int(index) if index is not None else next(k for k in (key, quoted_a, quoted_b) if k is not None)
        )
        walked = path[: match.end()]
        value = _step(value, step, walked, path)
        pos = match.end()
    return value


def _step(value: Any, step: str | int, walked: str, path: str) -> Any:
    """One step of a json_pick path: a list index (negative counts from the end) or an object key."""
    if isinstance(step, int):
        if isinstance(value, list) and -len(value) <= step < len(value):
            return value[step]
    elif isinstance(value, Mapping) and step in value:
        return value[step]
    raise NodeFailure(f"json_pick: nothing at {quote(walked)} (path {quote(path)})")


def regex_extract(text: str, pattern: str, group: int | str = 0, all: bool = False) -> Any:
    """Finds a regular expression in text; the first match's group (or every match's with all=true).

    Returns null when nothing matches (or an empty list with all=true). The search runs on RE2,
    whose time grows linearly with the text whatever the pattern (so a node's timeout holds: Python's
    ``re`` can take days on ``(a+)+$``); backreferences and lookaround, which need backtracking, are
    refused. Patterns over 1,000 characters and text over 10 MB are refused too.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise NodeFailure(f"regex_extract: the pattern is {len(pattern)} characters; the limit is {MAX_PATTERN_CHARS}")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise NodeFailure("regex_extract: the text is over 10 MB")
    compiled = _linear_pattern(pattern)
    try:
        if all:
            return [m.group(group) for m in compiled.finditer(text)]
        match = compiled.search(text)
        return match.group(group) if match else None
    except IndexError as exc:
        raise NodeFailure(f"regex_extract: the pattern has no group {quote(group)}") from exc


def _linear_pattern(pattern: str) -> Any:
    """``pattern`` compiled for RE2; Python's own parser first, for its familiar syntax errors."""
    import re2  # lazily: only workflows that search pay for loading it

    try:
        re.compile(pattern)
    except re.error as exc:
        raise NodeFailure(f"regex_extract: bad pattern {quote(pattern)}: {exc}") from exc
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own copy of the error on stderr
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        detail = b" ".join(a for a in exc.args if isinstance(a, bytes)).decode("utf-8", "replace") or str(exc)
        raise NodeFailure(
            f"regex_extract: the pattern {quote(pattern)} needs backtracking ({detail}); backreferences and "
            "lookahead/lookbehind are not supported, so that every search ends in time"
        ) from exc


def text_split(text: str, separator: str = "\n", max_parts: int = -1) -> list[str]:
    """Splits text at a separator into at most max_parts parts (-1 = no limit)."""
    if separator == "":
        raise NodeFailure("text_split: the separator must not be empty")
    if max_parts == 0 or max_parts < -1:
        raise NodeFailure("text_split: max_parts must be -1 (no limit) or at least 1")
    return text.split(separator, max_parts - 1 if max_parts > 0 else -1)


def text_join(items: list[Any], separator: str = "\n") -> str:
    """Joins a list into one text with a separator; non-text items are written as JSON."""
    return separator.join(i if isinstance(i, str) else json.dumps(i, ensure_ascii=False) for i in items)


BUILTIN_FUNCTIONS: tuple[Callable[..., Any], ...] = (
    json_pick,
    regex_extract,
    text_split,
    text_join,
    file_read,
    file_write,
)


def builtin_tools() -> ToolRegistry:
    """A registry of the built-in tools only (no plugins)."""
    return ToolRegistry(Tool.from_function(fn) for fn in BUILTIN_FUNCTIONS)


def default_tools() -> ToolRegistry:
    """Built-in tools plus installed plugins: what the app and the CLI use."""
    registry = builtin_tools()
    registry.load_plugins()
    return registry

"""Untrusted bytes to a JSON value that is safe to give pydantic and to write back unchanged.

Python's ``json`` accepts more than JSON (NaN, Infinity, duplicate keys silently dropped, numbers
that overflow to ``inf``, ``\\ud800`` escapes that no UTF-8 file can hold) and fails on deep
nesting with a RecursionError. Each of those would either crash a later stage or break the
read -> write -> read promise, so they are all refused here, each with a location a person can use:
line and column for text problems, a field path for problems in the parsed value.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Sequence
from typing import Any

MAX_DEPTH = 64
"""Lists and objects nested deeper than this are refused; real workflows use a handful of levels."""

_MIB = 1024 * 1024
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_BRACKETS = re.compile(_STRING + r"|[\[\]{}]", re.DOTALL)


class JsonProblem(Exception):
    """Why the text is not an acceptable JSON document, and where (line/column or field path)."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        parts: Sequence[str | int] | None = None,
        root: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.parts = tuple(parts) if parts is not None else None
        self.root = root

    @property
    def path(self) -> str | None:
        return format_path(self.parts) if self.parts else None


class _NonFinite:
    """What ``NaN``/``Infinity`` parse to, so the tree walk can refuse them with their path."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token


class _DuplicateKeys(dict):  # type: ignore[type-arg]
    """An object in which some key appeared twice; json would silently keep only the last."""

    duplicate: str = ""


def format_path(parts: Sequence[str | int]) -> str:
    """``("nodes", 2, "config", "a b")`` -> ``nodes[2].config["a b"]``."""
    out: list[str] = []
    for i, part in enumerate(parts):
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT.fullmatch(part):
            out.append(part if i == 0 else f".{part}")
        else:
            out.append(f"[{_quote(part)}]")
    return "".join(out)


def _quote(key: str, limit: int = 40) -> str:
    short = key if len(key) <= limit else f"{key[:limit]}..."
    text = json.dumps(short, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(short)
    return text


def parse_json_text(data: str | bytes, *, max_bytes: int, noun: str = "file") -> Any:
    """The JSON value in ``data``; raises :class:`JsonProblem` for anything a workflow cannot be."""
    text = _decode(data, max_bytes, noun)
    if not text.strip():
        raise JsonProblem(f"{noun} is empty" if not text else f"{noun} is empty (only whitespace)")
    hooks = _Hooks()
    root = _loads(text, hooks)
    if hooks.suspect or _may_hold_surrogates(data, text) or _deeper_than(root, MAX_DEPTH):
        _check_tree(root, text)  # the full walk finds the problem and says where it is
    return root


class _Hooks:
    """``json.loads`` hooks that note, while the C parser runs, whether anything needs the full walk
    (a duplicate key, NaN/Infinity, a number that overflows a float). A clean document then skips
    the pure-Python walk over every value, which cost most of the reading time of a big workflow."""

    __slots__ = ("suspect",)

    def __init__(self) -> None:
        self.suspect = False

    def object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = _object(pairs)
        if type(result) is not dict:
            self.suspect = True
        return result

    def constant(self, token: str) -> _NonFinite:
        self.suspect = True
        return _NonFinite(token)

    def float(self, token: str) -> float:
        value = float(token)
        if value in (math.inf, -math.inf):
            self.suspect = True
        return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _may_hold_surrogates(data: str | bytes, text: str) -> bool:
    """Whether a string may hold a lone surrogate: only a ``\\udXXX`` escape (or text given as a
    Python str) can make one, so a quick search settles almost every file."""
    if isinstance(data, str):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None


def _deeper_than(root: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels, one level at a time over the
    containers only (the scalars, most of a document, are skipped in C-speed comprehensions)."""
    level = [root] if type(root) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for container in level:
            values = container.values() if type(container) is dict else container
            below.extend([v for v in values if type(v) is dict or type(v) is list])
        level = below
    return False


def _decode(data: str | bytes, max_bytes: int, noun: str) -> str:
    """Text from bytes (UTF-8, BOM allowed) or from str, refusing sizes over ``max_bytes``."""
    if isinstance(data, str):
        size = len(data) if len(data) * 4 <= max_bytes else len(data.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise JsonProblem(_too_large(noun, size, max_bytes))
        return data.removeprefix("\ufeff")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected str or bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) > max_bytes:
        raise JsonProblem(_too_large(noun, len(raw), max_bytes))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise JsonProblem(f"{noun} is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise JsonProblem(
            f"not a text file: byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
            line=line,
            column=column,
        ) from None


def _too_large(noun: str, size: int, max_bytes: int) -> str:
    return f"{noun} is too large ({size / _MIB:.1f} MiB; the limit is {max_bytes // _MIB} MiB)"


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    duplicates = _DuplicateKeys(result)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            duplicates.duplicate = key
            break
        seen.add(key)
    return duplicates


def _loads(text: str, hooks: _Hooks | None = None) -> Any:
    """``json.loads`` with every failure turned into a located JsonProblem."""
    hooks = hooks or _Hooks()
    try:
        return json.loads(text, parse_constant=hooks.constant, object_pairs_hook=hooks.object, parse_float=hooks.float)
    except json.JSONDecodeError as exc:
        message = "extra text after the JSON document" if exc.msg == "Extra data" else exc.msg
        raise JsonProblem(message, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise _too_deep(text) from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise _too_many_digits(text) from None


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``, counted the way JSONDecodeError counts them."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _too_deep(text: str) -> JsonProblem:
    """The problem for nesting over MAX_DEPTH, at the bracket that goes one level too far."""
    message = f"nested too deeply (more than {MAX_DEPTH} levels of lists and objects)"
    depth = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = _position(text, match.start())
                return JsonProblem(message, line=line, column=column)
        elif token in "]}":
            depth -= 1
    return JsonProblem(message)


def _too_many_digits(text: str) -> JsonProblem:
    limit = sys.get_int_max_str_digits() or 4300
    message = f"a number has too many digits (more than {limit})"
    for match in re.finditer(_STRING + rf"|(-?\d{{{limit + 1},}})", text, re.DOTALL):
        if match.group(1):
            line, column = _position(text, match.start(1))
            return JsonProblem(message, line=line, column=column)
    return JsonProblem(message)


def _check_tree(root: Any, text: str) -> None:
    """Walk the parsed value without recursion, refusing what json let through (see module doc)."""
    _check_scalar(root, (), root)
    if not isinstance(root, (dict, list)):
        return
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        value, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            raise _too_deep(text)
        if isinstance(value, _DuplicateKeys):
            where = "in this object" if path else "at the top level"
            raise JsonProblem(f"the key {_quote(value.duplicate)} appears twice {where}", parts=path, root=root)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            if isinstance(key, str) and not key.isascii():
                _check_text(key, (*path, key), root, "a key")
            if isinstance(child, (dict, list)):
                stack.append((child, (*path, key)))
            else:
                _check_scalar(child, (*path, key), root)


def _check_scalar(value: Any, path: tuple[str | int, ...], root: Any) -> None:
    if isinstance(value, str):
        if not value.isascii():
            _check_text(value, path, root, "text")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise JsonProblem("number is too large (beyond a 64-bit float)", parts=path, root=root)
    elif isinstance(value, _NonFinite):
        raise JsonProblem(f"{value.token} is not allowed: JSON numbers must be finite", parts=path, root=root)


def _check_text(value: str, path: tuple[str | int, ...], root: Any, what: str) -> None:
    """Refuse a lone surrogate (from a ``\\ud800`` escape): it cannot be written as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = f"\\u{ord(value[exc.start]):04x}"
        raise JsonProblem(
            f"{what} holds {char}, half of a surrogate pair, which is not valid Unicode", parts=path, root=root
        ) from None

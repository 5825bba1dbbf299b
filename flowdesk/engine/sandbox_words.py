"""Template and expression errors in the workflow author's words, not Jinja's or Python's.

Jinja names what it saw in its own terms: "'dict object' has no attribute 'nmae'", "unexpected
'end of template'" for an expression that stops short, "end of print statement" for ``}}``. The
author wrote ``inputs.nmae`` in a prompt; they need to hear which name is missing and what is there
instead, and where the source goes wrong, in the terms of what they typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from jinja2 import StrictUndefined
from jinja2.utils import missing

Mode = Literal["template", "expression"]

_MAX_KEYS = 12
_READABLE = "templates and expressions can read inputs, run.inputs, nodes.<id>.output and loop"
_TOKEN_NAMES = {
    "end of print statement": "'}}'",
    "end of statement block": "'%}'",
    "begin of print statement": "'{{'",
    "begin of statement block": "'{%'",
}
_BLOCK_END = re.compile(
    r"Unexpected end of template\. Jinja was looking for the following tags: (?P<tags>.*?)\. "
    r"The innermost block that needs to be closed is '(?P<block>\w+)'\."
)
_UNKNOWN_TAG = re.compile(r"Encountered unknown tag '(?P<tag>\w+)'\.(?P<rest>.*)")
_EXPECTED_AT_END = re.compile(r"unexpected end of template, expected '?(?P<what>[^'.]+)'?\.")
_UNEXPECTED_CHAR = re.compile(r"unexpected char (?P<char>'.'|\".\") at \d+")


def syntax_words(message: str, mode: Mode) -> str:
    """Jinja's syntax error ``message`` reworded; ``mode`` says whether the author wrote a template or an expression."""
    ending = "the expression ends too early" if mode == "expression" else "the template ends too early"
    found = _BLOCK_END.search(message)
    if found is not None:
        block = found.group("block")
        return f"the template ends inside a '{{% {block} %}}' block: close it with '{{% end{block} %}}'"
    found = _UNKNOWN_TAG.match(message)
    if found is not None:
        tag = found.group("tag")
        if tag.startswith("end") or tag in ("else", "elif"):
            return f"'{{% {tag} %}}' has no block to close or continue here"
        return f"there is no '{{% {tag} %}}' tag"
    found = _EXPECTED_AT_END.match(message)
    if found is not None:
        what = found.group("what")
        return f"{ending}: {_TOKEN_NAMES.get(what, repr(what) if what != 'name' else 'a name')} is missing"
    if message in ("unexpected 'end of template'", "unexpected end of template"):
        return ending
    found = _UNEXPECTED_CHAR.match(message)
    if found is not None:
        char = found.group("char")[1]
        if char in "'\"":
            return f"a text started with {char} is not closed"
        return f"{char!r} cannot be used here"
    for jinja, shown in _TOKEN_NAMES.items():
        message = message.replace(f"'{jinja}'", shown)
    message = message.replace("'end of template'", "the end" + (" of the expression" if mode == "expression" else ""))
    message = re.sub(r"^No (filter|test) named '(\w+)'\.?$", r"there is no \1 named '\2'", message)
    return message[:1].lower() + message[1:].rstrip(".")


def value_kind(value: Any) -> str:
    """A JSON value's kind as a person would say it."""
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "a value"


def _names(keys: list[str]) -> str:
    shown = ", ".join(repr(k) for k in keys[:_MAX_KEYS])
    return shown + (f" and {len(keys) - _MAX_KEYS} more" if len(keys) > _MAX_KEYS else "")


def undefined_words(obj: Any, name: Any) -> str:
    """Why ``obj.name`` (or ``obj[name]``) has no value: what is missing, and what is there instead."""
    if obj is missing:
        return f"'{name}' is not defined here ({_READABLE})"
    missing_words = getattr(obj, "missing", None)  # nodes.<id>: the run's scope knows why a node has no output
    if callable(missing_words) and type(obj).__name__ == "NodesScope":
        return str(missing_words(str(name)))
    if isinstance(obj, Mapping):
        keys = [str(k) for k in obj]
        return f"no '{name}' here: " + (f"the object has {_names(keys)}" if keys else "the object is empty")
    if isinstance(obj, list | tuple) and isinstance(name, int):
        return f"the list has no item {name} (it has {len(obj)} item{'s' if len(obj) != 1 else ''})"
    return f"{value_kind(obj)} has no '{name}'"


class WordedUndefined(StrictUndefined):
    """StrictUndefined whose error says what is missing in the author's words (``undefined_words``)."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        return undefined_words(self._undefined_obj, self._undefined_name)

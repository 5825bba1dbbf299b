"""pydantic's ValidationError as one sentence a person can act on, at a path they can find.

pydantic reports every error with a ``loc`` that mixes field names, list indexes and internal
tags (``list``, ``dict``, ``[key]`` for JSON values) and phrases some messages in Python terms
("valid dictionary or instance of Position"). Following the raw document along the ``loc`` tells
the real keys from the tags; a few messages are rephrased, and an unknown field (usually a typo)
gets the closest real field name as a suggestion.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from flowdesk.model._jsoncheck import format_path
from flowdesk.model.ids import ID_PATTERN

_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none", "[key]"})
_CONTAINER_MESSAGES = {
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
}


@dataclass(frozen=True)
class Described:
    """The first error of a ValidationError, as a message and a cleaned-up path."""

    message: str
    parts: tuple[str | int, ...]

    @property
    def path(self) -> str | None:
        return format_path(self.parts) if self.parts else None


def describe_validation_error(exc: ValidationError, document: Any, model: type[BaseModel]) -> Described:
    """The first error, clearly; the count of the rest, so a person knows more will follow."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    parts = clean_loc(document, first["loc"])
    message = _message(first, parts, model)
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return Described(message, parts)


def clean_loc(document: Any, loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """``loc`` without pydantic's union tags: keys and indexes that exist in ``document`` are kept,
    and so is the first name that does not (a missing or unknown field), with whatever follows."""
    parts: list[str | int] = []
    current = document
    following = True
    for item in loc:
        if following and _descends(current, item):
            parts.append(item)
            current = current[item]
            continue
        if isinstance(item, str) and (item in _TAGS or "[" in item or "(" in item):
            continue
        parts.append(item)
        following = False
    return tuple(parts)


def _descends(current: Any, item: str | int) -> bool:
    if isinstance(item, int) and not isinstance(item, bool):
        return isinstance(current, list) and 0 <= item < len(current)
    return isinstance(current, dict) and item in current


def _message(error: Any, parts: tuple[str | int, ...], model: type[BaseModel]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field(parts, model)
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == ID_PATTERN:
        return f"{_got(value)} is not a valid id: use letters, digits and _ (at most 64), not starting with a digit"
    if kind in _CONTAINER_MESSAGES:
        return f"{_CONTAINER_MESSAGES[kind]} (got {_got(value)})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{message} (got {_got(value)})"


def _got(value: Any, limit: int = 40) -> str:
    """A short rendering of the offending value: the value itself if small, else its kind."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _unknown_field(parts: tuple[str | int, ...], model: type[BaseModel]) -> str:
    name = parts[-1] if parts else None
    owner = _model_at(model, parts[:-1])
    if owner is None or not isinstance(name, str):
        return "unknown field (not part of the format)"
    fields = list(owner.model_fields)
    close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean {close[0]!r}?"
    return f"unknown field (fields here: {', '.join(fields)})"


def _model_at(model: type[BaseModel], parts: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that describes the object at ``parts`` (indexes step into tuples)."""
    current: type[BaseModel] | None = model
    for part in parts:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if current is not None else None
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as ``Node``, ``tuple[Node, ...]`` or ``X | None``."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    fields: type[BaseModel] | None = getattr(annotation, "fields_model", None)  # a value type read as a model
    if fields is not None:
        return fields
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None

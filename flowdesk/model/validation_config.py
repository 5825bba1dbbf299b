"""Node config problems: pydantic's errors reworded into sentences a person can act on.

The inspector shows these next to the field and the CLI prints them, so each names the node by
title and id, the setting by a readable name and its path (``config.url``), and says what is
wanted ("must not be empty") rather than what pydantic's validator saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from flowdesk.model.kinds import KindSpec
from flowdesk.model.problems import Problem
from flowdesk.model.validation_context import ValidationContext, node_label
from flowdesk.model.workflow import Node

_SHOULD_PREFIXES = ("Input should ", "String should ", "Value should ", "List should ", "Dictionary should ")
_MAX_SHOWN = 60
"""Longest given value quoted back in a message; longer ones are cut (a prompt can be megabytes)."""


def config_problems(ctx: ValidationContext) -> Iterator[Problem]:
    """One problem per pydantic error in each node's config; placeholders are left alone.

    A setting left out of the file takes its default, which is checked too (pydantic would not):
    a blank required-to-fill default reads as "must not be empty", as if the key were there.
    """
    for node_id, node in ctx.nodes.items():
        spec = ctx.specs[node_id]
        if spec is None:
            continue
        parsed = ctx.parsed_config(node_id)
        errors = parsed.errors(include_url=False) if isinstance(parsed, ValidationError) else []
        bad_defaults = ctx.default_errors(spec)
        if bad_defaults:
            reported = {e["loc"][:1] for e in errors}
            errors += [e for e in bad_defaults if e["loc"][0] not in node.config and e["loc"][:1] not in reported]
        for error in errors:
            yield config_problem(node, spec, error)


def config_problem(node: Node, spec: KindSpec, error: ErrorDetails) -> Problem:
    """A located, readable problem for one pydantic error of ``node``'s config."""
    loc = [str(part) for part in error["loc"]]
    path = ".".join(["config", *loc])
    if not loc:
        text = f"{node_label(node)}: its settings are invalid: {_strip_value_error(error['msg'])}."
        return Problem("error", "invalid-config", text, node_id=node.id, field="config")
    setting = _setting_name(spec.config_model, loc[0])
    text = f"{node_label(node)}: {setting} ({path}) {_requirement(error, spec)}."
    return Problem("error", "invalid-config", text, node_id=node.id, field=path)


def _setting_name(model: type[BaseModel], name: str) -> str:
    """The field's title if the kind gave one, else its name in words (``max_tokens`` -> max tokens)."""
    info = model.model_fields.get(name)
    if info is not None and info.title:
        return info.title
    return name.replace("_", " ")


def _requirement(error: ErrorDetails, spec: KindSpec) -> str:
    """What the setting must be, as the rest of a sentence that starts with its name."""
    kind, msg, ctx = error["type"], error["msg"], error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return f"is not a setting of {spec.display_name} nodes"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"does not have the expected form{_hint(error, spec)}{_given(error['input'])}"
    if kind == "value_error":
        return f"is invalid: {_strip_value_error(msg)}"
    for prefix in _SHOULD_PREFIXES:
        if msg.startswith(prefix):
            return f"must {msg.removeprefix(prefix)}{_given(error['input'])}"
    return f"is invalid: {msg[:1].lower()}{msg[1:]}{_given(error['input'])}"


def _hint(error: ErrorDetails, spec: KindSpec) -> str:
    """The field's description, which for patterned fields says the expected form (``provider:model``)."""
    info = spec.config_model.model_fields.get(str(error["loc"][0])) if error["loc"] else None
    description = (info.description or "").rstrip(".") if info is not None else ""
    return f" ({description})" if description else ""


def _given(value: Any) -> str:
    """`` (got 'x')`` for a short scalar; nothing for containers, whose repr would drown the sentence."""
    if isinstance(value, bool | int | float | str) or value is None:
        shown = repr(value)
        if len(shown) > _MAX_SHOWN:
            shown = shown[: _MAX_SHOWN - 3] + "..."
        return f" (got {shown})"
    return ""


def _strip_value_error(msg: str) -> str:
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")

"""Structured output: an LLM reply read as JSON and checked against the node's output schema.

Models wrap JSON in code fences or add a sentence around it often enough that a strict
``json.loads`` would fail good answers; the reply is therefore read leniently (a fenced block, or
the outermost object/array) and then validated strictly, and what is wrong is said in words a
model can act on when it is asked again.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from flowdesk.nodes.context import NodeFailure

if TYPE_CHECKING:  # imported when a reply is checked: jsonschema takes ~0.1 s, too long for the app's start
    import jsonschema

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def checker(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator for ``schema``; an invalid schema is the node's configuration error, said plainly."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise NodeFailure(f"output_schema is not a valid JSON Schema at {where}: {exc.message}") from None
    return cls(schema)


def read_reply(text: str) -> Any:
    """The JSON value in a reply: the whole text, else a fenced block, else the outermost {...} or [...]."""
    candidates = [text.strip()]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(text)]
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            candidates.append(text[start : end + 1])
    first_error: ValueError | None = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError as exc:
            first_error = first_error or exc
    raise ValueError(f"the reply is not JSON ({first_error})")


def problem_with(text: str, validator: jsonschema.protocols.Validator) -> tuple[Any, str | None]:
    """(parsed value, None) when the reply matches; (None, what is wrong) otherwise."""
    import jsonschema

    try:
        value = read_reply(text)
    except ValueError as exc:
        return None, str(exc)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return value, None
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    return None, f"at {where}: {error.message[:300]}"


def retry_prompt(prompt: str, reply: str, problem: str) -> str:
    """The prompt again, with the rejected reply and the reason, so the model can correct itself."""
    return (
        f"{prompt}\n\nYour previous reply was:\n{reply[:2000]}\n\n"
        f"It does not match the required JSON Schema ({problem}). "
        "Reply again with only the corrected JSON value."
    )

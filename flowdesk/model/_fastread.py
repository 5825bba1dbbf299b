"""The fast path of reading a workflow file: JSON parsed and validated in Rust, no Python walk.

Reading a 10,000-node file spent most of its time in Python: ``json`` building dicts through
hooks, then pydantic validating those dicts. Here a sound, current-version file goes through two
Rust passes instead: ``jiter`` parses it, refusing what ``json`` would let through (duplicate keys,
NaN and Infinity, lone surrogates, numbers too long to convert), then pydantic validates that
parsed value into the models (``model_validate_json`` on the bytes would parse the file twice).
What neither refuses is checked on the few free-form JSON values only (node configs, pinned
outputs, input defaults): nesting depth and numbers that overflowed to infinity.

Anything the fast path does not accept (a bad file, an older format version to migrate, a value
it cannot vouch for) returns ``None``: the caller then reads the file the careful way
(``_jsoncheck``), which says where the problem is, line and column or field path. So the fast
path never words an error, and a good file reads to the same models either way: both paths hand
pydantic the same parsed value.
"""

from __future__ import annotations

import gc
import math
from typing import Any

from pydantic import ValidationError

from flowdesk.model._jsoncheck import MAX_DEPTH
from flowdesk.model.workflow import FORMAT, Workflow

_VALUE_DEPTH = MAX_DEPTH - 5
"""Levels a free-form value may nest on the fast path. The deepest one (a pinned output) sits five
levels down (document, nodes, node, pinned, outputs); a value nearer the limit goes the careful way,
which measures it exactly."""

_UTF8_BOM = b"\xef\xbb\xbf"


def read_fast(data: str | bytes, max_bytes: int) -> Workflow | None:
    """The workflow in ``data`` when it is a sound file of the current format, else ``None``."""
    raw = _as_bytes(data)
    if raw is None or len(raw) > max_bytes:
        return None
    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of new objects and no garbage: collections would only walk them
    try:
        workflow = _parse_and_validate(raw)
    finally:
        if collecting:
            gc.enable()
    if workflow is None:
        return None
    return workflow if _free_values_sound(workflow) else None


def _parse_and_validate(raw: bytes) -> Workflow | None:
    import jiter  # first use: reading a file; the app's start does not need it

    try:
        # keys cached: a big file repeats the same few dozen keys, one string object each
        document = jiter.from_json(raw, allow_inf_nan=False, catch_duplicate_keys=True, cache_mode="keys")
    except ValueError:
        return None
    if not _current_header(document):
        return None
    try:
        # the parsed value, not the bytes again: one parse, and exactly what the careful path validates
        return Workflow.model_validate(document)
    except ValidationError:
        return None


def _current_header(document: Any) -> bool:
    """The header exactly as the careful path wants it (pydantic would take ``"1"`` for 1, or supply
    a missing one from the defaults): otherwise that path says what is wrong, or migrates."""
    if type(document) is not dict:
        return False
    return document.get("format") == FORMAT and type(document.get("format_version")) is int
    # (the version itself is checked by the model: a file to migrate fails there and goes the careful way)


def _as_bytes(data: str | bytes) -> bytes | None:
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in the text itself
            return None
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        return None
    return raw.removeprefix(_UTF8_BOM)


def _free_values_sound(workflow: Workflow) -> bool:
    """Are the free-form JSON values shallow enough and their numbers finite? (``jiter`` turns a
    number like ``1e400`` into infinity rather than refusing it.)"""
    values: list[Any] = [node.config for node in workflow.nodes if node.config]
    values += [node.pinned.outputs for node in workflow.nodes if node.pinned is not None]
    values += [i.default for i in workflow.inputs if i.default is not None]
    return _sound(values, _VALUE_DEPTH)


def _sound(values: list[Any], limit: int) -> bool:
    """One level at a time over the containers, the scalars skipped in comprehensions (C speed)."""
    level = values
    depth = 0
    while level:
        if any([type(v) is float and not math.isfinite(v) for v in level]):
            return False
        containers = [v for v in level if type(v) is dict or type(v) is list]
        if not containers:
            return True
        depth += 1
        if depth > limit:
            return False
        level = []
        for container in containers:
            level.extend(container.values() if type(container) is dict else container)
    return True

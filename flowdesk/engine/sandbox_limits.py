"""The sandbox's limits, the error a limit raises, and what a template may show (see sandbox.py)."""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jinja2.runtime import LoopContext, Macro, TemplateReference
from jinja2.utils import Namespace


@dataclass(frozen=True)
class SandboxLimits:
    """Bounds on one render/evaluate call; the defaults suit interactive workflows."""

    timeout_s: float = 2.0
    max_output_chars: int = 1_000_000
    max_range: int = 100_000
    max_cache: int = 512


class LimitExceeded(Exception):
    """A limit was hit inside rendering; turned into a SandboxError at the edge."""


def cannot_show(value: Any) -> LimitExceeded:
    """The error for a value that is about to become text but is not data (see ``opaque_kind``)."""
    return LimitExceeded(f"cannot show {opaque_kind(value)}")


def not_json(value: Any) -> LimitExceeded:
    """The error for an expression whose result is not data (see ``opaque_kind``)."""
    return LimitExceeded(f"the result is {opaque_kind(value)}, not a JSON value")


def opaque_kind(value: Any) -> str:
    """What a value that is not data is (a function, a class, the loop object...), with what to do
    instead: its text would be the sandbox's internals (``<bound method GuardedEnvironment._range
    of ...>``), so it is never printed, joined, formatted or returned."""
    if isinstance(value, type):
        return "a class"
    if isinstance(value, Namespace):
        return "a namespace (show one of its attributes instead)"
    if isinstance(value, Macro):
        return "a macro (call it to get its text)"
    if isinstance(value, LoopContext):
        return "the loop object (show loop.index or another of its attributes)"
    if isinstance(value, TemplateReference):
        return "the template itself"
    if isinstance(value, (types.GeneratorType, Iterator)):
        return "a sequence that is still being produced (add |list to show it)"
    if callable(value):
        return "a function (call it to get a value)"
    return "an internal object"

"""Guards for work Python does in C on a template's behalf (see sandbox.py).

The sandbox's deadline is checked between steps of a template, but one step done in C — building
``10**(10**9)`` for ``1|round(-10**9)``, padding a string to a billion characters, parsing a
megabyte of digits — cannot be interrupted once it starts. So every such step is sized first and
refused when its result would pass the limits; these checks are that list, as a mixin of the
environment (which supplies ``check_size``, ``text_size``, ``weigh`` and ``limits``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from jinja2.filters import do_int, do_round

from flowdesk.engine.sandbox_limits import LimitExceeded, SandboxLimits

MAX_INT_BITS = 10_000
"""Largest integer a template may create (~3,000 digits): big-number arithmetic is not interruptible."""
MAX_INT_DIGITS = 3_000
"""Longest run of digits ``fromjson`` turns into an integer (below Python's own 4,300-digit limit)."""
MAX_ROUND_DIGITS = 400
"""``round`` precision allowed either way: past ±400 a float is unchanged or 0, and an integer's
rounding would build ``10**precision`` in C first."""

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")


def _too_big() -> LimitExceeded:
    return LimitExceeded(f"a number would have more than {MAX_INT_BITS:,} bits (about 3,000 digits)")


def check_int(value: int) -> None:
    """Refuse an integer past the bit limit (one produced by a filter or a method)."""
    if value.bit_length() > MAX_INT_BITS:
        raise _too_big()


class NativeGuards:
    """Size checks run before a C-level operation builds its result."""

    limits: SandboxLimits
    work_limit: int

    def check_size(self, size: int, what: str = "characters") -> None:
        if size > self.limits.max_output_chars:
            raise LimitExceeded(f"a value would have {size:,} {what} (limit {self.limits.max_output_chars:,})")

    def text_size(self, value: Any) -> int:  # supplied by the environment
        raise NotImplementedError

    def weigh(self, value: Any, cap: int, *, strict: bool = False) -> int:  # supplied by the environment
        raise NotImplementedError

    def check_spec(self, spec: str) -> None:
        """Refuse format widths/precisions that would build a huge string before we can see it."""
        for digits in _DIGITS.findall(spec):
            self.check_size(int(digits) if len(digits) < 30 else 10**30)

    def check_str_method(
        self, name: str, text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> tuple[Any, ...]:
        """Refuse string methods whose result size is driven by an argument, before they run."""
        first = args[0] if args else next(iter(kwargs.values()), None)
        if name in ("center", "ljust", "rjust", "zfill") and isinstance(first, int):
            self.check_size(first)
        elif name == "expandtabs":
            size = first if isinstance(first, int) else 8
            self.check_size(len(text) + text.count("\t") * max(size, 0))
        elif name == "replace":
            old, new = [*args, kwargs.get("old"), kwargs.get("new")][:2]
            count = args[2] if len(args) > 2 else kwargs.get("count", -1)
            self.check_replace(text, old, new, count)
        elif name == "join" and args:
            items = list(args[0])
            self.check_size(len(text) * max(len(items) - 1, 0) + sum(map(self.text_size, items)))
            args = (items, *args[1:])
        elif name in ("format", "format_map"):
            raise LimitExceeded("str.format reached without the sandbox's formatter")
        return args

    def check_replace(self, text: str, old: Any, new: Any, count: Any) -> None:
        if isinstance(old, str) and isinstance(new, str):
            hits = text.count(old) if old else len(text) + 1
            if isinstance(count, int) and count >= 0:
                hits = min(hits, count)
            self.check_size(len(text) + hits * (len(new) - len(old)))

    def check_percent(self, fmt: str, values: Any) -> None:
        """``fmt % values``: bound each conversion by its width or its widest argument."""
        specs = _PERCENT_SPEC.findall(fmt)
        flat = (
            list(values.values())
            if isinstance(values, Mapping)
            else (list(values) if isinstance(values, tuple) else [values])
        )
        widest = max((self.text_size(v) for v in flat), default=0)  # also refuses values it cannot show
        if not specs:
            return
        for part in (p for spec in specs for p in spec if p):
            if part == "*":
                widest = max([widest, *(v for v in flat if type(v) is int)])
            else:
                widest = max(widest, int(part) if len(part) <= 9 else 10**9)
        self.check_size(len(fmt) + len(specs) * widest)

    def check_binop(self, operator: str, left: Any, right: Any) -> None:
        if operator == "*":
            self.check_repeat(left, right)
        elif operator == "**":
            if (
                type(left) in (int, bool)
                and type(right) in (int, bool)
                and right > 1
                and abs(left) > 1
                and (right > MAX_INT_BITS or right * math.log2(abs(left)) > MAX_INT_BITS)
            ):
                raise _too_big()
        elif operator == "+":
            if isinstance(left, str) and isinstance(right, str):
                self.check_size(len(left) + len(right))
            elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
                self.check_size(len(left) + len(right), "items")
        elif operator == "%" and isinstance(left, str):
            self.check_percent(left, right)

    def check_repeat(self, left: Any, right: Any) -> None:
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise _too_big()
            return
        seq, times = (left, right) if isinstance(right, int) else (right, left)
        if not isinstance(times, int) or not isinstance(seq, (str, list, tuple)) or times <= 0:
            return
        if isinstance(seq, str):
            self.check_size(len(seq) * times)
        else:
            self.check_size(len(seq) * times, "items")
            if self.weigh(seq, self.work_limit) * times > self.work_limit:
                raise LimitExceeded(f"a value is too large (more than {self.work_limit:,} characters or items)")

    # -- filters that do their work in C ------------------------------------------------------
    def round_filter(self, value: Any, precision: Any = 0, method: str = "common") -> Any:
        """Jinja's ``round``, with the precision bounded (``round(1, -10**9)`` builds 10**(10**9))."""
        if type(precision) not in (int, bool):
            raise TypeError(f"round: the precision must be a whole number, not {type(precision).__name__}")
        if abs(precision) > MAX_ROUND_DIGITS:
            raise LimitExceeded(
                f"round: the precision must be between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}, not {precision:,}"
            )
        return do_round(value, precision, method)

    def int_filter(self, value: Any, default: Any = 0, base: Any = 10) -> Any:
        """Jinja's ``int``; text in a power-of-two base has no digit limit, so the result is checked."""
        result = do_int(value, default, base)
        if type(result) is int:
            check_int(result)
        return result

    def fromjson(self, text: Any) -> Any:
        if not isinstance(text, str):
            raise TypeError(f"fromjson needs a string, not {type(text).__name__}")
        self.check_size(len(text))
        try:
            return json.loads(text, parse_int=_parse_int)
        except RecursionError:
            raise LimitExceeded("fromjson: the JSON is nested too deeply to read") from None


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise LimitExceeded(f"fromjson: the JSON has a number of more than {MAX_INT_DIGITS:,} digits")
    return int(digits)

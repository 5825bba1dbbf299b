"""The Jinja environment behind the sandbox: allow-lists, guards and limits (see sandbox.py)."""

from __future__ import annotations

import functools
import json
import math
import threading
import types
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from time import monotonic
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.exceptions import FilterArgumentError, SecurityError
from jinja2.filters import FILTERS, do_indent, make_attrgetter
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import Namespace

from flowdesk.engine.sandbox_limits import LimitExceeded, SandboxLimits, cannot_show, not_json
from flowdesk.engine.sandbox_native import MAX_INT_BITS, NativeGuards, check_int
from flowdesk.engine.sandbox_rules import (
    ALLOWED_ATTRS,
    CONCAT_GUARD,
    GENERIC_FILTERS,
    ITER_GUARD,
    STR_ATTRS,
    TEXT_FILTERS,
    VALUE_GUARD,
    Hardener,
)
from flowdesk.engine.sandbox_words import WordedUndefined

__all__ = ["MAX_INT_BITS", "GuardedEnvironment", "LimitExceeded", "SandboxLimits"]

WORK_FACTOR = 10
"""Text a render may produce in total (buffers included) and the size of any list or dict it may
build, as a multiple of ``max_output_chars``: room for macros and ``{% set %}`` blocks whose text
is counted twice, but not for memory bombs."""

QUOTE_CHARS = 80
_NUMBERS = (int, float, bool)
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


class _State(threading.local):
    """Per-thread budget of the call in progress, so one Sandbox can serve several threads."""

    deadline: float = math.inf
    produced: int = 0


class _GuardedIterable:
    """What a ``{% for %}`` iterates: the original's length (so ``loop.length`` stays cheap), its
    items through a deadline check."""

    __slots__ = ("_env", "_iterable")

    def __init__(self, env: GuardedEnvironment, iterable: Any) -> None:
        self._env, self._iterable = env, iterable

    def __len__(self) -> int:
        return len(self._iterable)

    def __iter__(self) -> Iterator[Any]:
        return self._env.guarded(self._iterable)


class _GuardedFormatter(SandboxedFormatter):
    """``str.format`` that refuses huge widths/precisions and stops once its result is too long."""

    def __init__(self, env: GuardedEnvironment) -> None:
        super().__init__(env)
        self._guard, self._size = env, 0

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        self._guard.text_size(value)  # ``{0!r}`` of a function would print the sandbox's internals
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        self._guard.check_spec(format_spec)
        self._guard.check_size(self._guard.text_size(value))
        text = super().format_field(value, format_spec)
        self._size += len(text)
        self._guard.check_size(self._size)
        return text


class GuardedEnvironment(NativeGuards, ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox plus allow-lists, a per-call deadline and size limits."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, limits: SandboxLimits) -> None:
        super().__init__(
            undefined=WordedUndefined, autoescape=False, loader=None, keep_trailing_newline=True,
            finalize=self._finalize, cache_size=0, auto_reload=False, extensions=["jinja2.ext.loopcontrols"],
        )  # fmt: skip
        self.limits = limits
        self.work_limit = limits.max_output_chars * WORK_FACTOR
        self.state = _State()
        self.globals.clear()
        self.globals.update(range=self._range, dict=dict, namespace=Namespace)
        self.filters = {name: self._wrap(FILTERS[name], name in TEXT_FILTERS) for name in GENERIC_FILTERS}
        custom = {
            "join": self._join,
            "replace": self._replace,
            "format": self._format,
            "indent": self._indent,
            "string": self._text,
            "sum": self._sum,
            "tojson": self._tojson,
            "fromjson": self.fromjson,
            "round": self.round_filter,
            "int": self.int_filter,
        }
        self.filters.update({name: self._wrap(func) for name, func in custom.items()})
        self.filters.update(
            {ITER_GUARD: self._iter_guard, CONCAT_GUARD: self._concat_guard, VALUE_GUARD: self._value_guard}
        )

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        source = Hardener().visit(source)
        source.set_environment(self)
        return super()._generate(source, name, filename, defer_init)

    # -- the deadline -------------------------------------------------------------------------
    def tick(self) -> None:
        if monotonic() > self.state.deadline:
            raise LimitExceeded(f"took longer than {self.limits.timeout_s} s")

    def guarded(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Items of ``iterable`` with a deadline check every few items (cheap enough for any loop)."""
        state, countdown = self.state, 0
        for item in iterable:
            if not countdown:
                if monotonic() > state.deadline:
                    raise LimitExceeded(f"took longer than {self.limits.timeout_s} s")
                countdown = 16
            countdown -= 1
            yield item

    # -- sizes --------------------------------------------------------------------------------
    def weigh(self, value: Any, cap: int, *, strict: bool = False) -> int:
        """Size of ``value`` written out (chars of strings, one per other item), counting shared
        sub-lists once per reference. Memoised per call, so ``[x, x]`` nested 60 times is refused
        in 60 steps instead of printed for ever; raises once the size passes ``cap``. ``strict``
        (the value is about to become text) also refuses what is not data: functions, classes,
        the loop object, whose text would be the sandbox's internals."""
        memo: dict[int, int] = {}

        def visit(item: Any) -> int:
            kind = type(item)
            if kind is str or isinstance(item, str):
                return len(item)
            if kind in _NUMBERS or item is None:
                return 1
            if isinstance(item, range):
                return len(item)
            if isinstance(item, Namespace):
                if strict:
                    raise cannot_show(item)
                item = item._Namespace__attrs  # its repr prints this dict
            if isinstance(item, (Mapping, ItemsView)):
                pairs = item.items() if isinstance(item, Mapping) else item
                children: Iterable[Any] = (part for pair in pairs for part in pair)
            elif isinstance(item, (list, tuple, KeysView, ValuesView)):
                children = item
            elif strict:
                if isinstance(item, Undefined):
                    item._fail_with_undefined_error()
                raise cannot_show(item)
            else:
                return 1
            known = memo.get(id(item))
            if known is not None:
                return known
            memo[id(item)] = 1  # a cycle counts once, as its repr prints "..."
            total = 1
            for index, child in enumerate(children):
                if not index & 4095:
                    self.tick()
                total += visit(child)
                if total > cap:
                    raise LimitExceeded(f"a value is too large (more than {cap:,} characters or items)")
            memo[id(item)] = total
            return total

        return visit(value)

    def text_size(self, value: Any) -> int:
        """Size of ``value`` as text; refuses a value that is not data (see ``weigh``)."""
        return len(value) if isinstance(value, str) else self.weigh(value, self.work_limit, strict=True)

    def admit(self, value: Any) -> Any:
        """Check a value that sandboxed code just produced (a call, filter or operator result)."""
        kind = type(value)
        if kind is int:
            check_int(value)
            return value
        if kind in _NUMBERS or value is None:
            return value
        if isinstance(value, str):
            self.check_size(len(value))
        elif isinstance(value, (list, tuple, dict, Namespace)):
            self.weigh(value, self.work_limit)
        elif isinstance(value, Iterator) and not isinstance(value, LoopContext):
            return self.guarded(value)
        return value

    @pass_context
    def _finalize(self, _context: Any, value: Any) -> Any:
        """Count every piece of text a template emits, also into macro and ``{% set %}`` buffers
        that never reach the top-level output, so a buffer cannot grow without bound."""
        kind = type(value)
        if kind is str:
            size = len(value)
        elif kind in _NUMBERS or value is None or isinstance(value, Undefined):
            size = 1  # str() of an Undefined raises the undefined error
        else:
            size = (
                len(value) if isinstance(value, str) else self.weigh(value, self.limits.max_output_chars, strict=True)
            )
        state = self.state
        state.produced += size
        if state.produced > self.work_limit:
            raise LimitExceeded(f"the template produced more than {self.work_limit:,} characters of text")
        return value

    # -- what the sandbox intercepts ----------------------------------------------------------
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, type) or isinstance(value, (type, types.ModuleType)):
            return False  # dict.update(inputs, ...) would mutate scope data; classes lead to escapes
        allowed = ALLOWED_ATTRS.get(type(obj)) or (STR_ATTRS if isinstance(obj, str) else None)
        if allowed is not None:
            return attr in allowed
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        if isinstance(obj, Undefined):  # name the first problem, not "'__init__' of 'StrictUndefined'"
            obj._fail_with_undefined_error()
        return super().unsafe_undefined(obj, attribute)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.tick()
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.tick()
        return super().getitem(obj, argument)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.tick()
        if not self.is_safe_callable(obj):
            raise SecurityError(f"{obj!r} is not safely callable")
        if isinstance(obj, types.BuiltinMethodType) and isinstance(obj.__self__, str):
            args = self.check_str_method(obj.__name__, obj.__self__, args, kwargs)
        elif isinstance(obj, LoopContext) and args:  # a recursive loop: loop(children)
            args = (_GuardedIterable(self, args[0]), *args[1:])
        return self.admit(context.call(obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.tick()
        self.check_binop(operator, left, right)
        return self.admit(self.binop_table[operator](left, right))

    def wrap_str_format(self, value: Any) -> Any:
        if (
            not isinstance(value, (types.MethodType, types.BuiltinMethodType))
            or value.__name__ not in ("format", "format_map")
            or not isinstance(value.__self__, str)
        ):
            return None
        text, is_map = str(value.__self__), value.__name__ == "format_map"

        def guarded_format(*args: Any, **kwargs: Any) -> str:
            if is_map and (kwargs or len(args) != 1):
                raise TypeError("format_map() takes exactly one argument")
            positional, named = ((), args[0]) if is_map else (args, kwargs)
            return str(_GuardedFormatter(self).vformat(text, positional, named))

        return guarded_format

    # -- globals and filters ------------------------------------------------------------------
    def _range(self, *args: int) -> range:
        numbers = range(*args)
        try:
            size = len(numbers)
        except OverflowError:
            size = self.limits.max_range + 1
        if size > self.limits.max_range:
            raise LimitExceeded(f"range() of more than {self.limits.max_range:,} numbers")
        return numbers

    def _wrap(self, func: Any, makes_text: bool = False) -> Any:
        """A filter behind the deadline whose result is admitted; one that turns its value into
        text first checks that the value can be shown."""

        at = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0  # after the environment/context

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            self.tick()
            if makes_text and len(args) > at and not isinstance(args[at], str):
                self.text_size(args[at])
            return self.admit(func(*args, **kwargs))

        return guarded

    @pass_context
    def _iter_guard(self, _context: Any, iterable: Any) -> _GuardedIterable:
        return _GuardedIterable(self, iterable)

    @pass_context
    def _concat_guard(self, _context: Any, parts: list[Any]) -> str:
        self.check_size(sum(map(self.text_size, parts)))
        return "".join(map(str, parts))

    @pass_context
    def _value_guard(self, _context: Any, value: Any) -> Any:
        self.weigh(value, self.work_limit)
        return value

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            self.check_size(self.text_size(value))
        return str(value)

    def _join(self, value: Iterable[Any], d: Any = "", attribute: Any = None) -> str:
        items = list(value)
        if attribute is not None:
            items = list(map(make_attrgetter(self, attribute), items))
        sep = str(d)
        self.check_size(len(sep) * max(len(items) - 1, 0) + sum(map(self.text_size, items)))
        return sep.join(map(str, items))

    def _replace(self, s: Any, old: Any, new: Any, count: int | None = None) -> str:
        text, old, new = self._text(s), str(old), str(new)
        self.check_replace(text, old, new, -1 if count is None else count)
        return text.replace(old, new, -1 if count is None else count)

    def _format(self, value: Any, *args: Any, **kwargs: Any) -> str:
        if args and kwargs:
            raise FilterArgumentError("can't handle positional and keyword arguments at the same time")
        text, values = self._text(value), kwargs or args
        self.check_percent(text, values)
        return text % values

    def _indent(self, s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
        text = self._text(s)
        pad = len(width) if isinstance(width, str) else width
        if isinstance(pad, int):
            self.check_size(len(text) + (text.count("\n") + 1) * max(pad, 0))
        return do_indent(text, width, first, blank)

    def _sum(self, iterable: Iterable[Any], attribute: Any = None, start: Any = 0) -> Any:
        """Numbers only: adding lists in a loop is quadratic work inside one uninterruptible call."""
        getter = make_attrgetter(self, attribute) if attribute is not None else None
        total = start
        for item in iterable:
            number = getter(item) if getter else item
            if type(number) not in _NUMBERS:
                raise TypeError(f"sum adds numbers, not {type(number).__name__}")
            total = total + number
        return total

    def _tojson(self, value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
        """Plain JSON (Jinja's version escapes ``<>&'`` for HTML, which would garble prompts)."""
        if indent is not None and not (type(indent) is int and 0 <= indent <= 16):
            raise FilterArgumentError("tojson: indent must be a whole number from 0 to 16")
        self.check_size(self.text_size(value))  # before json.dumps, which cannot be interrupted
        return json.dumps(self.to_json(value), ensure_ascii=False, indent=indent, sort_keys=bool(sort_keys))

    # -- results ------------------------------------------------------------------------------
    def to_json(self, value: Any) -> Any:
        """A fresh plain-JSON copy of ``value`` (never a reference into the scope)."""
        if type(value) in _JSON_SCALARS:
            return value
        count = [0]

        def convert(item: Any) -> Any:
            if type(item) in _JSON_SCALARS:
                return item
            count[0] += 1
            if count[0] > self.work_limit:
                raise LimitExceeded(f"the result is too large (more than {self.work_limit:,} items)")
            if not count[0] & 1023:
                self.tick()
            if isinstance(item, Undefined):
                item._fail_with_undefined_error()
            for kind in (str, int, float):  # subclasses (Markup, IntEnum) become the plain type
                if isinstance(item, kind):
                    return kind(item)
            if isinstance(item, Mapping):
                return {_json_key(k): convert(v) for k, v in item.items()}
            if isinstance(item, (list, tuple, range, KeysView, ValuesView, ItemsView, _GuardedIterable)) or (
                isinstance(item, Iterator) and not isinstance(item, LoopContext)
            ):
                return [convert(x) for x in item]
            raise not_json(item)

        return convert(value)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    raise TypeError(f"a dict key must be a string, not {type(key).__name__}")

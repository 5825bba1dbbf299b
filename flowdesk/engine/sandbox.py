"""The sandbox every template and expression runs in (docs/architecture.md §3).

Workflows may come from strangers (imported files), so this module is a security boundary. It
builds on Jinja2's ``ImmutableSandboxedEnvironment`` (no private or internal attributes, no
mutation of lists and dicts) and narrows it further: attributes of JSON values are allow-listed,
classes expose nothing, templates cannot load other templates, the filter set is small. Jinja
cannot bound time or size on its own, so the environment enforces a deadline wherever the
template does work (calls, attribute and item access, operators, every loop iteration, every
output chunk) and refuses values that would grow past the limits before it builds them.

Scope values are plain JSON; ``evaluate`` returns plain JSON (tuples become lists). For a dict,
``a.b`` means the key ``b`` when there is one, so a port called ``items`` or ``values`` works.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from time import monotonic
from typing import Any, Literal

from jinja2 import TemplateError, TemplateSyntaxError, nodes
from jinja2.environment import Template
from jinja2.lexer import describe_token
from jinja2.parser import Parser

from flowdesk.engine.sandbox_env import (
    QUOTE_CHARS,
    GuardedEnvironment,
    LimitExceeded,
    SandboxLimits,
)
from flowdesk.engine.sandbox_words import Mode, syntax_words

__all__ = ["Sandbox", "SandboxError", "SandboxLimits"]


class SandboxError(Exception):
    """A template or expression failed; the message is one line naming the field and the source."""

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.source = source


def _quote(source: str) -> str:
    text = source.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace('"', '\\"')
    return f'"{text[: QUOTE_CHARS - 3]}..."' if len(text) > QUOTE_CHARS else f'"{text}"'


def _describe(exc: BaseException, mode: Mode = "template") -> str:
    """What went wrong, in words a workflow author can act on, on one line."""
    if isinstance(exc, TemplateSyntaxError):
        detail = f"{syntax_words(exc.message or '', mode)} (line {exc.lineno})"
    elif isinstance(exc, (LimitExceeded, TemplateError)):
        detail = str(exc) or type(exc).__name__
    elif isinstance(exc, RecursionError):
        detail = "too deeply nested or recursive"
    elif isinstance(exc, MemoryError):
        detail = "ran out of memory"
    else:
        detail = f"{type(exc).__name__}: {exc}"
    detail = " ".join(detail.split())
    return detail if len(detail) <= 300 else detail[:297] + "..."


def _error(field: str | None, detail: str, source: str | None) -> SandboxError:
    """The one-line error: ``field: what went wrong in "source"`` (check_syntax wants just the detail)."""
    if field is None or source is None:
        return SandboxError(detail if field is None else f"{field}: {detail}", field=field, source=source)
    return SandboxError(f"{field}: {detail} in {_quote(source)}", field=field, source=source)


def _template_line(exc: BaseException, template: Template | None) -> int | None:
    """The template line the error happened on, read from the generated code's frames."""
    line, tb = None, exc.__traceback__
    while template is not None and tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


class Sandbox:
    """Renders templates and evaluates expressions from untrusted workflows, with limits.

    One instance holds one environment and one LRU cache of compiled sources; it can be shared
    by threads (the budget of the call in progress is per thread)."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits = limits or SandboxLimits()
        self._env = GuardedEnvironment(limits)
        self._globals = dict(self._env.globals)
        self._cache: OrderedDict[tuple[str, str], Template] = OrderedDict()
        self._lock = threading.Lock()
        self._compiled_count = 0

    @property
    def compiled_count(self) -> int:
        """How many sources were compiled so far (cache misses); lets tests see the cache work."""
        return self._compiled_count

    def render(self, template: str, scope: Mapping[str, Any], *, field: str = "template") -> str:
        """Render ``template`` with ``scope``; raises SandboxError on any failure or limit."""
        compiled = self._compiled(template, "template", field)
        return self._run(compiled, template, scope, field, self._collect)

    def evaluate(self, expression: str, scope: Mapping[str, Any], *, field: str = "expression") -> Any:
        """Evaluate ``expression`` with ``scope`` to a fresh JSON value; raises SandboxError."""
        compiled = self._compiled(expression, "expression", field)
        return self._run(compiled, expression, scope, field, None)

    def check_syntax(self, source: str, *, mode: Literal["template", "expression"]) -> str | None:
        """The reason ``source`` cannot run (a syntax error, with its line), or None if it compiles.
        Compiling also warms the cache for the run."""
        if mode not in ("template", "expression"):
            raise ValueError(f"mode must be 'template' or 'expression', not {mode!r}")
        try:
            self._compiled(source, mode, None)
        except SandboxError as exc:
            return str(exc.args[0])
        return None

    def _run(self, compiled: Template, source: str, scope: Mapping[str, Any], field: str, collect: Any) -> Any:
        state = self._env.state
        saved = state.deadline, state.produced
        state.deadline, state.produced = monotonic() + self.limits.timeout_s, 0
        try:
            # Not compiled.new_context(): copying its ChainMap of globals costs more than the expression.
            context = self._env.context_class(self._env, {**self._globals, **scope}, None, compiled.blocks)
            chunks = compiled.root_render_func(context)
            if collect is not None:
                return collect(chunks)
            for _ in chunks:
                pass
            return self._env.to_json(context.vars["result"])
        except Exception as exc:  # noqa: BLE001 - every failure of untrusted code becomes a SandboxError
            line = _template_line(exc, compiled) if "\n" in source else None
            raise _error(field, _describe(exc) + (f" (line {line})" if line else ""), source) from None
        finally:
            state.deadline, state.produced = saved

    def _collect(self, chunks: Iterable[str]) -> str:
        """Join output chunks, checking the output size and the deadline after each one."""
        limit, deadline, total, parts = self.limits.max_output_chars, self._env.state.deadline, 0, []
        for chunk in chunks:
            total += len(chunk)
            if total > limit:
                raise LimitExceeded(f"the output is longer than {limit:,} characters")
            if monotonic() > deadline:
                raise LimitExceeded(f"took longer than {self.limits.timeout_s} s")
            parts.append(chunk)
        return "".join(parts)

    def _compiled(self, source: str, mode: str, field: str | None) -> Template:
        """The compiled ``source`` from the LRU cache, compiling it on a miss."""
        if not isinstance(source, str):
            raise _error(field, f"the {mode} must be a string, not {type(source).__name__}", None)
        key = (mode, source)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        try:
            compiled = self._compile(source, mode)
        except Exception as exc:  # noqa: BLE001 - a source that cannot compile is the author's error
            raise _error(field, _describe(exc, "expression" if mode == "expression" else "template"), source) from None
        with self._lock:
            self._compiled_count += 1
            self._cache[key] = compiled
            while len(self._cache) > self.limits.max_cache:
                self._cache.popitem(last=False)
        return compiled

    def _compile(self, source: str, mode: str) -> Template:
        if mode == "template":
            return self._env.from_string(source)
        parser = Parser(self._env, source, state="variable")
        expr = parser.parse_expression()
        if not parser.stream.eos:
            token = parser.stream.current
            raise TemplateSyntaxError(f"unexpected {describe_token(token)!r} after the expression", token.lineno)
        body = nodes.Template([nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)], lineno=1)
        return self._env.from_string(body)

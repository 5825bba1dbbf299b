"""Reading a template or expression without running it: its syntax errors and what it refers to.

Validation (in the model layer, which cannot import Jinja's sandbox) asks this reader about every
template and expression of a workflow while the author types. The reader parses with the very
environment the sandbox runs (same syntax, filters, tests and refusals), walks the parse tree for
the names it reads (``run.inputs.topic``, ``nodes.fetch.output.body``, ``inputs.text``) and never
renders anything. Readings are cached by source: the Problems dock validates after every edit, and
only the edited source is new.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator

from jinja2 import TemplateSyntaxError, nodes
from jinja2.lexer import TokenStream
from jinja2.parser import Parser

from flowdesk.engine.sandbox_env import GuardedEnvironment, SandboxLimits
from flowdesk.engine.sandbox_rules import Hardener
from flowdesk.engine.sandbox_words import Mode, syntax_words
from flowdesk.model.validation_refs import Reference, SourceReading

_CACHE_SIZE = 20_000
_GUARDING_TESTS = frozenset({"defined", "undefined"})
_GUARDING_FILTERS = frozenset({"default", "d"})
_CHAR_AT = re.compile(r"unexpected char .+ at (?P<offset>\d+)")
_ONE_CHAR = re.compile(r"unexpected '(?P<char>.)'")
_NAMED = re.compile(r"No (?:filter|test) named '(?P<name>[^']+)'")


class SourceReader:
    """Implements the model's ``SourceReader``: one environment and one cache, shareable by threads."""

    def __init__(self) -> None:
        self._env = GuardedEnvironment(SandboxLimits())
        self._globals = frozenset(self._env.globals)
        self._cache: OrderedDict[tuple[str, str], SourceReading] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, text: str, mode: Mode) -> SourceReading:
        key = (mode, text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        reading = self._read(text, mode)
        with self._lock:
            self._cache[key] = reading
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return reading

    def _read(self, text: str, mode: Mode) -> SourceReading:
        offsets: list[int] = []
        try:
            tree = self._parse(text, mode, offsets)
            offsets.clear()  # what fails from here on is a whole construct, known by its line only
            references = tuple(_references(tree, self._assigned(tree) | self._globals))
            self._check_names(tree)
            Hardener().visit(tree)  # the sandbox's refusals (include, import, extends), as a run would meet them
        except TemplateSyntaxError as exc:
            message = exc.message or "the source cannot be read"
            line, column = _position(text, message, exc.lineno, offsets)
            return SourceReading(error=syntax_words(message, mode), line=line, column=column)
        except RecursionError:
            return SourceReading(error="it is nested too deeply to read", line=1)
        return SourceReading(references=references)

    def _parse(self, text: str, mode: Mode, offsets: list[int]) -> nodes.Node:
        """Parse as the sandbox does, noting where each token starts so an error gets its column."""
        state = "variable" if mode == "expression" else None
        parser = Parser(self._env, text, state=state)
        parser.stream = TokenStream(self._env.lexer.wrap(_located(self._env, text, state, offsets)), None, None)
        if mode == "template":
            return parser.parse()
        expr = parser.parse_expression()
        if not parser.stream.eos:
            token = parser.stream.current
            raise TemplateSyntaxError(f"unexpected '{token.value}' after the expression", token.lineno)
        return expr

    def _check_names(self, tree: nodes.Node) -> None:
        """Unknown filters and tests fail when the sandbox compiles the source; say so now."""
        for found in tree.find_all((nodes.Filter, nodes.Test)):
            known = self._env.filters if isinstance(found, nodes.Filter) else self._env.tests
            if found.name not in known:
                what = "filter" if isinstance(found, nodes.Filter) else "test"
                raise TemplateSyntaxError(f"No {what} named '{found.name}'.", found.lineno)

    @staticmethod
    def _assigned(tree: nodes.Node) -> frozenset[str]:
        """Names the source sets itself (loop variables, ``{% set %}``, macro parameters): not references."""
        return frozenset(n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param"))


def _located(
    env: GuardedEnvironment, text: str, state: str | None, offsets: list[int]
) -> Iterator[tuple[int, str, str]]:
    """The lexer's raw tokens, recording each one's offset in ``text`` as it is handed on."""
    position = 0
    for lineno, token, value in env.lexer.tokeniter(text, None, None, state):
        at = text.find(value, position) if value else position
        at = position if at < 0 else at
        offsets.append(at)
        position = at + len(value)
        yield lineno, token, value


def _position(text: str, message: str, line: int, offsets: list[int]) -> tuple[int, int | None]:
    """(line, column) of a syntax error, both from 1; the column when it can be told."""
    found = _CHAR_AT.search(message)
    if found is not None:
        offset = int(found.group("offset"))
    elif "end of template" in message:
        offset = len(text.rstrip())
    elif (named := _NAMED.search(message)) is not None:
        line_start = _line_start(text, line)
        at = text.find(named.group("name"), line_start)
        offset = at if at >= 0 else None
    elif (char := _ONE_CHAR.match(message)) is not None and offsets:
        at = text.find(char.group("char"), offsets[-1])  # the lexer stops on it: it is after the last token
        offset = at if at >= 0 else offsets[-1]
    else:
        offset = offsets[-1] if offsets else None
    if offset is None:
        return line, None
    line = text.count("\n", 0, offset) + 1
    return line, offset - _line_start(text, line) + 1


def _line_start(text: str, line: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
    return start


def _chain(node: nodes.Node) -> tuple[tuple[str | int, ...], list[nodes.Node]] | None:
    """``a.b['c'][0]`` as ('a', 'b', 'c', 0), with the non-constant subscripts met on the way; None
    when the chain does not start at a plain name (``(x | list)[0]``)."""
    path: list[str | int] = []
    others: list[nodes.Node] = []
    while True:
        if isinstance(node, nodes.Getattr):
            path.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem):
            arg = node.arg
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str | int) and not isinstance(arg.value, bool):
                path.append(arg.value)
            else:
                path.clear()  # a computed key: only what comes before it is known
                others.append(arg)
            node = node.node
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            path.append(node.name)
            return tuple(reversed(path)), others
        else:
            return None


def _references(tree: nodes.Node, skip: frozenset[str]) -> Iterator[Reference]:
    """Every name path the source reads (the longest known prefix of each), marked when guarded by
    ``is defined`` or ``| default``, where a missing value is expected."""
    stack: list[tuple[nodes.Node, bool]] = [(tree, False)]
    while stack:
        node, guarded = stack.pop()
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            found = _chain(node)
            if found is not None:
                path, others = found
                if path and path[0] not in skip:
                    yield Reference(path, node.lineno, guarded)
                stack.extend((other, guarded) for other in others)
                continue
        if isinstance(node, nodes.Test) and node.name in _GUARDING_TESTS:
            stack.append((node.node, True))
            stack.extend((child, guarded) for child in (*node.args, *(kw.value for kw in node.kwargs)))
            continue
        if isinstance(node, nodes.Filter) and node.name in _GUARDING_FILTERS and node.node is not None:
            stack.append((node.node, True))
            stack.extend((child, guarded) for child in (*node.args, *(kw.value for kw in node.kwargs)))
            continue
        stack.extend((child, guarded) for child in node.iter_child_nodes())

"""What the sandbox lets a template reach, and how a parsed template is rewritten to call the guards.

Split from ``sandbox_env`` (the environment that enforces it): these are the policy's data and the
AST rewrite, the part a security review reads first.
"""

from __future__ import annotations

from typing import Any, NoReturn

from jinja2 import TemplateSyntaxError, nodes
from jinja2.visitor import NodeTransformer

# Names the lexer cannot produce, so only the AST rewrite below can call these guards.
ITER_GUARD, CONCAT_GUARD, VALUE_GUARD = "flowdesk:iter", "flowdesk:concat", "flowdesk:value"

GENERIC_FILTERS = (
    "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "first", "float", "groupby",
    "int", "items", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
    "reverse", "round", "select", "selectattr", "sort", "title", "trim", "truncate", "unique", "upper",
    "urlencode", "wordcount",
)  # fmt: skip
TEXT_FILTERS = frozenset({"capitalize", "lower", "title", "trim", "truncate", "upper", "urlencode", "wordcount"})
"""Generic filters that turn their value into text first (so they must not be handed a function)."""
# No encode/translate/maketrans (they amplify); format is reached only through wrap_str_format.
STR_ATTRS = frozenset({
    "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find", "index", "isalnum",
    "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isspace",
    "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix",
    "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
    "startswith", "strip", "swapcase", "title", "upper", "zfill",
})  # fmt: skip
NUM_ATTRS = frozenset({"real", "imag", "numerator", "denominator", "is_integer", "bit_length", "conjugate"})
ALLOWED_ATTRS: dict[type, frozenset[str]] = {
    str: STR_ATTRS, int: NUM_ATTRS, float: NUM_ATTRS, bool: NUM_ATTRS,
    list: frozenset({"count", "index", "copy"}), tuple: frozenset({"count", "index"}),
    dict: frozenset({"get", "items", "keys", "values", "copy"}),
}  # fmt: skip


class Hardener(NodeTransformer):
    """Rewrites a parsed template so that the code Jinja generates calls the guards: each loop
    iterates through a deadline check, literal text goes through ``finalize`` (which counts it, also
    inside macro and ``{% set %}`` buffers), ``~`` and non-constant literals are size-checked."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _guard(node.iter, ITER_GUARD)
        return node

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)
        node.nodes = [
            nodes.Const(c.data, lineno=c.lineno) if isinstance(c, nodes.TemplateData) else c for c in node.nodes
        ]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _guard(nodes.List(node.nodes, lineno=node.lineno), CONCAT_GUARD)

    def _literal(self, node: nodes.Expr) -> nodes.Node:
        self.generic_visit(node)
        if getattr(node, "ctx", "load") != "load" or _is_static(node):
            return node
        return _guard(node, VALUE_GUARD)

    visit_List = visit_Tuple = visit_Dict = _literal

    def _refuse(self, node: nodes.Node) -> NoReturn:
        word = {"FromImport": "from ... import"}.get(type(node).__name__, type(node).__name__.lower())
        raise TemplateSyntaxError(f"'{word}' is not allowed: templates cannot load other templates", node.lineno)

    visit_Extends = visit_Include = visit_Import = visit_FromImport = _refuse


def _guard(node: Any, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


def _is_static(node: nodes.Node) -> bool:
    static = (nodes.Const, nodes.List, nodes.Tuple, nodes.Dict, nodes.Pair)
    return isinstance(node, static) and all(isinstance(n, static) for n in node.find_all(nodes.Node))

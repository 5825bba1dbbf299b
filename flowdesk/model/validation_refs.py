"""Mistakes inside templates and expressions, found while typing: syntax, and names that lead nowhere.

A prompt reading ``run.inputs.topc`` or ``nodes.fetch.output.bdy`` used to fail only when a run got
there, minutes and tokens later. This rule reads every template and expression of the workflow
(each kind says where they are: ``KindSpec.sources``; a loop edge's ``until``) and reports, on the
node and the field, a syntax error with its line and column, a run input that is not declared, a
node that does not exist, a port a node does not have, and a node inside a for_each's body read
from outside it (it runs once per item, in the items' own runs: after the collect it has no value).
References guarded by ``is defined`` or ``| default`` are left alone: there a missing value is what
the author expects.

Parsing needs the sandbox's Jinja environment, which lives in the engine, above this layer; the
caller hands a :class:`SourceReader` in (``validate(..., sources=...)``), as it hands the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from flowdesk.model.bodies import Body, find_bodies
from flowdesk.model.kinds import KindSpec
from flowdesk.model.problems import Problem
from flowdesk.model.validation_context import ValidationContext, edge_label, node_label
from flowdesk.model.workflow import Node

_READABLE = "inputs, run.inputs, nodes.<id>.output and loop"
_TEMPLATE_NAMES = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})
"""Names Jinja itself provides inside loops, macros and blocks."""
_MAX_LISTED = 12


class Reference(NamedTuple):
    """A name path a source reads, e.g. ('nodes', 'fetch', 'output', 'body'), on a line from 1."""

    path: tuple[str | int, ...]
    line: int
    guarded: bool = False
    """Inside ``is defined`` / ``is undefined`` or ``| default``: a missing value is expected there."""


class SourceReading(NamedTuple):
    """What reading a source found: a syntax error (reworded, with its place) or its references."""

    error: str | None = None
    line: int | None = None
    column: int | None = None
    references: tuple[Reference, ...] = ()


class SourceReader(Protocol):
    """Parses templates and expressions without running them (the engine implements it)."""

    def read(self, text: str, mode: Literal["template", "expression"]) -> SourceReading: ...


@dataclass(frozen=True)
class _Place:
    """Where a source sits, and what it may read there."""

    label: str
    """``Node 'Ask' (ask): the prompt (config.prompt)``: how a message starts."""
    field: str
    node_id: str | None
    edge_id: str | None
    inputs: frozenset[str]
    """The names ``inputs.<name>`` may take: the node's input ports."""
    roots: frozenset[str] = frozenset({"inputs", "run", "nodes"})
    bodies: Mapping[str, Body] | None = None
    """The for_each body each body node runs in, by node id (None: the workflow has no bodies)."""
    body: str | None = None
    """The opener of the body this source itself runs in, if any: its nodes can read each other."""

    def problem(self, code: str, text: str) -> Problem:
        return Problem("error", code, f"{self.label} {text}.", node_id=self.node_id, edge_id=self.edge_id,
                       field=self.field)  # fmt: skip


def reference_problems(ctx: ValidationContext) -> Iterator[Problem]:
    """Problems in every template and expression of the workflow (none without a reader)."""
    reader = ctx.sources
    if reader is None:
        return
    declared = sorted(i.name for i in ctx.workflow.inputs)
    bodies = _body_of_each_node(ctx)
    for node_id, node in ctx.nodes.items():
        spec = ctx.specs[node_id]
        if spec is None or spec.sources is None or not spec.runnable:
            continue
        inputs = frozenset(p.name for p in ctx.ports[node_id].inputs)
        body = _opener(bodies, node_id)
        for source in spec.sources(node.config):
            place = _Place(_node_place(node, spec, source.field), f"config.{source.field}", node_id, None, inputs,
                           bodies=bodies, body=body)  # fmt: skip
            yield from _reading_problems(ctx, reader.read(source.text, source.mode), place, declared)
    for edge in ctx.workflow.edges:
        if edge.loop is not None and edge.loop.until:
            place = _Place(f"{edge_label(edge)}: its 'until' expression (loop.until)", "loop.until", None, edge.id,
                           frozenset({"value"}), frozenset({"inputs", "run", "nodes", "value"}), bodies=bodies,
                           body=_opener(bodies, edge.source))  # fmt: skip
            yield from _reading_problems(ctx, reader.read(edge.loop.until, "expression"), place, declared)


def _body_of_each_node(ctx: ValidationContext) -> dict[str, Body] | None:
    """The body each node inside a for_each's body belongs to (not the for_each or collect: those run
    once, in the outer run); None when no kind of the workflow opens a body."""
    if not any(spec is not None and spec.body == "opens" for spec in ctx.specs.values()):
        return None
    return {node_id: body for body in find_bodies(ctx.workflow, ctx.catalog) for node_id in body.nodes}


def _opener(bodies: Mapping[str, Body] | None, node_id: str) -> str | None:
    body = bodies.get(node_id) if bodies is not None else None
    return body.opener if body is not None else None


def _node_place(node: Node, spec: KindSpec, field: str) -> str:
    top, _, rest = field.partition(".")
    words = _setting_words(spec, top)
    setting = f"{words} '{rest}'" if rest else f"the {words}"
    return f"{node_label(node)}: {setting} (config.{field})"


def _setting_words(spec: KindSpec, name: str) -> str:
    """What the kind calls a setting: the start of its description when that is a short name ("System
    prompt (template)." -> "system prompt", "URL (template)." -> "URL"), else its name in words."""
    info = spec.config_model.model_fields.get(name)
    described = re.split(r" \(|[;.]", info.description or "", maxsplit=1)[0].strip() if info is not None else ""
    if described and len(described.split()) <= 3:
        return described if described.isupper() else described[:1].lower() + described[1:]
    return name.replace("_", " ")


def _reading_problems(
    ctx: ValidationContext, reading: SourceReading, place: _Place, declared: list[str]
) -> Iterator[Problem]:
    if reading.error is not None:
        where = f"line {reading.line}, column {reading.column}" if reading.column else f"line {reading.line}"
        yield place.problem("source-syntax", f"has a mistake at {where}: {reading.error}")
        return
    said: set[str] = set()
    for ref in reading.references:
        if ref.guarded:
            continue
        found = _reference_problem(ctx, ref, place, declared)
        if found is not None and found.message not in said:
            said.add(found.message)
            yield found


def _reference_problem(ctx: ValidationContext, ref: Reference, place: _Place, declared: list[str]) -> Problem | None:
    path = ref.path
    root = path[0]
    shown = _dotted(path)
    if root in _TEMPLATE_NAMES:
        return None
    if root not in place.roots:
        return place.problem("unknown-name", f"reads '{root}', which is not defined there (it can read {_READABLE})")
    if root == "run" and len(path) >= 2:
        if path[1] == "inputs" and len(path) >= 3 and path[2] not in declared:
            there = f"its run inputs: {_listed(declared)}" if declared else "the workflow declares no run inputs"
            return place.problem("undeclared-run-input", f"reads {shown}, but '{path[2]}' is not a run input ({there})")
        if path[1] not in ("inputs", "id"):
            return place.problem("unknown-name", f"reads {shown}, but run has only run.inputs and run.id")
    if root == "nodes" and len(path) >= 2:
        return _node_reference(ctx, path, place, shown)
    if root == "inputs" and len(path) >= 2 and isinstance(path[1], str) and path[1] not in place.inputs:
        ports = f"its input ports: {_listed(sorted(place.inputs))}" if place.inputs else "it has no input ports"
        return place.problem("unknown-port-reference", f"reads {shown}, but there is no input '{path[1]}' ({ports})")
    return None


def _node_reference(ctx: ValidationContext, path: tuple[str | int, ...], place: _Place, shown: str) -> Problem | None:
    target = path[1]
    if not isinstance(target, str) or target not in ctx.nodes:
        return place.problem("unknown-node-reference", f"reads {shown}, but there is no node '{target}'")
    if len(path) >= 3 and path[2] != "output":
        return place.problem("unknown-name", f"reads {shown}; a node offers only its outputs: nodes.{target}.output")
    body = place.bodies.get(target) if place.bodies is not None else None
    if body is not None and body.opener != place.body:
        return _outside_body(ctx, body, place, shown, target)
    if len(path) >= 4 and isinstance(path[3], str):
        outputs = [p.name for p in ctx.ports[target].outputs]
        if path[3] not in outputs:
            has = f"its outputs: {_listed(outputs)}" if outputs else "it has no outputs"
            return place.problem(
                "unknown-port-reference", f"reads {shown}, but node '{target}' has no output '{path[3]}' ({has})"
            )
    return None


def _outside_body(ctx: ValidationContext, body: Body, place: _Place, shown: str, target: str) -> Problem:
    opener = ctx.nodes.get(body.opener)
    loop = f"'{opener.title}' ({body.opener})" if opener is not None and opener.name else f"'{body.opener}'"
    instead = (
        f"read the results from its 'collect' node instead: nodes.{body.closer}.output"
        if body.closer is not None
        else "read the results from its 'collect' node instead"
    )
    text = (
        f"reads {shown}, but node '{target}' is inside the loop body of {loop}: it runs once per item, in each"
        f" item's own run, so outside that body it has no value; {instead}"
    )
    return place.problem("body-node-reference", text)


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(
        (str(p) if i == 0 else f".{p}") if isinstance(p, str) and p.isidentifier() else f"[{p!r}]"
        for i, p in enumerate(path)
    )


def _listed(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


__all__ = ["Reference", "SourceReader", "SourceReading", "reference_problems"]

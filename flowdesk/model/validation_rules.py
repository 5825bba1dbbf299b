"""Validation rules that need no graph search: ids, kinds, ports, wiring, start and output nodes.

Each rule is a generator over the shared :class:`ValidationContext`, so a rule can be read and
tested on its own, and none walks the workflow more than once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import BaseModel

from flowdesk.model.kinds import ERROR_PORT, Direction, PortSpec
from flowdesk.model.problems import Problem, Severity
from flowdesk.model.types import compatible, incompatibility_reason
from flowdesk.model.validation_context import (
    OUTPUT_KIND,
    START_KIND,
    EdgeEnds,
    ValidationContext,
    edge_label,
    node_label,
)
from flowdesk.model.workflow import Node

End = Literal["source", "target"]


def _names(items: Sequence[str]) -> str:
    return ", ".join(repr(i) for i in items)


def duplicate_ids(ctx: ValidationContext) -> Iterator[Problem]:
    """One problem per id used twice (not one per pair), so a pasted block does not flood the list."""
    if len(ctx.nodes) != len(ctx.workflow.nodes):
        clashes: dict[str, list[Node]] = defaultdict(list)
        for node in ctx.workflow.nodes:
            clashes[node.id].append(node)
        for node_id, same in clashes.items():
            if len(same) > 1:
                text = (
                    f"Node id {node_id!r} is used by {len(same)} nodes ({_names([n.title for n in same])}); "
                    "ids must be unique, and only the first of them is checked further."
                )
                yield Problem("error", "duplicate-node-id", text, node_id=node_id, field="id")
    edge_ids = [edge.id for edge in ctx.workflow.edges]
    if len(set(edge_ids)) == len(edge_ids):
        return
    for edge_id, count in Counter(edge_ids).items():
        if count > 1:
            text = f"Edge id {edge_id!r} is used by {count} edges; ids must be unique."
            yield Problem("error", "duplicate-edge-id", text, edge_id=edge_id, field="id")


def unknown_kinds(ctx: ValidationContext) -> Iterator[Problem]:
    """A placeholder blocks a run (there is no code to run it) but never blocks editing or saving."""
    severity: Severity = "error" if ctx.for_run else "warning"
    for node_id, node in ctx.nodes.items():
        if ctx.specs[node_id] is None:
            text = (
                f"{node_label(node)}: kind {node.kind!r} is not installed, so the node is kept unchanged "
                "as a placeholder and cannot run."
            )
            yield Problem(severity, "unknown-kind", text, node_id=node_id, field="kind")


def edge_problems(ctx: ValidationContext) -> Iterator[Problem]:
    """Dangling ends, unknown or wrong-way ports, and type mismatches, for every edge."""
    for ends in ctx.ends():
        if ends.dangling:
            yield from _dangling(ends)
            continue
        if ends.source_port is None:
            yield _port_problem(ctx, ends, "source")
        if ends.target_port is None:
            yield _port_problem(ctx, ends, "target")
        elif ends.source_port is not None and not compatible(ends.source_port.type, ends.target_port.type):
            yield _type_problem(ends, ends.source_port, ends.target_port)


def _dangling(ends: EdgeEnds) -> Iterator[Problem]:
    edge = ends.edge
    for end, node, node_id in (("source", ends.source, edge.source), ("target", ends.target, edge.target)):
        if node is None:
            text = f"{edge_label(edge)}: its {end} node {node_id!r} does not exist."
            yield Problem("error", "dangling-edge", text, edge_id=edge.id, field=end)


def _port_problem(ctx: ValidationContext, ends: EdgeEnds, end: End) -> Problem:
    edge = ends.edge
    node = ends.source if end == "source" else ends.target
    assert node is not None  # dangling edges are reported before ports are looked at
    name = edge.source_port if end == "source" else edge.target_port
    code, reason = _why_no_port(ctx, node, name, end)
    return Problem(
        "error", code, f"{edge_label(edge)}: {reason}.", node_id=node.id, edge_id=edge.id, field=f"{end}_port"
    )


def _why_no_port(ctx: ValidationContext, node: Node, name: str, end: End) -> tuple[str, str]:
    """Why ``node`` has no ``name`` port at this end: the likeliest cause first, said in its terms."""
    spec = ctx.specs[node.id]
    ports = ctx.ports[node.id]
    label = node_label(node)
    wanted: Direction = "output" if end == "source" else "input"
    other: Direction = "input" if end == "source" else "output"
    available = ports.outputs if end == "source" else ports.inputs
    if spec is not None and not spec.runnable:
        return "unknown-port", f"{label} is a {spec.display_name}, which has no ports, so no edge can connect to it"
    if end == "source" and name == ERROR_PORT and node.on_error == "fail":
        return "unknown-port", f"{label} has an 'error' port only when its on_error is 'continue'"
    if not available:
        what = "gives no outputs, so no edge can start" if end == "source" else "takes no inputs, so no edge can end"
        return "unknown-port", f"{label} {what} at it"
    if ports.get(other, name) is not None:
        verb = "start" if end == "source" else "end"
        return "port-direction", f"{name!r} is an {other} port of {label}; an edge must {verb} at an {wanted} port"
    return (
        "unknown-port",
        f"{label} has no {wanted} port {name!r} (its {wanted}s: {_names([p.name for p in available])})",
    )


def _type_problem(ends: EdgeEnds, source: PortSpec, target: PortSpec) -> Problem:
    assert ends.source is not None and ends.target is not None
    reason = incompatibility_reason(source.type, target.type)
    text = f"{edge_label(ends.edge)}: {reason} (from {node_label(ends.source)} to {node_label(ends.target)})."
    return Problem("error", "type-mismatch", text, node_id=ends.target.id, edge_id=ends.edge.id, field="target_port")


def multiple_feeds(ctx: ValidationContext) -> Iterator[Problem]:
    """Only one value can arrive on a port per pass; loop edges are exempt, they feed the next pass."""
    for (node_id, port), edges in ctx.feeds(loop=False).crowded.items():
        text = (
            f"{ctx.label(node_id)}: input {port!r} is fed by {len(edges)} edges "
            f"({', '.join(e.id for e in edges)}), but only one value can arrive; join them with a Merge node."
        )
        yield Problem("error", "multiple-feeds", text, node_id=node_id, edge_id=edges[1].id, field="target_port")


def required_inputs(ctx: ValidationContext) -> Iterator[Problem]:
    """A required port needs a forward edge: a loop edge alone leaves it empty on the first pass."""
    forward = ctx.feeds(loop=False).first
    loops = ctx.feeds(loop=True).first
    for node_id, node in ctx.nodes.items():
        if ctx.specs[node_id] is None:
            continue
        for port in ctx.ports[node_id].inputs:
            key = (node_id, port.name)
            if not port.required or key in forward:
                continue
            why = (
                "only a loop edge feeds it, so the first pass has no value"
                if key in loops
                else "nothing is connected to it"
            )
            text = f"{node_label(node)}: input {port.name!r} is required but {why}."
            yield Problem("error", "required-input", text, node_id=node_id)


def singletons(ctx: ValidationContext) -> Iterator[Problem]:
    """Each node beyond the first of a one-per-workflow kind is flagged, so every extra one gets a badge."""
    first: dict[str, Node] = {}
    for node_id, node in ctx.nodes.items():
        spec = ctx.specs[node_id]
        if spec is None or not spec.singleton:
            continue
        if node.kind not in first:
            first[node.kind] = node
            continue
        text = (
            f"{node_label(node)}: a workflow can have only one {spec.display_name} node, "
            f"and {node_label(first[node.kind])} is already one."
        )
        yield Problem("error", "duplicate-singleton", text, node_id=node_id, field="kind")


CALLING = ("map", "subworkflow")
"""Kinds whose children (map items, a sub-workflow call) are sent to a run's cluster without remote."""


def remote_problems(ctx: ValidationContext) -> Iterator[Problem]:
    """``remote: true`` only where a worker can do the node's work (its kind says so)."""
    for node_id, node in ctx.nodes.items():
        spec = ctx.specs[node_id]
        if not node.remote or spec is None or spec.remote:
            continue
        text = (
            f"{node_label(node)}: remote is for nodes that do work (an LLM call, a tool, an HTTP call, a "
            f"transform); {spec.display_name} nodes cannot run on the cluster, so turn its remote off"
            + (
                " (its workflow runs go to the cluster by themselves when the run has one)."
                if node.kind in CALLING
                else "."
            )
        )
        yield Problem("error", "remote-not-allowed", text, node_id=node_id, field="remote")


def run_shape(ctx: ValidationContext) -> Iterator[Problem]:
    """Whether the workflow as a whole makes a sensible run: something to run, inputs in, outputs out."""
    if ctx.for_run and not ctx.graph_node_ids():
        text = "The workflow has no nodes that can run; add at least one node besides notes."
        yield Problem("error", "nothing-to-run", text)
    elif ctx.for_run and not ctx.nodes_of_kind(OUTPUT_KIND):
        yield Problem("warning", "no-output", "The workflow has no Output node, so the run will produce no outputs.")
    if ctx.workflow.inputs and not ctx.nodes_of_kind(START_KIND):
        names = _names([i.name for i in ctx.workflow.inputs])
        text = (
            f"The workflow declares run inputs ({names}) but has no Start node to pass them on; "
            "only templates reading run.inputs will see them."
        )
        yield Problem("warning", "inputs-without-start", text, field="inputs")
    yield from _duplicate_input_names(ctx)
    yield from _duplicate_output_names(ctx)


def _duplicate_input_names(ctx: ValidationContext) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, run_input in enumerate(ctx.workflow.inputs):
        if run_input.name in seen:
            text = f"Run input {run_input.name!r} is declared more than once; input names must be unique."
            yield Problem("error", "duplicate-input-name", text, field=f"inputs.{index}.name")
        seen.add(run_input.name)


def _duplicate_output_names(ctx: ValidationContext) -> Iterator[Problem]:
    """Two outputs under one name would overwrite each other in the run's outputs."""
    first: dict[str, Node] = {}
    for node in ctx.nodes_of_kind(OUTPUT_KIND):
        parsed = ctx.parsed_config(node.id)
        name = getattr(parsed, "name", None) if isinstance(parsed, BaseModel) else None
        if not isinstance(name, str):
            continue
        if name not in first:
            first[name] = node
            continue
        text = (
            f"{node_label(node)}: output name {name!r} is already used by {node_label(first[name])}; "
            "one value would overwrite the other."
        )
        yield Problem("error", "duplicate-output-name", text, node_id=node.id, field="config.name")

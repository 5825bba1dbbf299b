"""A validated workflow compiled for execution: nodes and edges by integer index.

Built once per run; the executor's hot path touches only these arrays (no networkx, no scans of
the whole graph per step, docs/architecture.md §3).

A plan lives as long as its run, and is built in one burst, so it is laid out to cost the garbage
collector little. Edges are columns (one list per field, indexed by edge) rather than an object
each, and a node's edge indices are exact tuples of ints, which the collector stops tracking the
first time it sees them. A 10,000-node, 20,000-edge plan leaves about 10,000 tracked objects (its
nodes) instead of 60,000; that many new long-lived objects used to set off a full collection of
everything the process holds in the middle of compiling (a third of the time of a 10,000-node run).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from pydantic import BaseModel

from flowdesk.model.kinds import Catalog, KindSpec
from flowdesk.model.workflow import LoopSettings, Node, Workflow


class PlanEdge(NamedTuple):
    """One edge, gathered from the plan's columns (for the code that handles loops, off the hot path)."""

    index: int
    id: str
    source: int
    source_port: str
    target: int
    target_port: str
    loop: LoopSettings | None


@dataclass(slots=True)
class PlanNode:
    index: int
    id: str
    node: Node
    spec: KindSpec
    config: BaseModel
    in_edges: tuple[int, ...] = ()
    """Forward edges into this node: its count of unresolved inputs starts at their number."""
    out_edges: tuple[int, ...] = ()
    """Forward edges out of it, resolved when it finishes."""
    loop_out: tuple[int, ...] = ()
    """Loop edges out of it, back to an ancestor."""


class Plan:
    def __init__(self, workflow: Workflow, catalog: Catalog) -> None:
        self.workflow = workflow
        self.nodes: list[PlanNode] = []
        self.by_id: dict[str, int] = {}
        self._add_nodes(workflow, catalog)
        edges, by_id = workflow.edges, self.by_id
        # whole columns at a time (map and attrgetter loop in C: a 20,000-edge workflow is 120,000 reads)
        self.edge_ids: list[str] = list(map(attrgetter("id"), edges))
        self.sources: list[int] = list(map(by_id.__getitem__, map(attrgetter("source"), edges)))
        self.source_ports: list[str] = list(map(attrgetter("source_port"), edges))
        self.targets: list[int] = list(map(by_id.__getitem__, map(attrgetter("target"), edges)))
        self.target_ports: list[str] = list(map(attrgetter("target_port"), edges))
        self.loops: list[LoopSettings | None] = list(map(attrgetter("loop"), edges))
        self._link_nodes()
        self._bodies: dict[int, frozenset[int]] = {}
        self._nested: dict[int, frozenset[int]] = {}
        self.has_pins = any(pn.node.pinned is not None for pn in self.nodes)
        self.bodies: dict[str, Workflow] = {}
        """The inline loop bodies of its for_each nodes, by node id (engine/inline_bodies.py)."""
        self.fires_after: list[int] = [
            pn.spec.fires_after(pn.config) if pn.spec.fires_after is not None else 0 for pn in self.nodes
        ]
        """Per node: arrived values that make it run before all its inputs are in (a racing merge), else 0."""

    def _add_nodes(self, workflow: Workflow, catalog: Catalog) -> None:
        """The nodes that run, by index; a kind's default config is parsed once (configs are never mutated)."""
        kinds: dict[str, tuple[KindSpec | None, BaseModel | None]] = {}
        nodes, by_id = self.nodes, self.by_id
        for node in workflow.nodes:
            known = kinds.get(node.kind)
            if known is None:
                spec = catalog.get(node.kind)
                known = kinds[node.kind] = (spec, spec.parse_config({}) if spec is not None and spec.runnable else None)
            spec, default = known
            if default is None:  # not installed, or never runs (a note)
                continue
            assert spec is not None
            by_id[node.id] = len(nodes)
            nodes.append(
                PlanNode(len(nodes), node.id, node, spec, spec.parse_config(node.config) if node.config else default)
            )

    def _link_nodes(self) -> None:
        forward = [e for e, loop in enumerate(self.loops) if loop is None]
        backward = [e for e, loop in enumerate(self.loops) if loop is not None]
        count = len(self.nodes)
        into, out = _grouped(forward, self.targets, count), _grouped(forward, self.sources, count)
        for pn, in_edges, out_edges in zip(self.nodes, into, out, strict=True):
            pn.in_edges, pn.out_edges = in_edges, out_edges
        for src, loop_out in enumerate(_grouped(backward, self.sources, count)):
            if loop_out:
                self.nodes[src].loop_out = loop_out

    @property
    def edge_count(self) -> int:
        return len(self.edge_ids)

    def edge(self, e: int) -> PlanEdge:
        return PlanEdge(
            e, self.edge_ids[e], self.sources[e], self.source_ports[e], self.targets[e], self.target_ports[e],
            self.loops[e],
        )  # fmt: skip

    def descendants(self, start: int) -> set[int]:
        """``start`` and every node reachable from it along forward edges."""
        seen = {start}
        frontier = [start]
        while frontier:
            current = frontier.pop()
            for e in self.nodes[current].out_edges:
                nxt = self.targets[e]
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return seen

    def loop_body(self, edge_index: int) -> frozenset[int]:
        """Nodes a loop edge re-runs: its target and everything downstream of it."""
        body = self._bodies.get(edge_index)
        if body is None:
            body = frozenset(self.descendants(self.targets[edge_index]))
            self._bodies[edge_index] = body
        return body

    def nested_bodies(self, edge_index: int) -> frozenset[int]:
        """Nodes of ``edge_index``'s body that are inside a loop nested in it: their ``loop.index``
        follows that inner loop, which starts again at its first pass on each pass of this one."""
        nested = self._nested.get(edge_index)
        if nested is None:
            body = self.loop_body(edge_index)
            inner: set[int] = set()
            for e, loop in enumerate(self.loops):
                if loop is not None and e != edge_index and self.sources[e] in body and self.targets[e] in body:
                    inner_body = self.loop_body(e)
                    if inner_body < body:
                        inner |= inner_body
            nested = self._nested[edge_index] = frozenset(inner)
        return nested


def _grouped(edges: list[int], ends: list[int], count: int) -> list[tuple[int, ...]]:
    """``edges`` grouped by node (``ends[e]`` is edge e's node), in their order, one tuple per node.

    A stable sort and ``groupby``, both in C: no list per node is ever alive (see the module
    docstring for why that matters).
    """
    grouped: list[tuple[int, ...]] = [()] * count
    end_of = ends.__getitem__
    for node, group in groupby(sorted(edges, key=end_of), key=end_of):
        grouped[node] = tuple(group)
    return grouped

"""A validated workflow compiled for execution: nodes and edges by integer index.

Built once per run; the executor's hot path touches only these lists (no networkx, no scans of
the whole graph per step, DESIGN.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from flowdesk.model.kinds import Catalog, KindSpec
from flowdesk.model.workflow import LoopSettings, Node, Workflow


@dataclass(slots=True)
class PlanEdge:
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
    in_edges: list[int] = field(default_factory=list)
    out_edges: list[int] = field(default_factory=list)
    loop_out: list[int] = field(default_factory=list)


class Plan:
    def __init__(self, workflow: Workflow, catalog: Catalog) -> None:
        self.workflow = workflow
        self.nodes: list[PlanNode] = []
        self.by_id: dict[str, int] = {}
        defaults: dict[str, BaseModel] = {}
        for node in workflow.nodes:
            spec = catalog.get(node.kind)
            if spec is None or not spec.runnable:
                continue
            if node.config:
                config = spec.parse_config(node.config)
            else:  # many nodes keep every default: parse those once per kind (configs are never mutated)
                config = defaults.get(spec.name) or defaults.setdefault(spec.name, spec.parse_config({}))
            self.by_id[node.id] = len(self.nodes)
            self.nodes.append(PlanNode(len(self.nodes), node.id, node, spec, config))
        self.edges: list[PlanEdge] = []
        by_id, nodes, edges = self.by_id, self.nodes, self.edges
        for edge in workflow.edges:  # the hot loop of compiling a big workflow: kept flat
            src, dst = by_id[edge.source], by_id[edge.target]
            index = len(edges)
            edges.append(PlanEdge(index, edge.id, src, edge.source_port, dst, edge.target_port, edge.loop))
            if edge.loop is None:
                nodes[src].out_edges.append(index)
                nodes[dst].in_edges.append(index)
            else:
                nodes[src].loop_out.append(index)
        self._bodies: dict[int, frozenset[int]] = {}

    def descendants(self, start: int) -> set[int]:
        """``start`` and every node reachable from it along forward edges."""
        seen = {start}
        frontier = [start]
        while frontier:
            current = frontier.pop()
            for e in self.nodes[current].out_edges:
                nxt = self.edges[e].target
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return seen

    def loop_body(self, edge_index: int) -> frozenset[int]:
        """Nodes a loop edge re-runs: its target and everything downstream of it."""
        body = self._bodies.get(edge_index)
        if body is None:
            body = frozenset(self.descendants(self.edges[edge_index].target))
            self._bodies[edge_index] = body
        return body

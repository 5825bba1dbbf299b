"""Validation rules over the graph's shape: forward cycles, loop edges that do not lead back, reachability.

The engine schedules by counting unresolved forward edges, which only terminates on a DAG, and
runs a loop by resetting the loop edge's target and everything downstream of it; both promises
are checked here, once, before the run (docs/architecture.md §3).

Almost every graph that is validated is a DAG, so the common case is settled by one pass of
Kahn's algorithm over plain integer lists (about a fifth of the time of building a networkx
DiGraph of a 10,000-node workflow, and far fewer objects for the garbage collector to walk).
Only the nodes that pass leaves behind, which are the cycles and what hangs below them, go into
a networkx DiGraph, whose strongly connected components give each tangle of cycles once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from flowdesk.model.problems import Problem
from flowdesk.model.validation_context import START_KIND, ValidationContext, edge_label, node_label

if TYPE_CHECKING:  # imported only when there is a cycle to report: networkx takes ~0.2 s, too long for start-up
    import networkx as nx

_MAX_LISTED = 12
"""Node ids listed for one tangle of cycles; a generated graph can put thousands in one."""


class ForwardGraph:
    """The forward edges between nodes that run (notes and dangling edges left out), by node index.

    ``order[i]`` is node i's place in a topological order, or -1 when a cycle holds it back.
    """

    def __init__(self, ctx: ValidationContext) -> None:
        self.ids: list[str] = ctx.graph_node_ids()
        self.index: dict[str, int] = {node_id: i for i, node_id in enumerate(self.ids)}
        self.succ: list[list[int]] = [[] for _ in self.ids]
        for edge in ctx.workflow.edges:
            if edge.loop is None:
                source, target = self.index.get(edge.source), self.index.get(edge.target)
                if source is not None and target is not None:
                    self.succ[source].append(target)
        self.order: list[int] = self._topological_order()

    def _topological_order(self) -> list[int]:
        """Kahn's algorithm: whatever it cannot place sits on a cycle or below one."""
        indegree = [0] * len(self.ids)
        for targets in self.succ:
            for target in targets:
                indegree[target] += 1
        ready = [i for i, degree in enumerate(indegree) if degree == 0]
        order = [-1] * len(self.ids)
        placed = 0
        while ready:
            node = ready.pop()
            order[node] = placed
            placed += 1
            for target in self.succ[node]:
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
        return order

    def reaches(self, start: int, goal: int) -> bool:
        """Is there a forward path from ``start`` to ``goal``? One search per loop edge, and loop edges
        are few; nodes placed after ``goal`` are skipped, since nothing later in a topological order
        can lead back to it, so a loop within one corner of a big graph searches only that corner."""
        limit = self.order[goal]
        seen = {start}
        stack = [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            for target in self.succ[node]:
                if target not in seen and not (limit >= 0 and self.order[target] > limit):
                    seen.add(target)
                    stack.append(target)
        return False

    def reached_from(self, starts: list[int]) -> bytearray:
        """A flag per node: reached from any of ``starts`` (themselves included)."""
        reached = bytearray(len(self.ids))
        stack = list(starts)
        for start in starts:
            reached[start] = 1
        while stack:
            for target in self.succ[stack.pop()]:
                if not reached[target]:
                    reached[target] = 1
                    stack.append(target)
        return reached


def graph_problems(ctx: ValidationContext) -> Iterator[Problem]:
    forward = ForwardGraph(ctx)
    yield from cycles(ctx, forward)
    yield from loop_edges(ctx, forward)
    yield from unreachable(ctx, forward)


def cycles(ctx: ValidationContext, forward: ForwardGraph) -> Iterator[Problem]:
    """One problem per tangle (strongly connected component), never one per elementary cycle.

    A tangle of n nodes can hold exponentially many cycles; one concrete cycle is shown, because a
    person breaks cycles one edge at a time, and the rest of the tangle is named by id.
    """
    stuck = {forward.ids[i] for i, place in enumerate(forward.order) if place < 0}
    if not stuck:
        return
    import networkx as nx

    edge_ids: dict[tuple[str, str], str] = {}
    for edge in ctx.workflow.edges:
        if edge.loop is None and edge.source in stuck and edge.target in stuck:
            edge_ids.setdefault((edge.source, edge.target), edge.id)  # the first edge of a pair names it
    graph: nx.DiGraph = nx.DiGraph(list(edge_ids))
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1 and not graph.has_edge(*component, *component):
            continue
        path = _one_cycle(graph.subgraph(component))
        yield Problem(
            "error", "cycle", _cycle_text(ctx, path, component), node_id=path[0], edge_id=edge_ids[(path[-1], path[0])]
        )


def _one_cycle(component: nx.DiGraph) -> list[str]:
    """A cycle in the component, rotated to start at its smallest id so the report is stable."""
    import networkx as nx

    nodes = [u for u, _ in nx.find_cycle(component, source=min(component))]
    start = nodes.index(min(nodes))
    return nodes[start:] + nodes[:start]


def _cycle_text(ctx: ValidationContext, path: list[str], component: set[str]) -> str:
    if len(path) == 1:
        return f"{ctx.label(path[0])} feeds itself, which is a cycle; use a loop edge to an ancestor instead."
    steps = [ctx.label(n).removeprefix("Node ") for n in [*path, path[0]]]
    if len(steps) > _MAX_LISTED:
        steps = [*steps[: _MAX_LISTED - 2], f"... ({len(path)} nodes in all)", steps[-1]]
    shown = " -> ".join(steps)
    text = f"Nodes {shown} form a cycle; make one of its edges a loop edge if the repetition is meant."
    if len(component) > len(path):
        rest = sorted(component)
        listed = ", ".join(rest[:_MAX_LISTED]) + (", ..." if len(rest) > _MAX_LISTED else "")
        text += f" In all {len(component)} nodes are caught in cycles here: {listed}."
    return text


def loop_edges(ctx: ValidationContext, forward: ForwardGraph) -> Iterator[Problem]:
    """A loop edge must lead back to an ancestor of its source: that is what the engine re-runs."""
    for ends in ctx.ends(loops_only=True):
        edge = ends.edge
        if not edge.is_loop or ends.dangling:
            continue
        if edge.source == edge.target:
            text = (
                f"{edge_label(edge)}: a loop edge must lead back to an earlier node, "
                f"not from {ctx.label(edge.source)} to itself."
            )
            yield Problem("error", "loop-self-edge", text, node_id=edge.source, edge_id=edge.id, field="target")
            continue
        source, target = forward.index.get(edge.source), forward.index.get(edge.target)
        if source is None or target is None:
            continue  # an end is a note: already an unknown-port error
        if not forward.reaches(target, source):
            text = (
                f"{edge_label(edge)}: {ctx.label(edge.target)} is not upstream of {ctx.label(edge.source)}, "
                "so this loop edge does not lead back; a loop edge must return to an ancestor of its source."
            )
            yield Problem("error", "loop-not-back-edge", text, node_id=edge.source, edge_id=edge.id, field="target")


def unreachable(ctx: ValidationContext, forward: ForwardGraph) -> Iterator[Problem]:
    """Nodes the start's data never reaches along forward edges: they run unfed, as extra roots.

    Loop edges are left out on purpose: they only feed a second pass, so a node reached only
    through one still starts the run with nothing from the Start node.
    """
    starts = [forward.index[node.id] for node in ctx.nodes_of_kind(START_KIND) if node.id in forward.index]
    if not starts:
        return
    reached = forward.reached_from(starts)
    start_label = node_label(ctx.nodes[forward.ids[starts[0]]])
    for i, node_id in enumerate(forward.ids):
        if not reached[i]:
            text = (
                f"{ctx.label(node_id)} is not connected to {start_label}: nothing from the start of the run reaches it."
            )
            yield Problem("warning", "unreachable", text, node_id=node_id)

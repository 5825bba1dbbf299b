"""The document's wires indexed by node and by port, and reachability along them.

Editing asks the same questions again and again: which wires touch this node, is this input
already fed, would this wire close a cycle. Scanning every edge for each answer made a wire drag
on a 5,000-node workflow stall for a second and made adding wires one command at a time
quadratic. The document keeps this index in step with its edge list (its mutators, called only
by commands, update both), so each answer costs what it touches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal, TypeVar

from flowdesk.model.workflow import Edge

PortSide = Literal["input", "output"]
PortKey = tuple[str, PortSide, str]
"""(node id, side, port name)."""


class EdgeIndex:
    """Edges by the nodes they touch and by the (node, side, port) at each of their ends.

    Each bucket is a dict keyed by edge id, so adding and removing a wire is O(1); dangling edges
    (an end names no node) are indexed like any other, so their wires can still be found and removed.
    """

    def __init__(self, edges: Iterable[Edge] = ()) -> None:
        self._by_node: dict[str, dict[str, Edge]] = {}
        self._by_port: dict[PortKey, dict[str, Edge]] = {}
        for edge in edges:
            self.add(edge)

    def add(self, edge: Edge) -> None:
        for node_id in {edge.source, edge.target}:
            self._by_node.setdefault(node_id, {})[edge.id] = edge
        for key in _port_keys(edge):
            self._by_port.setdefault(key, {})[edge.id] = edge

    def remove(self, edge: Edge) -> None:
        for node_id in {edge.source, edge.target}:
            _discard(self._by_node, node_id, edge.id)
        for key in _port_keys(edge):
            _discard(self._by_port, key, edge.id)

    def touching(self, node_id: str) -> Iterable[Edge]:
        """The wires into and out of ``node_id`` (in no particular order)."""
        return self._by_node.get(node_id, {}).values()

    def edge_ids_touching(self, node_id: str) -> Iterable[str]:
        return self._by_node.get(node_id, {}).keys()

    def at_port(self, node_id: str, side: PortSide, port: str) -> Iterable[Edge]:
        """The wires ending on one port (in no particular order)."""
        return self._by_port.get((node_id, side, port), {}).values()

    # ------------------------------------------------------------ reachability
    def successors(self, node_id: str) -> Iterator[str]:
        """Targets of the forward wires leaving ``node_id`` (loop edges lead back, so they are not followed)."""
        for edge in self.touching(node_id):
            if edge.source == node_id and edge.loop is None:
                yield edge.target

    def predecessors(self, node_id: str) -> Iterator[str]:
        for edge in self.touching(node_id):
            if edge.target == node_id and edge.loop is None:
                yield edge.source

    def reaches(self, start: str, goal: str) -> bool:
        """Is there a forward path from ``start`` to ``goal``? Searches only what ``start`` leads to."""
        seen, frontier = {start}, [start]
        while frontier:
            current = frontier.pop()
            if current == goal:
                return True
            for nxt in self.successors(current):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return False

    def closure(self, node_id: str, *, downstream: bool) -> frozenset[str]:
        """``node_id`` and every node it leads to (``downstream``) or that leads to it, along forward wires."""
        step = self.successors if downstream else self.predecessors
        seen, frontier = {node_id}, [node_id]
        while frontier:
            for nxt in step(frontier.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return frozenset(seen)


_K = TypeVar("_K")


def _port_keys(edge: Edge) -> tuple[PortKey, PortKey]:
    return (edge.source, "output", edge.source_port), (edge.target, "input", edge.target_port)


def _discard(buckets: dict[_K, dict[str, Edge]], key: _K, edge_id: str) -> None:
    """Take an edge out of its bucket, and the bucket out when it empties (a deleted node leaves nothing)."""
    bucket = buckets.get(key)
    if bucket is not None:
        bucket.pop(edge_id, None)
        if not bucket:
            del buckets[key]


class Reach:
    """Forward reachability to and from one node, found once for a whole gesture.

    A wire dragged from ``node_id`` is judged against every port in view; each judgement asks
    whether the wire would close a cycle, always about a path to or from ``node_id``. So the nodes
    upstream and downstream of it are found once (each at most once, when first needed), and
    every port's answer is a set lookup. ``revision`` is the document's edge revision it was found
    at: the document ignores a Reach that the edges have changed since.
    """

    def __init__(self, index: EdgeIndex, node_id: str, revision: int) -> None:
        self._index = index
        self.node_id = node_id
        self.revision = revision
        self._upstream: frozenset[str] | None = None
        self._downstream: frozenset[str] | None = None

    def reaches(self, start: str, goal: str) -> bool | None:
        """Is there a forward path from ``start`` to ``goal``? None when neither end is ``node_id``."""
        if goal == self.node_id:
            if self._upstream is None:
                self._upstream = self._index.closure(goal, downstream=False)
            return start in self._upstream
        if start == self.node_id:
            if self._downstream is None:
                self._downstream = self._index.closure(start, downstream=True)
            return goal in self._downstream
        return None

"""The live workflow document: one Workflow being edited, with change notifications.

The GUI's scene, the inspector, the validator and the CLI all read the same document; it changes
only through commands (``flowdesk.model.commands``), which call the underscore mutators below and
nothing else does. Each mutation announces one :data:`Change` to every listener, synchronously,
so a projection (the Qt scene) can redraw exactly what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flowdesk.model.ids import id_stem
from flowdesk.model.kinds import Catalog, NodePorts
from flowdesk.model.ports import node_ports
from flowdesk.model.types import incompatibility_reason
from flowdesk.model.workflow import Edge, LoopSettings, Node, Workflow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NodeAdded:
    node: Node
    index: int


@dataclass(frozen=True, slots=True)
class NodeRemoved:
    node: Node
    index: int


@dataclass(frozen=True, slots=True)
class NodeChanged:
    old: Node
    new: Node


@dataclass(frozen=True, slots=True)
class EdgeAdded:
    edge: Edge
    index: int


@dataclass(frozen=True, slots=True)
class EdgeRemoved:
    edge: Edge
    index: int


@dataclass(frozen=True, slots=True)
class EdgeChanged:
    old: Edge
    new: Edge


@dataclass(frozen=True, slots=True)
class WorkflowChanged:
    """Workflow-level fields changed (name, description, inputs, settings, version)."""

    fields: frozenset[str]


Change = NodeAdded | NodeRemoved | NodeChanged | EdgeAdded | EdgeRemoved | EdgeChanged | WorkflowChanged
Listener = Callable[[Change], None]


class DuplicateIdError(ValueError):
    """The workflow holds two nodes or two edges with one id; it must be repaired before editing."""


class WorkflowDocument:
    """A workflow under edit. Reads are cheap (indexed); writes go through commands."""

    def __init__(self, workflow: Workflow, catalog: Catalog) -> None:
        self.catalog = catalog
        self._meta = workflow.model_copy(update={"nodes": (), "edges": ()})
        self._nodes: list[Node] = list(workflow.nodes)
        self._edges: list[Edge] = list(workflow.edges)
        self._node_index = _index(self._nodes, "node")
        self._edge_index = _index(self._edges, "edge")
        self._listeners: list[Listener] = []
        self._batch_depth = 0
        self._batch_listeners: list[Callable[[], None]] = []
        self._node_at: dict[str, int] | None = None
        self._edge_at: dict[str, int] | None = None
        """Index of each node / edge in its list, built on demand and dropped by inserts and removals:
        a move of 5,000 nodes replaces 5,000 nodes, which must not search the list 5,000 times."""
        self._snapshot: Workflow | None = workflow
        self._id_hint: dict[str, int] = {}

    # ----------------------------------------------------------------- reading
    @property
    def workflow(self) -> Workflow:
        """An immutable snapshot of the document as it is now (rebuilt lazily after a change)."""
        if self._snapshot is None:
            self._snapshot = self._meta.model_copy(update={"nodes": tuple(self._nodes), "edges": tuple(self._edges)})
        return self._snapshot

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(self._nodes)

    @property
    def edges(self) -> tuple[Edge, ...]:
        return tuple(self._edges)

    def node(self, node_id: str) -> Node:
        return self._node_index[node_id]

    def has_node(self, node_id: str) -> bool:
        return node_id in self._node_index

    def edge(self, edge_id: str) -> Edge:
        return self._edge_index[edge_id]

    def has_edge(self, edge_id: str) -> bool:
        return edge_id in self._edge_index

    def node_position(self, node_id: str) -> int:
        return self._node_slot(node_id)

    def _node_slot(self, node_id: str) -> int:
        if self._node_at is None:
            self._node_at = {n.id: i for i, n in enumerate(self._nodes)}
        return self._node_at[node_id]

    def _edge_slot(self, edge_id: str) -> int:
        if self._edge_at is None:
            self._edge_at = {e.id: i for i, e in enumerate(self._edges)}
        return self._edge_at[edge_id]

    def edges_of(self, node_ids: Iterable[str]) -> list[Edge]:
        """Edges touching any of ``node_ids``, in document order."""
        ids = set(node_ids)
        return [e for e in self._edges if e.source in ids or e.target in ids]

    def ports(self, node_id: str) -> NodePorts:
        return node_ports(self.node(node_id), self.catalog, self.edges_of([node_id]))

    def new_node_id(self, stem: str) -> str:
        return self._new_id(id_stem(stem), self._node_index)

    def new_edge_id(self) -> str:
        return self._new_id("e", self._edge_index)

    def _new_id(self, stem: str, taken: dict[str, Any]) -> str:
        """``<stem>_<n>`` not yet used; remembers the last n so bulk adds stay linear."""
        n = self._id_hint.get(stem, 0) + 1
        while f"{stem}_{n}" in taken:
            n += 1
        self._id_hint[stem] = n
        return f"{stem}_{n}"

    def connection_problem(
        self,
        source: str,
        source_port: str,
        target: str,
        target_port: str,
        loop: LoopSettings | None = None,
        *,
        ignore_edge: str | None = None,
    ) -> str | None:
        """Why this connection would be invalid, as a sentence; None when it is fine.

        An input takes one forward wire and, besides it, one loop edge: the wire brings the first
        value, the loop edge each later one (a loop "phi", as in the code-review example).

        ``ignore_edge`` is an edge about to be replaced (a drop onto an occupied input).
        """
        if source not in self._node_index or target not in self._node_index:
            missing = source if source not in self._node_index else target
            return f"there is no node '{missing}'"
        if source == target:
            return "a node cannot be connected to itself"
        src_title, dst_title = self.node(source).title, self.node(target).title
        out_spec = self.ports(source).get("output", source_port)
        if out_spec is None:
            return f"'{src_title}' has no output '{source_port}'"
        in_spec = self.ports(target).get("input", target_port)
        if in_spec is None:
            return f"'{dst_title}' has no input '{target_port}'"
        reason = incompatibility_reason(out_spec.type, in_spec.type)
        if reason:
            return (
                f"{reason} ('{src_title}'.{source_port} is {out_spec.type.value}, "
                f"'{dst_title}'.{target_port} is {in_spec.type.value})"
            )
        for edge in self._edges:
            if (
                edge.id != ignore_edge
                and edge.target == target
                and edge.target_port == target_port
                and edge.is_loop == (loop is not None)
            ):
                what = "a loop edge" if loop is not None else "a wire"
                return f"input '{target_port}' of '{dst_title}' already has {what}"
        leads_back = self._reaches(target, source)
        if loop is None and leads_back:
            return "this connection would make a cycle; use a loop edge (with a maximum of iterations) to go back"
        if loop is not None and not leads_back:
            return (
                f"a loop edge must lead back to an earlier node, and '{dst_title}' does not come before '{src_title}'"
            )
        return None

    def _reaches(self, start: str, goal: str) -> bool:
        """Is ``goal`` reachable from ``start`` along forward edges? (Editing-time check, BFS.)"""
        succ: dict[str, list[str]] = {}
        for edge in self._edges:
            if edge.loop is None:
                succ.setdefault(edge.source, []).append(edge.target)
        seen, frontier = {start}, [start]
        while frontier:
            current = frontier.pop()
            if current == goal:
                return True
            for nxt in succ.get(current, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return False

    # --------------------------------------------------------------- listening
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` after every change; returns a function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the changes of one edit (the undo stack opens one around every command it does or undoes).

        Changes inside are announced one by one as always; in addition, listeners subscribed with
        :meth:`subscribe_batch_end` hear when the outermost batch is over, so work that each change
        would repeat can wait until then: moving 5,000 nodes moves each wire's two ends, and the
        canvas re-routes the wire once, not once per end. Batches nest.
        """
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                for listener in list(self._batch_listeners):
                    listener()

    @property
    def in_batch(self) -> bool:
        """Inside :meth:`batch`: more changes of the same edit may follow."""
        return self._batch_depth > 0

    def subscribe_batch_end(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after each outermost batch; returns a function that unsubscribes it."""
        self._batch_listeners.append(listener)
        return lambda: self._batch_listeners.remove(listener) if listener in self._batch_listeners else None

    def _emit(self, change: Change) -> None:
        self._snapshot = None
        for listener in list(self._listeners):
            listener(change)

    # ------------------------------------------------- mutators (commands only)
    def _insert_node(self, index: int, node: Node) -> None:
        if node.id in self._node_index:
            raise DuplicateIdError(f"a node with id '{node.id}' already exists")
        self._nodes.insert(index, node)
        self._node_at = None
        self._node_index[node.id] = node
        self._emit(NodeAdded(node, index))

    def _remove_node(self, node_id: str) -> tuple[Node, int]:
        node = self._node_index.pop(node_id)
        index = _position(self._nodes, node)
        del self._nodes[index]
        self._node_at = None
        self._emit(NodeRemoved(node, index))
        return node, index

    def _replace_node(self, new: Node) -> Node:
        old = self._node_index[new.id]
        self._nodes[self._node_slot(new.id)] = new
        self._node_index[new.id] = new
        self._emit(NodeChanged(old, new))
        return old

    def _insert_edge(self, index: int, edge: Edge) -> None:
        if edge.id in self._edge_index:
            raise DuplicateIdError(f"an edge with id '{edge.id}' already exists")
        self._edges.insert(index, edge)
        self._edge_at = None
        self._edge_index[edge.id] = edge
        self._emit(EdgeAdded(edge, index))

    def _remove_edge(self, edge_id: str) -> tuple[Edge, int]:
        edge = self._edge_index.pop(edge_id)
        index = _position(self._edges, edge)
        del self._edges[index]
        self._edge_at = None
        self._emit(EdgeRemoved(edge, index))
        return edge, index

    def _replace_edge(self, new: Edge) -> Edge:
        old = self._edge_index[new.id]
        self._edges[self._edge_slot(new.id)] = new
        self._edge_index[new.id] = new
        self._emit(EdgeChanged(old, new))
        return old

    def _set_meta(self, **fields: Any) -> dict[str, Any]:
        """Set workflow-level fields; returns their previous values (for undo)."""
        previous = {name: getattr(self._meta, name) for name in fields}
        self._meta = self._meta.model_copy(update=fields)
        self._emit(WorkflowChanged(frozenset(fields)))
        return previous


def _index(items: list[Any], what: str) -> dict[str, Any]:
    index: dict[str, Any] = {}
    for item in items:
        if item.id in index:
            raise DuplicateIdError(f"the workflow has two {what}s with id '{item.id}'")
        index[item.id] = item
    return index


def _position(items: list[Any], item: Any) -> int:
    """Index of ``item`` by identity (model equality would compare every field)."""
    for i, candidate in enumerate(items):
        if candidate is item:
            return i
    raise ValueError("item is not in the document")

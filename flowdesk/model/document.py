"""The live workflow document: one Workflow being edited, with change notifications.

The GUI's scene, the inspector, the validator and the CLI all read the same document; it changes
only through commands (``flowdesk.model.commands``), which call the underscore mutators below and
nothing else does. Each mutation announces one :data:`Change` to every listener, synchronously,
so a projection (the Qt scene) can redraw exactly what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flowdesk.model.edge_index import EdgeIndex, PortSide, Reach
from flowdesk.model.ids import id_stem
from flowdesk.model.kinds import Catalog, NodePorts
from flowdesk.model.ports import node_ports
from flowdesk.model.types import incompatibility_reason
from flowdesk.model.workflow import Edge, LoopSettings, Node, Position, Workflow

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
class NodesMoved:
    """Nodes moved, all in one step (a drag, a nudge, an arrangement): only their positions changed.

    One change for the whole move, not one :class:`NodeChanged` per node: a listener that does the
    same work for any change (the title, the autosave, validation) does it once, and the canvas
    moves every card and then each wire once, translating the wires whose two ends moved together.
    ``moves`` holds each node as it was beside the node as it is now, in the order they moved.
    ``shift`` is the one offset every node moved by, when the move was made as one (an arrow-key
    nudge): a listener may then move what it drew of them by that offset without looking at each.
    """

    moves: tuple[tuple[Node, Node], ...]
    shift: tuple[float, float] | None = None

    @property
    def node_ids(self) -> list[str]:
        return [new.id for _old, new in self.moves]


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


Change = NodeAdded | NodeRemoved | NodeChanged | NodesMoved | EdgeAdded | EdgeRemoved | EdgeChanged | WorkflowChanged
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
        self._wires = EdgeIndex(self._edges)
        self._edge_revision = 0
        """Counts changes of the edges: a :class:`Reach` found before the last one is out of date."""
        self._listeners: list[Listener] = []
        self._batch_depth = 0
        self._batch_listeners: list[Callable[[], None]] = []
        self._node_at: dict[str, int] | None = None
        self._edge_at: dict[str, int] | None = None
        """Index of each node / edge in its list, built on demand, kept by appends and removals at the end
        and dropped by the others: a move of 5,000 nodes replaces 5,000 nodes, which must not search
        the list 5,000 times, and adding one node or wire after another must not rebuild it each time."""
        self._ports: dict[str, NodePorts] = {}
        """Each node's ports, found when first asked and dropped when what decides them changes: a wire
        drag asks for the ports of every node in view, and a merge's or switch's parse its config."""
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

    def edge_position(self, edge_id: str) -> int:
        return self._edge_slot(edge_id)

    def _node_slot(self, node_id: str) -> int:
        return self._node_slots()[node_id]

    def _node_slots(self) -> dict[str, int]:
        if self._node_at is None:
            self._node_at = {n.id: i for i, n in enumerate(self._nodes)}
        return self._node_at

    def _edge_slot(self, edge_id: str) -> int:
        if self._edge_at is None:
            self._edge_at = {e.id: i for i, e in enumerate(self._edges)}
        return self._edge_at[edge_id]

    @property
    def node_count(self) -> int:
        return len(self._nodes)

    @property
    def edge_count(self) -> int:
        return len(self._edges)

    def edges_of(self, node_ids: Iterable[str]) -> list[Edge]:
        """Edges touching any of ``node_ids``, in document order (read from the index, not by a scan)."""
        found = {e.id: e for node_id in node_ids for e in self._wires.touching(node_id)}
        return self._in_order(found.values())

    def edge_ids_at(self, node_id: str) -> set[str]:
        """Ids of the wires into and out of ``node_id``."""
        return set(self._wires.edge_ids_touching(node_id))

    def edge_ids_touching(self, node_ids: Iterable[str]) -> set[str]:
        """Ids of the wires into and out of any of ``node_ids`` (each once)."""
        found: set[str] = set()
        for node_id in node_ids:
            found.update(self._wires.edge_ids_touching(node_id))
        return found

    def edges_at_port(self, node_id: str, side: PortSide, port: str) -> list[Edge]:
        """The wires ending on one port of a node, in document order."""
        return self._in_order(self._wires.at_port(node_id, side, port))

    def _in_order(self, edges: Iterable[Edge]) -> list[Edge]:
        found = list(edges)
        if len(found) > 1:
            found.sort(key=lambda e: self._edge_slot(e.id))
        return found

    def ports(self, node_id: str) -> NodePorts:
        found = self._ports.get(node_id)
        if found is None:
            node = self.node(node_id)
            placeholder = self.catalog.get(node.kind) is None  # only a placeholder's ports come from its wires
            found = node_ports(node, self.catalog, self.edges_of([node_id]) if placeholder else ())
            self._ports[node_id] = found
        return found

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
        reach: Reach | None = None,
    ) -> str | None:
        """Why this connection would be invalid, as a sentence; None when it is fine.

        An input takes one forward wire and, besides it, one loop edge: the wire brings the first
        value, the loop edge each later one (a loop "phi", as in the code-review example).

        ``ignore_edge`` is an edge about to be replaced (a drop onto an occupied input). ``reach``
        (from :meth:`reach`) answers the cycle check for a gesture that asks about many ports.
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
        for edge in self._wires.at_port(target, "input", target_port):
            if edge.id != ignore_edge and edge.is_loop == (loop is not None):
                what = "a loop edge" if loop is not None else "a wire"
                return f"input '{target_port}' of '{dst_title}' already has {what}"
        leads_back = self._reaches(target, source, reach)
        if loop is None and leads_back:
            return "this connection would make a cycle; use a loop edge (with a maximum of iterations) to go back"
        if loop is not None and not leads_back:
            return (
                f"a loop edge must lead back to an earlier node, and '{dst_title}' does not come before '{src_title}'"
            )
        return None

    def reach(self, node_id: str) -> Reach:
        """What leads to and from ``node_id``, to judge many wires ending there in one gesture.

        Valid until the edges change; :meth:`connection_problem` then searches afresh.
        """
        return Reach(self._wires, node_id, self._edge_revision)

    def _reaches(self, start: str, goal: str, reach: Reach | None = None) -> bool:
        """Is ``goal`` reachable from ``start`` along forward edges?"""
        if reach is not None and reach.revision == self._edge_revision:
            known = reach.reaches(start, goal)
            if known is not None:
                return known
        return self._wires.reaches(start, goal)

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
        self._node_at = _slots_after_insert(self._node_at, index, len(self._nodes), node.id)
        self._node_index[node.id] = node
        self._ports.pop(node.id, None)
        self._emit(NodeAdded(node, index))

    def _remove_node(self, node_id: str, at: int | None = None) -> tuple[Node, int]:
        """Remove a node; ``at`` is where the caller knows it to be (checked), sparing a search."""
        node = self._node_index.pop(node_id)
        index = at if at is not None and self._nodes[at] is node else _position(self._nodes, node, self._node_at)
        del self._nodes[index]
        self._node_at = _slots_after_remove(self._node_at, index, len(self._nodes), node_id)
        self._ports.pop(node_id, None)
        self._emit(NodeRemoved(node, index))
        return node, index

    def _replace_node(self, new: Node) -> Node:
        old = self._node_index[new.id]
        self._nodes[self._node_slot(new.id)] = new
        self._node_index[new.id] = new
        if _ports_may_differ(old, new):
            self._ports.pop(new.id, None)
        self._emit(NodeChanged(old, new))
        return old

    def _move_nodes(self, positions: Mapping[str, Position]) -> None:
        """Put nodes at new positions, announced as one :class:`NodesMoved` (nothing but the position changes)."""
        moves: list[tuple[Node, Node]] = []
        index, nodes, slots = self._node_index, self._nodes, self._node_slots()  # (once: thousands of turns)
        for node_id, position in positions.items():
            old = index[node_id]
            was = old.position
            if was.x == position.x and was.y == position.y:
                continue  # (pydantic's == compares field by field, slowly: a nudge asks 5,000 times)
            new = old.at(position)
            nodes[slots[node_id]] = new
            index[node_id] = new
            moves.append((old, new))
        if moves:
            self._emit(NodesMoved(tuple(moves)))

    def _shift_nodes(self, node_ids: Iterable[str], dx: float, dy: float) -> tuple[tuple[Node, Node], ...]:
        """Move nodes by one offset, announced as one :class:`NodesMoved` whose moves it returns (each node
        as it was beside it as it is: where they were and are, for undo and redo). A sum past float's
        range is refused (a ``ValueError``) with nothing moved."""
        index, nodes, slots = self._node_index, self._nodes, self._node_slots()
        if not (dx or dy):
            return tuple((index[node_id], index[node_id]) for node_id in node_ids)
        moves: list[tuple[Node, Node]] = []
        try:
            for node_id in node_ids:
                old = index[node_id]
                new = index[node_id] = old.at(old.position.shifted(dx, dy))
                nodes[slots[node_id]] = new
                moves.append((old, new))
        except Exception:  # a sum past float's range (or an unknown id): put back the ones already moved
            for old, _new in moves:
                nodes[slots[old.id]] = index[old.id] = old
            raise
        done = tuple(moves)
        if done:
            self._emit(NodesMoved(done, (dx, dy)))
        return done

    def _insert_edge(self, index: int, edge: Edge) -> None:
        if edge.id in self._edge_index:
            raise DuplicateIdError(f"an edge with id '{edge.id}' already exists")
        self._edges.insert(index, edge)
        self._edge_at = _slots_after_insert(self._edge_at, index, len(self._edges), edge.id)
        self._edge_index[edge.id] = edge
        self._wires.add(edge)
        self._edges_changed(edge)
        self._emit(EdgeAdded(edge, index))

    def _remove_edge(self, edge_id: str, at: int | None = None) -> tuple[Edge, int]:
        """Remove an edge; ``at`` is where the caller knows it to be (checked), sparing a search."""
        edge = self._edge_index.pop(edge_id)
        index = at if at is not None and self._edges[at] is edge else _position(self._edges, edge, self._edge_at)
        del self._edges[index]
        self._edge_at = _slots_after_remove(self._edge_at, index, len(self._edges), edge_id)
        self._wires.remove(edge)
        self._edges_changed(edge)
        self._emit(EdgeRemoved(edge, index))
        return edge, index

    def _replace_edge(self, new: Edge) -> Edge:
        old = self._edge_index[new.id]
        self._edges[self._edge_slot(new.id)] = new
        self._edge_index[new.id] = new
        self._wires.remove(old)
        self._wires.add(new)
        self._edges_changed(old, new)
        self._emit(EdgeChanged(old, new))
        return old

    def _edges_changed(self, *edges: Edge) -> None:
        """A placeholder's ports are its wires; and reachability found before is out of date."""
        self._edge_revision += 1
        for edge in edges:
            self._ports.pop(edge.source, None)
            self._ports.pop(edge.target, None)

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


def _ports_may_differ(old: Node, new: Node) -> bool:
    """Ports follow the kind, the config and on_error; a move (a new position only) keeps them."""
    return (
        old.kind != new.kind
        or old.on_error != new.on_error
        or (old.config is not new.config and old.config != new.config)
    )


def _position(items: list[Any], item: Any, slots: dict[str, int] | None) -> int:
    """Index of ``item``: from the slot map when there is one, else by identity from the end (model
    equality would compare every field), where an undo of the last addition finds it at once."""
    if slots is not None:
        return slots[item.id]
    for i in range(len(items) - 1, -1, -1):
        if items[i] is item:
            return i
    raise ValueError("item is not in the document")


def _slots_after_insert(slots: dict[str, int] | None, index: int, length: int, item_id: str) -> dict[str, int] | None:
    """The slot map after an insert: kept for an append, dropped (rebuilt when next needed) otherwise."""
    if slots is not None and index == length - 1:
        slots[item_id] = index
        return slots
    return None


def _slots_after_remove(slots: dict[str, int] | None, index: int, length: int, item_id: str) -> dict[str, int] | None:
    """The slot map after a removal: kept when the last item went, dropped otherwise."""
    if slots is not None and index == length:
        del slots[item_id]
        return slots
    return None

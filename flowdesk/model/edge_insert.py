"""Insert a node into a wire: A -> B becomes A -> node -> B, as steps of one macro (one undo step).

The canvas offers this when a node is dropped on a wire (a new one from the palette, or an
unconnected one dragged there); it decides here, with the document's own connection rules, whether
the node fits: it needs an input that takes what A sends and an output that B accepts. When it does
not fit the node is simply dropped, so :func:`insertion_ports` is asked first and the steps are
only run when it found a pair.

Like the best node editors, an insertion makes room: when the node would sit on top of (or hard
against) the wire's target, the target and everything downstream of it slide right, in the same
undo step, so inserting into a tight chain never leaves cards stacked on each other.
"""

from __future__ import annotations

from collections.abc import Callable

from flowdesk.model.commands import Command, Connect, Disconnect, MoveNodes
from flowdesk.model.document import WorkflowDocument
from flowdesk.model.kinds import ERROR_PORT, NodePorts
from flowdesk.model.types import compatible


def insertion_ports(doc: WorkflowDocument, node_id: str, edge_id: str) -> tuple[str, str] | None:
    """(input, output) of ``node_id`` through which ``edge_id`` could run, or None if it cannot.

    Only a node with no wires yet is inserted: rewiring a node that is already connected would
    change more than the person pointed at.
    """
    if not doc.has_edge(edge_id) or not doc.has_node(node_id) or doc.edges_of([node_id]):
        return None
    if node_id in (doc.edge(edge_id).source, doc.edge(edge_id).target):
        return None
    return ports_fit(doc, doc.ports(node_id), edge_id)


def ports_fit(doc: WorkflowDocument, ports: NodePorts, edge_id: str) -> tuple[str, str] | None:
    """(input, output) among ``ports`` (a node's, or a kind's before it is added) fitting into ``edge_id``.

    Only a forward wire takes a node: splicing into a loop edge would change what the loop
    repeats. The first compatible port on each side is taken (the card's top-most).
    """
    if not doc.has_edge(edge_id):
        return None
    edge = doc.edge(edge_id)
    if edge.loop is not None:
        return None
    sends = doc.ports(edge.source).get("output", edge.source_port)
    takes = doc.ports(edge.target).get("input", edge.target_port)
    if sends is None or takes is None:
        return None
    inlet = next((p.name for p in ports.inputs if compatible(sends.type, p.type)), None)
    outlet = next((p.name for p in ports.outputs if p.name != ERROR_PORT and compatible(p.type, takes.type)), None)
    if inlet is None or outlet is None:
        return None
    return inlet, outlet


SizeOf = Callable[[str], tuple[float, float]]
"""A node's card size (width, height) as drawn; the canvas knows it, the model does not."""
ROOM_GAP = 40.0
"""Space left between the inserted card and the wire's target when room is made."""


def insert_on_edge(
    doc: WorkflowDocument, node_id: str, edge_id: str, run: Callable[[Command], None], size_of: SizeOf | None = None
) -> bool:
    """Run the steps that put ``node_id`` into ``edge_id`` (inside ``Macro.record``); False if it does not fit.

    With ``size_of``, the wire's target and its descendants first move right if the node needs the room.
    """
    ports = insertion_ports(doc, node_id, edge_id)
    if ports is None:
        return False
    inlet, outlet = ports
    edge = doc.edge(edge_id)
    room = room_for(doc, node_id, edge_id, size_of) if size_of is not None else {}
    if room:
        run(MoveNodes(doc, room))
    run(Disconnect([edge_id]))
    run(Connect(doc, edge.source, edge.source_port, node_id, inlet))
    run(Connect(doc, node_id, outlet, edge.target, edge.target_port))
    return True


def room_for(
    doc: WorkflowDocument, node_id: str, edge_id: str, size_of: SizeOf, grid: float = 10.0
) -> dict[str, tuple[float, float]]:
    """New positions sliding the wire's target and all downstream of it right, or {} when there is room.

    Only forward wires are followed (a loop edge back upstream must not drag the whole loop along),
    and the shift is rounded up to the grid so the moved cards stay on it.
    """
    edge = doc.edge(edge_id)
    node = doc.node(node_id)
    width, _height = size_of(node_id)
    shift = node.position.x + width + ROOM_GAP - doc.node(edge.target).position.x
    if shift <= 0:
        return {}
    shift = -(-shift // grid) * grid
    succ: dict[str, list[str]] = {}
    for e in doc.edges:
        if e.loop is None:
            succ.setdefault(e.source, []).append(e.target)
    moving, frontier = {edge.target}, [edge.target]
    while frontier:
        for nxt in succ.get(frontier.pop(), ()):
            if nxt not in moving and nxt != node_id:
                moving.add(nxt)
                frontier.append(nxt)
    moving.discard(edge.source)
    return {n: (doc.node(n).position.x + shift, doc.node(n).position.y) for n in moving}

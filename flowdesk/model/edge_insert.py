"""Insert a node into a wire: A -> B becomes A -> node -> B, as steps of one macro (one undo step).

The canvas offers this when a node is dropped on a wire (a new one from the palette, or an
unconnected one dragged there); it decides here, with the document's own connection rules, whether
the node fits: it needs an input that takes what A sends and an output that B accepts. When it does
not fit the node is simply dropped, so :func:`insertion_ports` is asked first and the steps are
only run when it found a pair.
"""

from __future__ import annotations

from collections.abc import Callable

from flowdesk.model.commands import Command, Connect, Disconnect
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


def insert_on_edge(doc: WorkflowDocument, node_id: str, edge_id: str, run: Callable[[Command], None]) -> bool:
    """Run the steps that put ``node_id`` into ``edge_id`` (inside ``Macro.record``); False if it does not fit."""
    ports = insertion_ports(doc, node_id, edge_id)
    if ports is None:
        return False
    inlet, outlet = ports
    edge = doc.edge(edge_id)
    run(Disconnect([edge_id]))
    run(Connect(doc, edge.source, edge.source_port, node_id, inlet))
    run(Connect(doc, node_id, outlet, edge.target, edge.target_port))
    return True

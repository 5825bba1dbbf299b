"""Shared by the model tests: the document's wire index must agree with a scan of its edge list."""

from __future__ import annotations

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.ports import node_ports
from flowdesk.model.workflow import Edge


def scanned(doc: WorkflowDocument, node_id: str) -> list[Edge]:
    return [e for e in doc.edges if node_id in (e.source, e.target)]


def index_agrees_with_scan(doc: WorkflowDocument) -> None:
    """What every reader of the index gets equals what a scan of the edge list finds, in the same order."""
    for position, edge in enumerate(doc.edges):
        assert doc.edge_position(edge.id) == position
    for node in doc.nodes:
        assert doc.edges_of([node.id]) == scanned(doc, node.id), node.id
        assert doc.edge_ids_at(node.id) == {e.id for e in scanned(doc, node.id)}
        assert doc.ports(node.id) == node_ports(node, doc.catalog, scanned(doc, node.id)), node.id  # kept ports
    for edge in doc.edges:
        into = [e for e in doc.edges if (e.target, e.target_port) == (edge.target, edge.target_port)]
        out_of = [e for e in doc.edges if (e.source, e.source_port) == (edge.source, edge.source_port)]
        assert doc.edges_at_port(edge.target, "input", edge.target_port) == into
        assert doc.edges_at_port(edge.source, "output", edge.source_port) == out_of

"""The effective ports of a node in a workflow: its kind's ports, plus what the node adds itself."""

from __future__ import annotations

from collections.abc import Iterable

from flowdesk.model.kinds import ERROR_PORT, Catalog, NodePorts, PortSpec
from flowdesk.model.types import ValueType
from flowdesk.model.workflow import Edge, Node

_ERROR_SPEC = PortSpec(
    ERROR_PORT, ValueType.OBJECT, description="The error, when the node fails and on_error is 'continue'."
)


def node_ports(node: Node, catalog: Catalog, edges: Iterable[Edge] = ()) -> NodePorts:
    """Ports of ``node``.

    A node whose kind is not installed (a placeholder) gets untyped ports named after the edges
    that touch it, so its wiring stays intact and is written back unchanged.
    """
    spec = catalog.get(node.kind)
    if spec is None:
        return _placeholder_ports(node.id, edges)
    ports = spec.ports_for(node.config)
    if node.on_error == "continue" and ports.get("output", ERROR_PORT) is None:
        ports = NodePorts(ports.inputs, (*ports.outputs, _ERROR_SPEC))
    return ports


def _placeholder_ports(node_id: str, edges: Iterable[Edge]) -> NodePorts:
    inputs: dict[str, PortSpec] = {}
    outputs: dict[str, PortSpec] = {}
    for edge in edges:
        if edge.target == node_id:
            inputs.setdefault(edge.target_port, PortSpec(edge.target_port))
        if edge.source == node_id:
            outputs.setdefault(edge.source_port, PortSpec(edge.source_port))
    return NodePorts(tuple(inputs.values()), tuple(outputs.values()))

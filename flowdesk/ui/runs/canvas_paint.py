"""A run's picture painted on the canvas: node states with their tags, and the wires that carried values."""

from __future__ import annotations

from collections.abc import Iterable

from flowdesk.model.document import WorkflowDocument
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.theme import NodeState
from flowdesk.ui.runs.trace import NodeTrace, RunTrace

STATES = {state.value for state in NodeState}
RECEIVED = {"queued", "running", "waiting", "succeeded", "failed"}
"""States of a node that got its inputs (a skipped one got none)."""


def node_detail(node: NodeTrace) -> str:
    """The tag beside a node's state: a map's progress, or how many loop passes it made."""
    if node.progress is not None:
        return f"{node.progress[0]}/{node.progress[1]}"
    return f"×{node.passes}" if node.iteration > 0 else ""


def paint_trace(scene: WorkflowScene, document: WorkflowDocument, trace: RunTrace, node_ids: Iterable[str]) -> None:
    """Repaint ``node_ids`` (and their wires) as ``trace`` has them; nodes the document lost are skipped."""
    wires: set[str] = set()
    if trace.finished:  # the nodes the run never reached read "not run", unlike nodes of no run at all
        for node in document.nodes:
            if node.id not in trace.nodes and node.kind != "note":
                scene.set_node_state(node.id, NodeState.NOT_RUN)
    for node_id in node_ids:
        node = trace.nodes.get(node_id)
        if node is not None:
            scene.set_node_state(node_id, node.status if node.status in STATES else "idle", node_detail(node))
            wires |= scene.edge_ids_at(node_id)
    for edge_id in wires:  # a wire carried a value when its source delivered and its target took it
        if not document.has_edge(edge_id):
            continue
        edge = document.edge(edge_id)
        source, target = trace.nodes.get(edge.source), trace.nodes.get(edge.target)
        carried = source is not None and source.status == "succeeded" and target is not None
        scene.set_edge_carried(edge_id, carried and target.status in RECEIVED)

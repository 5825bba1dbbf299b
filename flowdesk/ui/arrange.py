"""Arrange commands built from the canvas: auto-layout, align and distribute, each one MoveNodes.

The algorithms live below the UI (``flowdesk.model.layout`` and ``flowdesk.model.align``) and
work on boxes; this module only measures the real cards on the scene (their sizes and where each
wire meets them) and turns the answer into a single undoable move, so an arrangement undoes in
one step and the scene follows the document like after any other edit.
"""

from __future__ import annotations

from collections.abc import Iterable

from flowdesk.model.align import Alignment, Axis, align, distribute
from flowdesk.model.commands import MoveNodes
from flowdesk.model.layout import Box, Link, Spacing, layered_layout
from flowdesk.ui.canvas.note_item import NOTE_KIND
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.theme import GRID

ALIGN_LABELS = {
    Alignment.LEFT: "Align left",
    Alignment.RIGHT: "Align right",
    Alignment.TOP: "Align top",
    Alignment.BOTTOM: "Align bottom",
    Alignment.CENTRE_X: "Align centres vertically",
    Alignment.CENTRE_Y: "Align centres horizontally",
}
DISTRIBUTE_LABELS = {Axis.HORIZONTAL: "Distribute horizontally", Axis.VERTICAL: "Distribute vertically"}


def card_boxes(scene: WorkflowScene, node_ids: Iterable[str]) -> dict[str, Box]:
    """Each node's card as it is drawn now: position from the document, size from its item."""
    boxes = {}
    for node_id in node_ids:
        node, rect = scene.document.node(node_id), scene.node_item(node_id).card_rect()
        boxes[node_id] = Box(node.position.x, node.position.y, rect.width(), rect.height())
    return boxes


def wire_links(scene: WorkflowScene, node_ids: set[str]) -> list[Link]:
    """Forward wires among ``node_ids`` with the height at which they meet each card."""
    links = []
    for edge in scene.document.edges:
        if edge.loop is not None or edge.source not in node_ids or edge.target not in node_ids:
            continue
        source_y = scene.node_item(edge.source).port_offset("output", edge.source_port)
        target_y = scene.node_item(edge.target).port_offset("input", edge.target_port)
        links.append(Link(edge.source, edge.target, source_y or 0.0, target_y or 0.0))
    return links


def _move(scene: WorkflowScene, positions: dict[str, tuple[float, float]], label: str) -> MoveNodes | None:
    """One MoveNodes for the nodes whose place changes, labelled for Edit > Undo; None if none does."""
    doc = scene.document
    changed = {
        node_id: (x, y)
        for node_id, (x, y) in positions.items()
        if (doc.node(node_id).position.x, doc.node(node_id).position.y) != (x, y)
    }
    if not changed:
        return None
    command = MoveNodes(doc, changed)
    command.label = label
    return command


def layout_scope(scene: WorkflowScene) -> list[str]:
    """What Auto-layout arranges: the selected nodes if two or more are selected, else all of them."""
    selected = scene.selected_node_ids()
    return selected if len(selected) >= 2 else [n.id for n in scene.document.nodes]


def auto_layout(scene: WorkflowScene, node_ids: Iterable[str]) -> MoveNodes | None:
    """The layered layout of ``node_ids`` (notes excepted: they stay where the person put them)."""
    doc = scene.document
    ids = [n for n in node_ids if doc.node(n).kind != NOTE_KIND]
    boxes = card_boxes(scene, ids)
    positions = layered_layout(boxes, wire_links(scene, set(ids)), Spacing(grid=GRID))
    return _move(scene, positions, "Auto-layout")


def align_selection(scene: WorkflowScene, how: Alignment) -> MoveNodes | None:
    """Align the selected nodes (two or more); None when there is nothing to do."""
    ids = scene.selected_node_ids()
    if len(ids) < 2:
        return None
    return _move(scene, align(card_boxes(scene, ids), how), ALIGN_LABELS[how])


def distribute_selection(scene: WorkflowScene, axis: Axis) -> MoveNodes | None:
    """Spread the selected nodes (three or more) with equal gaps; None when there is nothing to do."""
    ids = scene.selected_node_ids()
    if len(ids) < 3:
        return None
    return _move(scene, distribute(card_boxes(scene, ids), axis), DISTRIBUTE_LABELS[axis])

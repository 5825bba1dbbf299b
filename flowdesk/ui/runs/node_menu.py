"""The node's context menu on the canvas: what can be done with this node in the shown run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu

from flowdesk.ui.runs.trace import NodeTrace

if TYPE_CHECKING:
    from flowdesk.ui.runs.workbench import RunWorkbench


def node_menu(bench: RunWorkbench, pos: QPoint) -> QMenu | None:
    """The menu for the node under ``pos`` (viewport coordinates), which becomes the selection; None off a node."""
    window = bench.window
    scene, view, document = bench.scene, bench.view, bench.document
    if scene is None or view is None or document is None:
        return None
    item = scene.node_item_at(view.mapToScene(pos))
    if item is None:
        return None
    node_id = item.node_id
    if node_id not in scene.selected_node_ids():
        scene.select([node_id])
    node = document.node(node_id)
    menu = QMenu(window)
    if bench.shown is not None:
        menu.addAction("Re-run from here", lambda: bench.rerun_from(node_id))
        trace = bench.controller.trace(bench.shown)
        state = trace.nodes.get(node_id, NodeTrace()).status if trace is not None else "idle"
        if state == "waiting":
            menu.addAction("Approve", lambda: bench.decide(node_id, True))
            menu.addAction("Reject", lambda: bench.decide(node_id, False))
        if state == "succeeded":
            menu.addAction("Pin output from the shown run", lambda: bench.pin_from_shown(node_id))
    if node.pinned is not None:
        menu.addAction("Unpin output", lambda: bench.unpin(node_id))
    menu.addAction("Remove breakpoint" if node.breakpoint else "Set breakpoint", bench.toggle_breakpoint)
    menu.addAction("Show its log lines", lambda: bench.log_panel.show_node(node_id))
    return menu

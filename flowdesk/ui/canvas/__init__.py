"""The node-graph canvas: a Qt projection of a workflow document (docs/architecture.md §1).

``WorkflowScene`` keeps one item per node and edge in step with the document's change events;
``WorkflowView`` turns mouse and keys into commands on the undo stack. Nothing here edits the
document directly.
"""

from flowdesk.ui.canvas.edge_item import EdgeItem
from flowdesk.ui.canvas.node_item import CanvasNodeItem, NodeItem
from flowdesk.ui.canvas.node_paint import PortMark
from flowdesk.ui.canvas.note_item import NoteItem
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.theme import DARK, LIGHT, CanvasTheme, NodeState
from flowdesk.ui.canvas.view import WorkflowView

__all__ = [
    "DARK",
    "LIGHT",
    "CanvasNodeItem",
    "CanvasTheme",
    "EdgeItem",
    "NodeItem",
    "NodeState",
    "NoteItem",
    "PortMark",
    "WorkflowScene",
    "WorkflowView",
]

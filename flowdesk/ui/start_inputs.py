"""The Start node's card lists the run inputs the workflow declares (they are what its one port carries)."""

from __future__ import annotations

from flowdesk.model.document import Change, NodeAdded, WorkflowChanged
from flowdesk.ui.canvas.node_item import NodeItem
from flowdesk.ui.open_document import OpenDocument

START_KIND = "start"


def inputs_note(doc: OpenDocument) -> str:
    inputs = doc.document.workflow.inputs
    return "inputs: " + ", ".join(spec.name for spec in inputs) if inputs else "no inputs declared"


def follow_start_inputs(doc: OpenDocument) -> None:
    """Keep the Start cards of ``doc`` saying its inputs, from now until the document closes."""

    def refresh(change: Change | None = None) -> None:
        if change is not None and not isinstance(change, WorkflowChanged | NodeAdded):
            return
        note = inputs_note(doc)
        for node in doc.document.nodes:
            if node.kind == START_KIND:
                try:
                    item = doc.scene.node_item(node.id)
                except KeyError:  # not on the canvas (yet)
                    continue
                if isinstance(item, NodeItem):
                    item.set_note(note)

    doc.subscribe(refresh)
    refresh()

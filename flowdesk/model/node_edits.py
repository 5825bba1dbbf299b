"""Commands that replace one node by an edited copy: its config, its name, its execution options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.model.command_base import Command, CommandRefused, EdgeSweep, first_error
from flowdesk.model.document import WorkflowDocument
from flowdesk.model.workflow import Node

NODE_OPTION_FIELDS = frozenset({"retry", "timeout_s", "on_error", "breakpoint", "remote", "pinned"})


class NodeEdit(Command):
    """Replace one node by an edited copy, sweeping wires off ports that disappear."""

    merge_key: str | None = None

    def __init__(self, doc: WorkflowDocument, node_id: str, new: Node, label: str) -> None:
        self.node_id = node_id
        self.old = doc.node(node_id)
        self.new = new
        self.label = label
        self._sweep = EdgeSweep()

    def do(self, doc: WorkflowDocument) -> None:
        doc._replace_node(self.new)
        self._sweep.sweep(doc, self.node_id)

    def undo(self, doc: WorkflowDocument) -> None:
        doc._replace_node(self.old)
        self._sweep.restore(doc)

    def merge(self, other: Command) -> bool:
        """Consecutive edits of the same field(s) of one node become a single undo step."""
        if (
            type(other) is not type(self)
            or self.merge_key is None
            or not isinstance(other, NodeEdit)
            or other.merge_key != self.merge_key
            or other.node_id != self.node_id
            or other._sweep._removed
            or self._sweep._removed
        ):
            return False
        self.new = other.new
        return True


def validated_node(node: Node, **update: Any) -> Node:
    """An edited copy, checked by the model (a bad timeout must be refused, not saved)."""
    try:
        return Node.model_validate({**node.model_dump(), **update})
    except ValueError as exc:
        raise CommandRefused(first_error(exc)) from exc


class SetConfig(NodeEdit):
    """Set some config fields of a node (others unchanged). Typing in one field merges into one step."""

    def __init__(self, doc: WorkflowDocument, node_id: str, values: Mapping[str, Any]) -> None:
        node = doc.node(node_id)
        new = validated_node(node, config={**node.config, **values})
        super().__init__(doc, node_id, new, f"Edit {', '.join(values)} of {node.title}")
        self.merge_key = "config:" + ",".join(sorted(values))


class ReplaceConfig(NodeEdit):
    """Replace a node's whole config (the inspector's raw JSON editor, or a reset to defaults)."""

    def __init__(self, doc: WorkflowDocument, node_id: str, config: Mapping[str, Any]) -> None:
        node = doc.node(node_id)
        super().__init__(doc, node_id, validated_node(node, config=dict(config)), f"Edit config of {node.title}")


class Rename(NodeEdit):
    def __init__(self, doc: WorkflowDocument, node_id: str, name: str) -> None:
        node = doc.node(node_id)
        super().__init__(doc, node_id, validated_node(node, name=name), f"Rename {node.title}")
        self.merge_key = "name"


class SetNodeOptions(NodeEdit):
    """Set execution options of a node: retry, timeout_s, on_error, breakpoint, remote, pinned."""

    def __init__(self, doc: WorkflowDocument, node_id: str, **options: Any) -> None:
        unknown = set(options) - NODE_OPTION_FIELDS
        if unknown:
            raise CommandRefused(f"'{sorted(unknown)[0]}' is not a node option")
        node = doc.node(node_id)
        super().__init__(doc, node_id, validated_node(node, **options), f"Edit options of {node.title}")

"""What every command is, and the wire bookkeeping several of them share (see ``commands.py``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.workflow import Edge


class CommandRefused(ValueError):
    """The edit cannot be made; the message says why in words a person understands."""


class Command(ABC):
    """One undoable edit. ``label`` is what Edit > Undo shows."""

    label: str = "Edit"

    @abstractmethod
    def do(self, doc: WorkflowDocument) -> None: ...

    @abstractmethod
    def undo(self, doc: WorkflowDocument) -> None: ...

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (already done) into this command, so a typing burst undoes as one step."""
        return False


class EdgeSweep:
    """Removes, and on undo restores, edges left on ports that a node no longer has.

    Changing a switch's cases or a node's on_error can take ports away; their wires go with them,
    inside the same undo step.
    """

    def __init__(self) -> None:
        self._removed: list[tuple[int, Edge]] = []

    def sweep(self, doc: WorkflowDocument, node_id: str) -> None:
        ports = doc.ports(node_id)
        stale = [
            e.id
            for e in doc.edges_of([node_id])
            if (e.source == node_id and ports.get("output", e.source_port) is None)
            or (e.target == node_id and ports.get("input", e.target_port) is None)
        ]
        self._removed = remove_edges(doc, stale)

    def restore(self, doc: WorkflowDocument) -> None:
        restore_edges(doc, self._removed)
        self._removed = []


def remove_edges(doc: WorkflowDocument, edge_ids: Iterable[str]) -> list[tuple[int, Edge]]:
    """Remove edges, highest index first; returns (index, edge) ascending, ready for restore."""
    ids = [edge_id for edge_id in dict.fromkeys(edge_ids) if doc.has_edge(edge_id)]
    positions = sorted(((doc.edge_position(edge_id), doc.edge(edge_id)) for edge_id in ids), key=lambda p: p[0])
    for index, edge in reversed(positions):  # from the highest: the lower indices stay true
        doc._remove_edge(edge.id, index)
    return positions


def restore_edges(doc: WorkflowDocument, removed: Sequence[tuple[int, Edge]]) -> None:
    for index, edge in removed:
        doc._insert_edge(index, edge)


def first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    return str(exc)

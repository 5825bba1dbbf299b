"""The wires of a selection being dragged: those inside it move along, those across its border are routed.

While cards are dragged (a preview: the document changes on release), every wire touching them
must follow. A wire whose two ends are both on dragged cards keeps its shape, so it is moved by
the mouse's step, which costs a ``setPos``; only a wire with one end left behind is routed again.
Which wire is which is found once per drag, from the document's index of wires: with a thousand
cards dragged, routing every wire on every mouse move took 130 ms a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QPointF

from flowdesk.model.document import WorkflowDocument
from flowdesk.ui.canvas.edge_item import EdgeItem


class DraggedWires:
    """Set up by the first mouse move of a drag, dropped when the drag ends."""

    def __init__(self) -> None:
        self._moving: frozenset[str] = frozenset()
        self._inside: list[EdgeItem] = []
        self._across: set[str] = set()
        self._at: QPointF | None = None
        """Where the dragged cards were when the inside wires were last moved (the grabbed card's position)."""

    @property
    def active(self) -> bool:
        return self._at is not None

    def start(
        self, doc: WorkflowDocument, moving: Iterable[str], origin: QPointF, edge_item: Callable[[str], EdgeItem | None]
    ) -> None:
        """Sort the wires of the ``moving`` nodes; ``origin`` is where the grabbed card is drawn now."""
        self._moving = frozenset(moving)
        self._inside, self._across = [], set()
        seen: set[str] = set()
        for node_id in self._moving:
            for edge in doc.edges_of([node_id]):
                if edge.id in seen:
                    continue
                seen.add(edge.id)
                if edge.source in self._moving and edge.target in self._moving:
                    item = edge_item(edge.id)
                    if item is not None:
                        self._inside.append(item)
                else:
                    self._across.add(edge.id)
        self._at = QPointF(origin)

    def follows(self, moving: Iterable[str]) -> bool:
        """Is this the drag of exactly these nodes (set up, and the selection unchanged)?"""
        return self.active and self._moving == frozenset(moving)

    def step(self, at: QPointF) -> set[str]:
        """The grabbed card is now drawn at ``at``: move the inside wires along; returns the wires to route."""
        assert self._at is not None
        shift = at - self._at
        self._at = QPointF(at)
        if not shift.isNull():
            for item in self._inside:
                item.shift_by(shift)
        return self._across

    def stop(self) -> None:
        self._moving, self._inside, self._across, self._at = frozenset(), [], set(), None

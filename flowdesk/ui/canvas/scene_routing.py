"""Routing the canvas's wires: between their cards' ports, or moved along when both cards moved alike.

A mixin of :class:`~flowdesk.ui.canvas.scene.WorkflowScene`, kept apart so the scene module holds
the projection (items following the document) and this one where each wire goes. A move of
thousands of cards comes through here once, at the end of its edit (``batching.py``), so the
loop is kept lean: each card is read from Qt once, and the wires are taken in the order they
lie in memory.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsItem

from flowdesk.model.types import ValueType
from flowdesk.ui.canvas.edge_item import EdgeItem
from flowdesk.ui.canvas.node_item import CanvasNodeItem, NodeItem
from flowdesk.ui.canvas.node_layout import NodeLayout
from flowdesk.ui.canvas.overview import MANY

if TYPE_CHECKING:
    from flowdesk.model.document import WorkflowDocument
    from flowdesk.ui.canvas.batching import EditBatch
    from flowdesk.ui.canvas.overview import Overview


class SceneRouting:
    """Wire routing of the scene; the scene provides the attributes declared here."""

    document: WorkflowDocument
    overview: Overview
    _nodes: dict[str, CanvasNodeItem]
    _edges: dict[str, EdgeItem]
    _batch: EditBatch

    def _reroute(self, node_id: str) -> None:
        if not self._batch.defer_route(node_id):  # in an edit's batch, each wire is routed once at its end
            self._route_wires_at({node_id})

    def _route_wires_at(self, node_ids: set[str]) -> None:
        if len(node_ids) > len(self._nodes) // 4:  # most of the scene: every wire, in memory order (below)
            self._route_items(
                [i for i in self._edges.values() if i.edge.source in node_ids or i.edge.target in node_ids]
            )
        else:
            self._route_edges(self.document.edge_ids_touching(node_ids))

    def _route_edges(self, edge_ids: Collection[str]) -> None:
        """Route these wires, or move them along with their cards."""
        self._route_items(self._in_memory_order(edge_ids))

    def _route_items(self, items: Collection[EdgeItem]) -> None:
        """Route these wires, or move them along with their cards (a move of thousands: kept lean).

        Each card's layout and place are read from Qt once, not once per wire end: a nudge of 5,000
        cards moves 7,500 wires, and asking Qt for 30,000 coordinates was a third of the routing.
        """
        many = len(items) > MANY
        if many:
            self.overview.many_changed()  # the whole far picture is drawn again: no place to tell of
        far_changed = self.overview.changed if self.overview.active and not many else None
        cards: dict[str, _Card | None] = {}
        card = self._card
        for item in items:
            edge = item.edge
            source = cards[edge.source] if edge.source in cards else cards.setdefault(edge.source, card(edge.source))
            target = cards[edge.target] if edge.target in cards else cards.setdefault(edge.target, card(edge.target))
            if source is None or target is None:
                continue
            if source.layout is not None and target.layout is not None:
                ends = (source.layout, source.x, source.y, target.layout, target.x, target.y)
                if item.follow(*ends):  # both cards moved by one offset, their ports unchanged: moved along
                    if far_changed is not None:
                        far_changed(item)
                    continue
                item.ends_at = ends
            else:
                item.ends_at = None
            self._route_ends(item, source.item, target.item)

    def _in_memory_order(self, edge_ids: Collection[str]) -> list[EdgeItem]:
        """The items of these wires; most of the scene's in the order they were made, which is the order
        they lie in memory: a set of ids goes in hash order, from one end of memory to the other, and a
        nudge of 5,000 cards spent more time waiting for its 7,500 wires to be fetched than moving them."""
        edges = self._edges
        if len(edge_ids) > len(edges) // 4:
            return [item for edge_id, item in edges.items() if edge_id in edge_ids]
        return [item for edge_id in edge_ids if (item := edges.get(edge_id)) is not None]

    def _card(self, node_id: str) -> _Card | None:
        """A card as routing sees it: where it is drawn now, and its layout if it is a node card."""
        item = self._nodes.get(node_id)
        if item is None:
            return None
        if type(item) is NodeItem:
            return _Card(item, item.layout, item.x(), item.y())
        return _Card(item, None, 0.0, 0.0)  # a note: its wires are routed, never moved along

    def _route(self, item: EdgeItem) -> None:
        self._route_edges((item.edge_id,))

    def _route_ends(self, item: EdgeItem, source: CanvasNodeItem, target: CanvasNodeItem) -> None:
        """Route the wire afresh between its two cards' ports."""
        edge = item.edge
        start = source.port_scene_pos("output", edge.source_port) or _side(source, right=True)
        end = target.port_scene_pos("input", edge.target_port) or _side(target, right=False)
        value_type = ValueType.ANY
        if isinstance(source, NodeItem):
            spec = source.ports.get("output", edge.source_port)
            value_type = spec.type if spec is not None else ValueType.ANY
        below = None
        if edge.loop is not None:
            below = max(source.sceneBoundingRect().bottom(), target.sceneBoundingRect().bottom())
        item.set_ends(start, end, value_type, below)


class _Card(NamedTuple):
    """A card's end of its wires, read once per routing."""

    item: CanvasNodeItem
    layout: NodeLayout | None
    """The node card's layout (None for a card without ports, a note): a wire moves along only while it stays."""
    x: float
    y: float


def _side(item: QGraphicsItem, *, right: bool) -> QPointF:
    """Where a wire meets a node that lacks the port (a port the kind no longer has)."""
    rect = item.sceneBoundingRect()
    return QPointF(rect.right() if right else rect.left(), rect.center().y())

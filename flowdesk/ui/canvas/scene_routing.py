"""Routing the canvas's wires: between their cards' ports, or moved along when both cards moved alike.

A mixin of :class:`~flowdesk.ui.canvas.scene.WorkflowScene`, kept apart so the scene module holds
the projection (items following the document) and this one where each wire goes. A move of
thousands of cards comes through here once, at the end of its edit (``batching.py``), so the
loop is kept lean: each card is read from Qt once, and the wires are taken in the order they
lie in memory.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsItem

from flowdesk.model.types import ValueType
from flowdesk.ui.canvas.edge_item import EdgeItem
from flowdesk.ui.canvas.node_item import CanvasNodeItem, NodeItem
from flowdesk.ui.canvas.node_layout import NodeLayout
from flowdesk.ui.canvas.overview import MANY

Spot = tuple[NodeLayout | None, float, float]
"""A card's end of its wires, read once per routing: its layout (a wire moves along only while both
its cards' layouts stay; None for a note) and where the card is drawn."""

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
    _moved_spots: dict[str, Spot | None]
    """The spots of the cards the document has just moved, taken by the next routing (which the move causes),
    so it does not ask each card again where it is."""

    def _reroute(self, node_id: str) -> None:
        if not self._batch.defer_route(node_id):  # in an edit's batch, each wire is routed once at its end
            self._route_wires_at({node_id})

    def _route_wires_at(self, node_ids: set[str], shift: tuple[float, float] | None = None) -> None:
        """Route the wires of these cards, or move them along; ``shift`` is the offset all of them just
        moved by from where they were drawn, if they moved as one (``NodesMoved.shift``: a nudge, which waits
        while a drag shows the cards elsewhere than the document has them)."""
        everything = node_ids >= self._nodes.keys()
        if everything:  # every card moved (a nudge after Select all): every wire
            items: Collection[EdgeItem] = list(self._edges.values())
        elif len(node_ids) > len(self._nodes) // 4:  # most of the scene: every wire, in memory order (below)
            items = [i for i in self._edges.values() if i.edge.source in node_ids or i.edge.target in node_ids]
        else:
            items = self._in_memory_order(self.document.edge_ids_touching(node_ids))
        if shift is not None:
            items = self._shift_inside(items, None if everything else node_ids, shift)
        self._route_items(items)

    def _route_edges(self, edge_ids: Collection[str]) -> None:
        """Route these wires, or move them along with their cards."""
        self._route_items(self._in_memory_order(edge_ids))

    def _shift_inside(
        self, items: Collection[EdgeItem], node_ids: set[str] | None, shift: tuple[float, float]
    ) -> list[EdgeItem]:
        """Move the wires between two of ``node_ids`` (None: every card) by ``shift``, which both their cards
        moved by; returns the others, to route.

        Such a wire sat right between its cards before: every change of a card's ports or size routes its
        wires (a change of the node, and a card laid out again by itself: ``WorkflowScene.card_relaid``),
        and its cards moved alike, so it moves as it is; its anchor is relative to its cards and stays true.
        A nudge of 5,000 cards moves 7,500 wires here at the cost of Qt's ``moveBy`` alone.
        """
        dx, dy = shift
        rest: list[EdgeItem] = []
        many = len(items) > MANY
        if many:
            self.overview.many_changed()  # the whole far picture is drawn again: no place to tell of
        far_changed = self.overview.changed if self.overview.active and not many else None
        for item in items:
            if item.anchor is None or (
                node_ids is not None and not (item.edge.source in node_ids and item.edge.target in node_ids)
            ):
                rest.append(item)
                continue
            item.moveBy(dx, dy)  # Qt repaints both places
            if far_changed is not None:
                far_changed(item)
        return rest

    def _route_items(self, items: Collection[EdgeItem]) -> None:
        """Route these wires, or move them along with their cards (a move of thousands: kept lean).

        Each card's layout and place are read from Qt once (one :data:`Spot` per card), not once per
        wire end, and a wire whose cards keep their layouts and their places beside each other (its
        :attr:`~EdgeItem.anchor`) is put beside its source card as it was, its shape kept.
        """
        many = len(items) > MANY
        if many:
            self.overview.many_changed()  # the whole far picture is drawn again: no place to tell of
        far_changed = self.overview.changed if self.overview.active and not many else None
        spots: dict[str, Spot | None] = self._moved_spots  # the cards a move has just put down, as it put them
        self._moved_spots = {}
        spot = self._spot
        for item in items:
            edge = item.edge
            source = spots[edge.source] if edge.source in spots else spots.setdefault(edge.source, spot(edge.source))
            target = spots[edge.target] if edge.target in spots else spots.setdefault(edge.target, spot(edge.target))
            if source is None or target is None:
                continue
            anchor = item.anchor
            if (
                anchor is not None
                and anchor[0] is source[0]
                and anchor[1] is target[0]  # both layouts (ports) unchanged
                and target[1] - source[1] == anchor[2]
                and target[2] - source[2] == anchor[3]  # exactly: the same shape
            ):
                x, y = source[1] + anchor[4], source[2] + anchor[5]
                if far_changed is None:
                    item.setPos(x, y)  # Qt does nothing if the wire is there already
                elif item.x() != x or item.y() != y:
                    item.setPos(x, y)  # Qt repaints both places
                    far_changed(item)
                continue
            self._route_ends(item, self._nodes[edge.source], self._nodes[edge.target])
            if source[0] is not None and target[0] is not None:
                sx, sy = source[1], source[2]
                item.anchor = (source[0], target[0], target[1] - sx, target[2] - sy, item.x() - sx, item.y() - sy)
            else:
                item.anchor = None

    def _in_memory_order(self, edge_ids: Collection[str]) -> list[EdgeItem]:
        """The items of these wires; most of the scene's in the order they were made, which is the order
        they lie in memory: a set of ids goes in hash order, from one end of memory to the other, and a
        nudge of 5,000 cards spent more time waiting for its 7,500 wires to be fetched than moving them."""
        edges = self._edges
        if len(edge_ids) > len(edges) // 4:
            return [item for edge_id, item in edges.items() if edge_id in edge_ids]
        return [item for edge_id in edge_ids if (item := edges.get(edge_id)) is not None]

    def _spot(self, node_id: str) -> Spot | None:
        """A card as routing sees it: its layout (None for a note, whose wires are always routed) and
        where it is drawn now."""
        item = self._nodes.get(node_id)
        if item is None:
            return None
        if type(item) is NodeItem:
            return (item.layout, item.x(), item.y())
        return (None, 0.0, 0.0)

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


def _side(item: QGraphicsItem, *, right: bool) -> QPointF:
    """Where a wire meets a node that lacks the port (a port the kind no longer has)."""
    rect = item.sceneBoundingRect()
    return QPointF(rect.right() if right else rect.left(), rect.center().y())

"""Node cards on the canvas: the base every node item shares, and the card of a runnable node.

An item shows one node of the document and never changes it: moving an item by hand only
previews the move, which the scene turns into one ``MoveNodes`` command when the drag ends; the
item's position is then set from the document again (see ``scene.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from flowdesk.model.kinds import Direction, KindSpec, NodePorts
from flowdesk.model.workflow import Node
from flowdesk.ui.canvas.far import FarCard, draw_far
from flowdesk.ui.canvas.glyphs import problem_badge_path
from flowdesk.ui.canvas.node_layout import METRICS, NodeLayout, layout_node
from flowdesk.ui.canvas.node_paint import NodeCardPainting, PortMark
from flowdesk.ui.canvas.theme import LOD_TEXT, NO_PEN, STATE_WORDS, CanvasTheme, NodeState, category_colour

if TYPE_CHECKING:
    from flowdesk.ui.canvas.scene import WorkflowScene

PortKey = tuple[Direction, str]
_FarStyle = tuple[QColor, QColor, QColor | None, bool, QColor | None]
"""A card's far colours: body, header band, outline (or none), dashed, problem outline (or none)."""


class CanvasNodeItem(QGraphicsRectItem):
    """What every node item is: selectable, movable (as a preview), cached, knows its node id.

    A rectangle item whose rectangle is the card's bounds (set by ``setRect`` when they change), and
    which draws itself: Qt then finds the bounds in C++. A bounding rectangle written in Python is
    a call from C++ into Python each time Qt asks, and Qt asks for every item of the scene whenever
    it searches it without its index (as after a big move, for the far picture): 12,500 calls.
    """

    def __init__(self, node: Node, theme: CanvasTheme) -> None:
        super().__init__()
        self.setPen(NO_PEN)
        self.node = node
        self.node_id = node.id
        self.theme = theme
        self.state = NodeState.IDLE
        self.detail = ""
        """Run detail beside the state: loop passes ("×3") or map progress ("4/10")."""
        self.phase = 0
        """Animation step of a running node's outline (advanced by the scene's timer)."""
        self.problems: tuple[str, ...] = ()
        self.far_rect: QRectF | None = None
        """Where the scene's far picture last drew this card (see ``overview.py``), to repaint that place."""
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable | QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.setPos(node.position.x, node.position.y)

    # ------------------------------------------------------------ from the scene
    def set_node(self, node: Node, ports: NodePorts) -> None:
        """Show ``node`` as it is now in the document (position included)."""
        self.node = node
        self.sync_position()

    def move_to(self, node: Node) -> tuple[NodeLayout | None, float, float]:
        """Show ``node``, which only moved (one of a ``NodesMoved``): no new layout, and no repaint of the
        card's cached picture (``update`` would throw it away; Qt repaints both places of a moved item).
        The far picture is told by the scene, once for a move of many. Returns the card's spot for
        routing its wires (``scene_routing.Spot``): a card without ports has no layout."""
        self.node = node
        x, y = node.position.x, node.position.y
        self.setPos(x, y)
        return (None, x, y)

    def sync_position(self) -> None:
        """Put the item where the document says (after a change, or to undo a drag's preview)."""
        target = QPointF(self.node.position.x, self.node.position.y)
        if self.pos() != target:
            self.setPos(target)
            self.refresh()

    def refresh(self) -> None:
        """Repaint the card: the item itself, and its place in the scene's far picture when that is shown.

        Far out the item paints nothing (the scene draws every card at once, see ``overview.py``),
        so every change that shows must come through here, not through ``update`` alone.
        """
        self.update()
        scene = self.scene()
        if scene is not None:
            scene_typed: WorkflowScene = scene  # type: ignore[assignment]
            scene_typed.far_changed(self)

    def far_look(self) -> FarCard:
        """What the far picture shows of this card."""
        return FarCard(self.card_rect().translated(self.pos()), self.theme.card)

    def set_theme(self, theme: CanvasTheme) -> None:
        self.theme = theme
        self.refresh()

    def set_state(self, state: NodeState | str) -> None:
        """Paint the run state (idle, queued, running, ...); the run issue drives this from events."""
        state = NodeState(state)
        if state != self.state:
            self.state = state
            self.refresh()

    def set_detail(self, detail: str) -> None:
        if detail != self.detail:
            self.detail = detail
            self.update()

    def advance_phase(self) -> None:
        """One step of the running animation (the outline's dashes march)."""
        self.phase = (self.phase + 1) % 8
        self.update()

    def set_problems(self, problems: Iterable[str]) -> None:
        """Show a problem badge whose tooltip lists ``problems`` (none: no badge)."""
        problems = tuple(problems)
        if problems != self.problems:
            self.problems = problems
            self.refresh()

    def card_rect(self) -> QRectF:
        """The card itself in item coordinates (no port overhang, shadow or badges): what layout arranges."""
        return self.boundingRect()

    def port_offset(self, direction: Direction, name: str) -> float | None:
        """How far below the card's top a wire meets this port (None: no such port)."""
        return None

    # ----------------------------------------------------------------- ports
    def port_scene_pos(self, direction: Direction, name: str) -> QPointF | None:
        return None

    def port_at(self, scene_pos: QPointF) -> PortKey | None:
        return None

    def set_connected(self, keys: frozenset[PortKey]) -> None:
        """Which ports have a wire (drawn filled); only cards with ports care."""

    def set_marks(self, marks: dict[PortKey, PortMark]) -> None:
        """Highlight ports while a wire is dragged; only cards with ports care."""

    # ---------------------------------------------------------------- Qt hooks
    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Qt moves the selection (a preview); the scene re-routes wires and notes what moved.

        Hooking the drag here rather than ``itemChange`` keeps Python out of every other item
        change, which matters when thousands of items are created.
        """
        super().mouseMoveEvent(event)
        scene = self.scene()
        if scene is not None:
            scene_typed: WorkflowScene = scene  # type: ignore[assignment]
            scene_typed.nodes_dragged(self, event.scenePos())


def _bounds(layout: NodeLayout) -> QRectF:
    """A node card's bounds: the card, the ports' overhang, room for the tag and the running outline."""
    grow = METRICS.port_radius + 6
    return layout.rect.adjusted(-grow, -12, grow, 6)


class NodeItem(NodeCardPainting, CanvasNodeItem):
    """A runnable node's card: title, kind, typed ports in and out, state and problem badges."""

    def __init__(self, node: Node, spec: KindSpec | None, ports: NodePorts, theme: CanvasTheme) -> None:
        self.spec = spec
        self._far_style: tuple[tuple[object, ...], _FarStyle] | None = None
        """The far look's colours and what they were worked out from (see :meth:`far_look`)."""
        self.ports = ports
        self.note = ""
        """Said after the kind in the subtitle (the Start card lists the run's declared inputs)."""
        self._layout = layout_node(node.title, self._subtitle(node), ports)
        self._title = self._layout.title_for(0)
        self._connected: frozenset[PortKey] = frozenset()
        self._marks: dict[PortKey, PortMark] = {}
        super().__init__(node, theme)
        self.setRect(_bounds(self._layout))
        self.setZValue(1.0)

    @property
    def layout(self) -> NodeLayout:
        return self._layout

    def move_to(self, node: Node) -> tuple[NodeLayout | None, float, float]:
        """As any card moves, its spot naming its layout: its wires move along while the layout stays."""
        self.node = node
        x, y = node.position.x, node.position.y
        self.setPos(x, y)
        return (self._layout, x, y)

    @property
    def title(self) -> str:
        """The full title (the card may show it elided)."""
        return self.node.title

    def _subtitle(self, node: Node) -> str:
        if self.spec is None:
            return f"not installed: {node.kind}"
        return f"{self.spec.display_name} · {self.note}" if self.note else self.spec.display_name

    def set_note(self, note: str) -> None:
        """Show ``note`` after the kind (elided to the card's width, in full in the tooltip)."""
        if note != self.note:
            self.note = note
            self._layout = layout_node(self.node.title, self._subtitle(self.node), self.ports)
            self.setRect(_bounds(self._layout))
            self.setToolTip(f"{self.spec.display_name if self.spec else self.node.kind}: {note}" if note else "")
            self.update()
            scene = self.scene()
            if scene is not None:
                scene.card_relaid(self)  # type: ignore[attr-defined]

    def _badges(self) -> int:
        return (self.state != NodeState.IDLE) + bool(self.problems)

    def set_node(self, node: Node, ports: NodePorts) -> None:
        relayout = (
            node.title != self.node.title
            or (ports is not self.ports and ports != self.ports)
            or node.kind != self.node.kind
        )
        marks_changed = node.breakpoint != self.node.breakpoint or node.pinned != self.node.pinned
        self.node = node
        if marks_changed:
            self.update()
        if relayout:
            self.ports = ports
            new = layout_node(node.title, self._subtitle(node), ports)
            self.setRect(_bounds(new))  # (Qt is told of a change of the bounds, if they change)
            self._layout = new
            self._title = new.title_for(self._badges())
            self.refresh()
        self.sync_position()

    def set_state(self, state: NodeState | str) -> None:
        super().set_state(state)
        self._title = self._layout.title_for(self._badges())

    def set_problems(self, problems: Iterable[str]) -> None:
        super().set_problems(problems)
        self._title = self._layout.title_for(self._badges())

    def card_rect(self) -> QRectF:
        return self._layout.rect

    def port_offset(self, direction: Direction, name: str) -> float | None:
        slot = self._layout.slot(direction, name)
        return None if slot is None else slot.centre.y()

    # ----------------------------------------------------------------- ports
    def port_scene_pos(self, direction: Direction, name: str) -> QPointF | None:
        slot = self._layout.slot(direction, name)
        return None if slot is None else self.mapToScene(slot.centre)

    def port_at(self, scene_pos: QPointF) -> PortKey | None:
        """The port whose hit area holds ``scene_pos`` (a generous circle: ports are small)."""
        local = self.mapFromScene(scene_pos)
        reach = METRICS.port_hit_radius
        best: tuple[float, PortKey] | None = None
        for slot in self._layout.slots:
            d = (local - slot.centre).manhattanLength()
            if d <= reach * 1.4 and (best is None or d < best[0]):
                best = (d, slot.key)
        return None if best is None else best[1]

    def set_connected(self, keys: frozenset[PortKey]) -> None:
        if keys != self._connected:
            self._connected = keys
            self.update()

    def set_marks(self, marks: dict[PortKey, PortMark]) -> None:
        if marks != self._marks:
            self._marks = dict(marks)
            self.update()

    # ----------------------------------------------------------------- painting
    def shape(self) -> QPainterPath:
        path = QPainterPath()
        grow = METRICS.port_radius + 2
        path.addRoundedRect(self._layout.rect.adjusted(-grow, 0, grow, 0), METRICS.radius, METRICS.radius)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if lod < LOD_TEXT:  # only when no far picture is drawn for the scene (it is, in a view zoomed out)
            painter.translate(-self.pos())
            draw_far(painter, lod, [self.far_look()])
            return
        self._paint_card(painter)
        self._paint_header(painter, lod)
        self._paint_ports(painter, lod)
        self._paint_outline(painter, lod)
        self._paint_badges(painter, lod)

    def _accent(self) -> QColor:
        return category_colour(self.spec.category) if self.spec is not None else self.theme.problem

    def far_look(self) -> FarCard:
        """Zoomed far out: a card in its category's colour, its body in its run state's once it has one.

        The selection, else the run state, outlines it. A skipped node keeps an idle body with a
        dashed outline, as its badge is hollow and dashed closer in: it did not run (and its grey
        is close to queued's). A problem outlines the card in the problem colour and puts a badge
        on its corner that stays large enough to see.

        The colours are worked out again only when what they follow changed: the far picture asks
        every card in view for its look after each nudge, which moves them and changes nothing else.
        """
        key = (self.state, self.isSelected(), self.theme, self.spec, self.problems)
        style = self._far_style
        if style is None or style[0] != key:
            style = self._far_style = (key, _far_colours(*key))
        body, header, outline, dashed, problem = style[1]
        lay = self._layout
        rect = QRectF(self.x(), self.y(), lay.width, lay.height)  # one rectangle made, not two and a point
        return FarCard(rect, body, header, METRICS.header, outline, dashed, problem)

    # ------------------------------------------------------------------ tooltips
    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        tip = self._tooltip_at(event.pos())
        if tip != self.toolTip():
            self.setToolTip(tip)
        super().hoverMoveEvent(event)

    def _tooltip_at(self, local: QPointF) -> str:
        """Problems over the problem badge, a port's type and description over a port, else the kind."""
        lay, m = self._layout, METRICS
        if self.problems:
            badge = problem_badge_path(lay.problem_badge_centre(self.state != NodeState.IDLE), m.badge_radius + 3)
            if badge.contains(local):
                return "\n".join(f"• {p}" for p in self.problems)
        key = self.port_at(self.mapToScene(local))
        if key is not None:
            slot = lay.slot(*key)
            if slot is not None:
                text = f"{slot.spec.name} ({slot.direction}, {slot.spec.type.value})"
                return f"{text}\n{slot.spec.description}" if slot.spec.description else text
        lines = [f"{self.node.title} — {self._layout.subtitle}"]
        if self.spec is not None and self.spec.description:
            lines.append(self.spec.description)
        if self.state != NodeState.IDLE:
            lines.append(STATE_WORDS.get(self.state, self.state.value) + (f" ({self.detail})" if self.detail else ""))
        if self.node.breakpoint:
            lines.append("breakpoint: a run pauses before this node")
        if self.node.pinned is not None:
            lines.append("pinned: not run; its pinned outputs flow on")
        lines.extend(f"⚠ {p}" for p in self.problems)
        return "\n".join(lines)


def _far_colours(
    state: NodeState, selected: bool, t: CanvasTheme, spec: KindSpec | None, problems: tuple[str, ...]
) -> _FarStyle:
    """A card's far colours (see :meth:`NodeItem.far_look`)."""
    accent = category_colour(spec.category) if spec is not None else t.problem
    plain = state in (NodeState.IDLE, NodeState.SKIPPED)
    body = _faded(accent.rgba()) if plain else t.state_colour(state)
    if selected:
        outline: QColor | None = t.selection
    else:
        outline = None if state == NodeState.IDLE else t.state_colour(state)
    problem = t.problem_colour(problems) if problems else None
    return body, accent, outline, spec is None or state == NodeState.SKIPPED, problem


@cache
def _faded(rgba: int) -> QColor:
    """A category colour see-through enough that wires show under the card far out."""
    colour = QColor.fromRgba(rgba)
    colour.setAlpha(110)
    return colour

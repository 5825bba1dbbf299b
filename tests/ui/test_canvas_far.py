"""Zoomed far out, the scene draws one picture of every card and wire (overview.py): it must tell the truth.

The picture is cached by the view and repainted only where something changed, so after each kind
of change the cached picture must equal one drawn afresh; and a node with a problem must stand
out at any zoom, with a badge no smaller than ``BADGE_MIN_PX`` on screen.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from canvas_support import Canvas, assert_scene_matches, click, drag, open_canvas
from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import AddNode, Connect, Disconnect, MoveNodes, RemoveNodes, SetNodeOptions
from flowdesk.model.workflow import Edge, Node, Position, Workflow
from flowdesk.ui.canvas import DARK, LIGHT, NodeItem, NodeState
from flowdesk.ui.canvas.far import BADGE_MIN_PX
from flowdesk.ui.canvas.theme import LOD_TEXT

NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents


def grid(columns: int = 12, rows: int = 8) -> Workflow:
    """Transforms in columns, each fed by the one beside it in the column before (a laid-out workflow)."""
    nodes = [
        Node(id=f"n_{c}_{r}", kind="transform", position=Position(x=c * 260.0, y=r * 120.0))
        for c in range(columns)
        for r in range(rows)
    ]
    edges = [
        Edge(id=f"e_{c}_{r}", source=f"n_{c - 1}_{r}", source_port="output", target=f"n_{c}_{r}", target_port="input")
        for c in range(1, columns)
        for r in range(rows)
    ]
    return Workflow(id="wf_grid", nodes=tuple(nodes), edges=tuple(edges))


def far_canvas(qtbot: QtBot, zoom: float = 0.15) -> Canvas:
    canvas = open_canvas(qtbot, grid())
    canvas.view.set_zoom(zoom)
    canvas.view.centerOn(canvas.scene.itemsBoundingRect().center())
    return canvas


def picture(canvas: Canvas) -> QImage:
    QApplication.processEvents()
    return canvas.view.grab().toImage()


def differing_pixels(a: QImage, b: QImage, tolerance: int = 24) -> int:
    """How many channel values of ``a`` and ``b`` differ by more than ``tolerance``.

    A strip repainted on its own may round an antialiased edge pixel one step apart from the
    picture drawn whole (Qt clips lines to the strip before stepping along them); a stale
    picture differs by far more (a card or wire where there is none).
    """
    diff = a.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(diff)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Difference)
    painter.drawImage(0, 0, b.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied))
    painter.end()
    rgb = diff.convertToFormat(QImage.Format.Format_RGB888)  # kept: its bits die with it
    values = bytes(rgb.constBits())
    return values.translate(bytes(0 if v <= tolerance else 1 for v in range(256))).count(1)


def assert_picture_is_fresh(canvas: Canvas, what: str) -> None:
    """What the view shows from its cache is the far picture drawn from scratch."""
    cached = picture(canvas)
    canvas.view.resetCachedContent()
    assert differing_pixels(cached, picture(canvas)) == 0, f"the far picture is stale after: {what}"


def near(colour: QColor, target: QColor, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour.getRgb()[:3], target.getRgb()[:3], strict=True))


def pixels_of(image: QImage, box: QRect, target: QColor) -> int:
    box = box.intersected(image.rect())
    return sum(
        near(image.pixelColor(x, y), target)
        for x in range(box.left(), box.right() + 1)
        for y in range(box.top(), box.bottom() + 1)
    )


def corner_box(canvas: Canvas, node_id: str) -> QRect:
    """Where a card's far badge is drawn: around its top-right corner, in viewport pixels."""
    item = canvas.scene.node_item(node_id)
    corner = canvas.view.to_viewport(item.mapToScene(item.card_rect().topRight())).toPoint()
    reach = int(BADGE_MIN_PX) + 4
    return QRect(corner.x() - 2 * reach, corner.y() - reach, 3 * reach, 2 * reach)


def test_far_out_the_scene_draws_the_picture_and_items_paint_nothing(qtbot: QtBot) -> None:
    canvas = far_canvas(qtbot)
    assert canvas.view.zoom < LOD_TEXT and canvas.scene.overview.active
    assert all(item.flags() & NO_CONTENTS for item in canvas.scene.node_items())
    assert all(item.flags() & NO_CONTENTS for item in canvas.scene.edge_items())
    canvas.view.set_zoom(1.0)
    assert not canvas.scene.overview.active
    assert not any(item.flags() & NO_CONTENTS for item in canvas.scene.node_items())
    canvas.view.set_zoom(0.2)
    canvas.stack.push_command(AddNode.of_kind(canvas.doc, "llm", (0, -300)))
    assert canvas.scene.node_item("llm_1").flags() & NO_CONTENTS, "a node added far out is drawn by the picture"


@pytest.mark.parametrize("zoom", [0.1, 0.2, 0.29, 0.35, 0.45])
def test_a_problem_badge_stays_visible_far_out(qtbot: QtBot, zoom: float) -> None:
    """Under ``LOD_TEXT`` the far picture draws it; up to ``LOD_PORT_LABELS`` the card itself, as large."""
    canvas = far_canvas(qtbot, zoom)
    error = LIGHT.error_port
    broken, healthy = "n_5_3", "n_6_3"
    assert pixels_of(picture(canvas), corner_box(canvas, broken), error) == 0
    canvas.scene.set_node_problems(broken, ["error: the expression does not parse"])
    image = picture(canvas)
    badge_area = BADGE_MIN_PX * BADGE_MIN_PX  # the triangle covers about r² px; its "!" is white
    assert pixels_of(image, corner_box(canvas, broken), error) >= badge_area * 0.6
    assert pixels_of(image, corner_box(canvas, healthy), error) == 0
    canvas.scene.set_node_problems(broken, [])
    assert pixels_of(picture(canvas), corner_box(canvas, broken), error) == 0


def test_a_wire_problem_badge_stays_visible_far_out(qtbot: QtBot) -> None:
    canvas = far_canvas(qtbot, 0.1)
    edge = canvas.scene.edge_item("e_4_2")
    canvas.scene.set_edge_problems("e_4_2", ["error: type mismatch"])
    middle = canvas.view.to_viewport(edge.path.pointAtPercent(0.5)).toPoint()
    reach = int(BADGE_MIN_PX) + 3
    box = QRect(middle.x() - reach, middle.y() - reach, 2 * reach, 2 * reach)
    assert pixels_of(picture(canvas), box, LIGHT.error_port) >= BADGE_MIN_PX * BADGE_MIN_PX * 0.6


def test_a_warning_badge_is_orange_not_red(qtbot: QtBot) -> None:
    canvas = far_canvas(qtbot, 0.1)
    canvas.scene.set_node_problems("n_2_2", ["warning: output never used"])
    image = picture(canvas)
    assert pixels_of(image, corner_box(canvas, "n_2_2"), LIGHT.problem) >= BADGE_MIN_PX * BADGE_MIN_PX * 0.6
    assert pixels_of(image, corner_box(canvas, "n_2_2"), LIGHT.error_port) == 0


def _pan(canvas: Canvas, dx: int, dy: int) -> None:
    bar_x, bar_y = canvas.view.horizontalScrollBar(), canvas.view.verticalScrollBar()
    bar_x.setValue(bar_x.value() + dx)
    bar_y.setValue(bar_y.value() + dy)


def _select_unheard(canvas: Canvas, node_ids: list[str]) -> None:
    """Select as a caller holding the scene's signals does: no ``selectionChanged`` tells the picture."""
    was_blocked = canvas.scene.blockSignals(True)
    canvas.scene.select(node_ids)
    canvas.scene.blockSignals(was_blocked)


def _edits(canvas: Canvas) -> list[tuple[str, Callable[[], object]]]:
    doc, scene, push = canvas.doc, canvas.scene, canvas.stack.push_command
    centre = scene.node_item("n_6_4")
    return [
        ("a move", lambda: push(MoveNodes(doc, {"n_3_3": (3 * 260.0 + 90, 3 * 120.0 + 50)}))),
        ("a run state", lambda: scene.set_node_state("n_4_4", NodeState.FAILED)),
        ("a state cleared", lambda: scene.set_node_state("n_4_4", NodeState.IDLE)),
        ("a problem", lambda: scene.set_node_problems("n_5_5", ["error: broken"])),
        ("a wire's problem", lambda: scene.set_edge_problems("e_7_1", ["warning: odd"])),
        ("a selection", lambda: scene.select(["n_2_2", "n_2_3"], ["e_3_3"])),
        ("a selection with the signals held", lambda: _select_unheard(canvas, ["n_5_2", "n_2_3"])),
        ("a nudge", lambda: scene.nudge_selection(20.0, -20.0)),
        ("a click", lambda: click(canvas, centre.mapToScene(centre.card_rect().center()))),
        ("a drag", lambda: drag(canvas, centre.mapToScene(centre.card_rect().center()), QPointF(1400, 700))),
        ("a pan", lambda: _pan(canvas, 37, -23)),
        ("an added node", lambda: push(AddNode.of_kind(doc, "llm", (800.0, 300.0)))),
        ("a connection", lambda: push(Connect(doc, "n_1_1", "output", "llm_1", "input"))),
        ("a removal", lambda: push(RemoveNodes(["n_8_6"]))),
        ("a disconnection", lambda: push(Disconnect(["e_9_0"]))),
        ("options", lambda: push(SetNodeOptions(doc, "n_9_1", breakpoint=True))),
        ("an undo", canvas.stack.undo),
        ("another undo", canvas.stack.undo),
        ("a redo", canvas.stack.redo),
        ("a move out of view", lambda: push(MoveNodes(doc, {"n_0_0": (-9000.0, -9000.0)}))),
        ("a pan back", lambda: _pan(canvas, -1400, -1400)),
        ("a pan over", lambda: _pan(canvas, 1400, 1400)),
        ("the dark theme", lambda: scene.set_theme(DARK)),
        ("the selection cleared", scene.clearSelection),
        ("every state cleared", scene.clear_states),
    ]


def test_the_cached_picture_follows_every_kind_of_change(qtbot: QtBot) -> None:
    canvas = far_canvas(qtbot, 0.15)
    assert_picture_is_fresh(canvas, "opening")
    for what, edit in _edits(canvas):
        edit()
        assert canvas.scene.overview.active, what
        assert_picture_is_fresh(canvas, what)
    assert_scene_matches(canvas)


def test_zooming_back_in_the_items_paint_themselves_as_they_are_now(qtbot: QtBot) -> None:
    canvas = far_canvas(qtbot, 0.2)
    canvas.scene.set_node_state("n_1_1", NodeState.SUCCEEDED)
    canvas.scene.set_node_problems("n_1_2", ["error: broken"])
    canvas.stack.push_command(MoveNodes(canvas.doc, {"n_1_3": (300.0, 500.0)}))
    canvas.view.set_zoom(1.0)
    canvas.view.centerOn(QPointF(300, 400))
    seen = picture(canvas)
    item = canvas.scene.node_item("n_1_1")
    assert isinstance(item, NodeItem) and item.state == NodeState.SUCCEEDED
    badge = canvas.view.to_viewport(item.mapToScene(item.layout.state_badge_centre())).toPoint()
    assert pixels_of(seen, QRect(badge.x() - 4, badge.y() - 4, 8, 8), LIGHT.state_colour(NodeState.SUCCEEDED)) > 10
    assert canvas.view.items(canvas.point(QPointF(310, 510))), "the moved card is where the document says"


def test_a_rubber_band_far_out_selects_the_cards_it_covers(qtbot: QtBot) -> None:
    canvas = far_canvas(qtbot, 0.15)
    first, last = canvas.scene.node_item("n_2_2"), canvas.scene.node_item("n_3_3")
    area = QRectF(first.sceneBoundingRect().topLeft() - QPointF(20, 20), last.sceneBoundingRect().bottomRight())
    picture(canvas)  # the view's cache holds the picture before the selection
    drag(canvas, area.topLeft(), area.bottomRight())
    assert canvas.scene.selected_node_ids() == ["n_2_2", "n_2_3", "n_3_2", "n_3_3"]
    assert_picture_is_fresh(canvas, "a rubber band")


def test_a_cards_far_look_follows_each_change_of_what_it_shows(qtbot: QtBot) -> None:
    """The far picture keeps each card's colours between pictures (a nudge redraws them all, changing none):
    every change of state, selection, problems or theme must still show in the very next look."""
    canvas = far_canvas(qtbot)
    scene, item = canvas.scene, canvas.scene.node_item("n_3_3")
    assert isinstance(item, NodeItem)
    idle = item.far_look()
    assert (idle.body.alpha(), idle.outline, idle.problem) == (110, None, None)  # the faded category colour
    scene.set_node_state("n_3_3", NodeState.FAILED)
    failed = item.far_look()
    assert failed.body == LIGHT.state_colour(NodeState.FAILED) == failed.outline
    scene.select(["n_3_3"])
    assert item.far_look().outline == LIGHT.selection
    scene.set_node_problems("n_3_3", ["error: broken"])
    assert item.far_look().problem == LIGHT.error_port
    scene.set_node_problems("n_3_3", ["warning: odd"])
    assert item.far_look().problem == LIGHT.problem
    scene.set_node_state("n_3_3", NodeState.IDLE)
    scene.clearSelection()
    scene.set_node_problems("n_3_3", [])
    assert item.far_look()[1:] == idle[1:]  # all but its place, which the rest of this test did not change
    scene.set_theme(DARK)
    scene.set_node_state("n_3_3", NodeState.SUCCEEDED)
    assert item.far_look().body == DARK.state_colour(NodeState.SUCCEEDED)
    canvas.stack.push_command(MoveNodes.by(canvas.doc, ["n_3_3"], 40.0, 0.0))
    assert item.far_look().rect.left() == 3 * 260.0 + 40.0


def test_a_wires_far_look_follows_each_change_of_what_it_shows(qtbot: QtBot) -> None:
    canvas = far_canvas(qtbot)
    scene, wire = canvas.scene, canvas.scene.edge_item("e_4_3")
    plain = wire.far_look()
    assert (plain.colour, plain.strong, plain.problem) == (LIGHT.port_colour(wire.value_type), False, None)
    scene.select([], ["e_4_3"])
    assert (wire.far_look().colour, wire.far_look().strong) == (LIGHT.edge_selected, True)
    scene.set_edge_problems("e_4_3", ["error: broken"])
    assert wire.far_look().problem == LIGHT.error_port and wire.far_look().badge is not None
    scene.clearSelection()
    scene.set_edge_problems("e_4_3", [])
    assert wire.far_look() == plain
    scene.set_theme(DARK)
    assert wire.far_look().colour == DARK.port_colour(wire.value_type)

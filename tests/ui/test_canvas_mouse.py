"""The view driven with mouse and keys as a person would: drag, select, delete, nudge, zoom, pan, fit."""

from __future__ import annotations

from canvas_support import Canvas, assert_scene_matches, click, drag, example, open_canvas
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import MoveNodes
from flowdesk.ui.canvas.view import MAX_ZOOM, MIN_ZOOM

CTRL = Qt.KeyboardModifier.ControlModifier


def _position(canvas: Canvas, node_id: str) -> tuple[float, float]:
    pos = canvas.doc.node(node_id).position
    return pos.x, pos.y


def test_dragging_a_node_is_one_undo_step_snapped_to_the_grid(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    grab = canvas.title_point("answer")
    drag(canvas, grab, grab + QPointF(73, 44), steps=12)
    assert _position(canvas, "answer") == (330.0, 40.0)  # 260+73 -> 330, 0+44 -> 40
    assert canvas.stack.count() == 1 and canvas.stack.undoText() == "Move node"
    assert_scene_matches(canvas)
    canvas.stack.undo()
    assert _position(canvas, "answer") == (260.0, 0.0)
    assert_scene_matches(canvas)
    canvas.stack.redo()
    assert _position(canvas, "answer") == (330.0, 40.0)
    assert_scene_matches(canvas)


def test_dragging_a_selection_moves_every_node_in_one_step(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    canvas.scene.select(["answer", "result"])
    grab = canvas.title_point("result")
    drag(canvas, grab, grab + QPointF(0, 100))
    assert _position(canvas, "answer") == (260.0, 100.0)
    assert _position(canvas, "result") == (540.0, 100.0)
    assert _position(canvas, "start") == (0.0, 0.0)
    assert canvas.stack.count() == 1 and canvas.stack.undoText() == "Move 2 nodes"
    assert_scene_matches(canvas)


def test_dragging_a_selection_keeps_cards_lined_up_off_the_grid(qtbot: QtBot) -> None:
    """Cards aligned on their right edges (or centres) sit off the grid; a group drag must not undo that."""
    canvas = open_canvas(qtbot, example("ask_llm"))
    canvas.stack.push_command(MoveNodes(canvas.doc, {"answer": (263.0, 0.0), "result": (267.0, 120.0)}))
    canvas.scene.select(["answer", "result"])
    grab = canvas.title_point("answer")
    drag(canvas, grab, grab + QPointF(73, 44), steps=12)
    assert _position(canvas, "answer") == (333.0, 40.0)  # moved by the snapped offset (70, 40)
    assert _position(canvas, "result") == (337.0, 160.0)  # still 4 to the right of it
    assert_scene_matches(canvas)


def test_a_wire_between_two_dragged_cards_is_routed_once_per_mouse_move(qtbot: QtBot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    canvas = open_canvas(qtbot, example("ask_llm"))
    canvas.scene.select(["answer", "result"])
    (between,) = [e.id for e in canvas.doc.edges if {e.source, e.target} == {"answer", "result"}]
    routed: list[str] = []
    route = canvas.scene._route_items  # every wire the scene routes or moves along goes through here
    monkeypatch.setattr(
        canvas.scene, "_route_items", lambda items: (routed.extend(i.edge_id for i in items), route(items))
    )
    grab = canvas.title_point("result")
    drag(canvas, grab, grab + QPointF(0, 100), steps=6)
    assert 1 <= routed.count(between) <= 6 + 1  # once per move, and once on the drop (it was once per end)
    assert _position(canvas, "result") == (540.0, 100.0)
    assert_scene_matches(canvas)


def test_a_click_without_moving_pushes_nothing(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    click(canvas, canvas.title_point("answer"))
    drag(canvas, canvas.title_point("start"), canvas.title_point("start") + QPointF(2, 1))
    assert canvas.stack.count() == 0
    assert_scene_matches(canvas)


def test_click_selects_and_ctrl_click_toggles(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    click(canvas, canvas.title_point("answer"))
    assert canvas.scene.selected_node_ids() == ["answer"]
    click(canvas, canvas.title_point("start"), CTRL)
    assert canvas.scene.selected_node_ids() == ["answer", "start"]
    click(canvas, canvas.title_point("answer"), CTRL)
    assert canvas.scene.selected_node_ids() == ["start"]
    click(canvas, canvas.title_point("result"))
    assert canvas.scene.selected_node_ids() == ["result"]


def test_rubber_band_selects_the_nodes_it_touches(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    start = canvas.scene.node_item("start").sceneBoundingRect()
    answer = canvas.scene.node_item("answer").sceneBoundingRect()
    drag(canvas, start.topLeft() - QPointF(30, 30), answer.center() + QPointF(0, 60), steps=10)
    assert canvas.scene.selected_node_ids() == ["answer", "start"]
    assert canvas.stack.count() == 0


def test_delete_removes_selected_nodes_and_edges_in_one_step(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("parallel_summaries"))
    before = canvas.doc.workflow
    canvas.scene.select(["title"], ["e_8"])
    QTest.keyClick(canvas.view, Qt.Key.Key_Delete)
    assert not canvas.doc.has_node("title")
    assert not canvas.doc.has_edge("e_8") and not canvas.doc.has_edge("e_3") and not canvas.doc.has_edge("e_5")
    assert canvas.stack.count() == 1
    assert_scene_matches(canvas)
    canvas.stack.undo()
    assert canvas.doc.workflow == before, "undo restores every node and edge at its exact index"
    assert_scene_matches(canvas)


def test_backspace_deletes_a_selected_edge(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    edge = canvas.scene.edge_item("e_2")
    click(canvas, edge.path.pointAtPercent(0.5))
    assert canvas.scene.selected_edge_ids() == ["e_2"]
    QTest.keyClick(canvas.view, Qt.Key.Key_Backspace)
    assert [e.id for e in canvas.doc.edges] == ["e_1"]
    assert canvas.stack.undoText() == "Disconnect"
    assert_scene_matches(canvas)


def test_arrow_keys_nudge_one_step_per_press(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    canvas.scene.select(["answer"])
    QTest.keyClick(canvas.view, Qt.Key.Key_Right)
    QTest.keyClick(canvas.view, Qt.Key.Key_Down)
    QTest.keyClick(canvas.view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert _position(canvas, "answer") == (220.0, 10.0)
    assert canvas.stack.count() == 3
    canvas.stack.undo()
    assert _position(canvas, "answer") == (270.0, 10.0)
    assert_scene_matches(canvas)


def _wheel(canvas: Canvas, at: QPoint, notches: int) -> None:
    event = QWheelEvent(
        QPointF(at),
        QPointF(canvas.view.viewport().mapToGlobal(at)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas.view.viewport(), event)


def test_wheel_zoom_keeps_the_point_under_the_cursor_and_is_clamped(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("etl_orders"))
    view = canvas.view
    cursor = QPoint(900, 250)
    under = view.to_scene(QPointF(cursor))
    _wheel(canvas, cursor, 2)
    assert view.zoom > 1.3
    assert abs(view.to_viewport(under).x() - cursor.x()) <= 1.0
    assert abs(view.to_viewport(under).y() - cursor.y()) <= 1.0
    _wheel(canvas, cursor, -5)
    assert view.zoom < 1.0
    assert (view.to_viewport(under) - QPointF(cursor)).manhattanLength() <= 2.0
    for _ in range(20):
        _wheel(canvas, cursor, 5)
    assert view.zoom == MAX_ZOOM
    for _ in range(40):
        _wheel(canvas, cursor, -5)
    assert view.zoom == MIN_ZOOM


def test_middle_drag_and_space_drag_pan(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    view = canvas.view
    origin = view.to_viewport(QPointF(0, 0))
    drag(canvas, QPointF(-200, 300), QPointF(-100, 350), button=Qt.MouseButton.MiddleButton)
    moved = view.to_viewport(QPointF(0, 0)) - origin
    assert (round(moved.x()), round(moved.y())) == (100, 50)
    QTest.keyPress(view, Qt.Key.Key_Space)
    here = view.to_viewport(QPointF(0, 0))
    start = canvas.title_point("answer")
    drag(canvas, start, start + QPointF(-40, 0))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert round((view.to_viewport(QPointF(0, 0)) - here).x()) == -40
    assert canvas.stack.count() == 0, "panning over a node does not move it"
    assert canvas.scene.selected_node_ids() == []


def test_f_fits_everything_in_view(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("etl_orders"), size=(800, 500))
    QTest.keyClick(canvas.view, Qt.Key.Key_F)
    visible = canvas.view.mapToScene(canvas.view.viewport().rect()).boundingRect()
    assert visible.contains(canvas.scene.itemsBoundingRect())
    assert canvas.view.zoom < 1.0
    small = open_canvas(qtbot, example("ask_llm"), size=(1600, 1000))
    small.view.fit_all()
    assert small.view.zoom == 1.0, "fitting a small workflow does not blow it up"

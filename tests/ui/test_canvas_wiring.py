"""Wiring by mouse: drag from a port, see what fits, drop to connect; refusals say why."""

from __future__ import annotations

from canvas_support import Canvas, assert_scene_matches, drag, example, open_canvas
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import AddNode
from flowdesk.ui.canvas import NodeItem, PortMark


def _three_nodes(qtbot: QtBot) -> Canvas:
    """An LLM (text: string) and a Map (items: array) and an Output (value: any), unwired."""
    canvas = open_canvas(qtbot)
    for kind, x in (("llm", 0), ("map", 300), ("output", 300)):
        canvas.stack.push_command(AddNode.of_kind(canvas.doc, kind, (x, 0 if kind != "output" else 160)))
    canvas.stack.clear()
    return canvas


def test_dragging_output_to_input_connects(qtbot: QtBot) -> None:
    canvas = _three_nodes(qtbot)
    drag(canvas, canvas.port("llm_1", "output", "text"), canvas.port("output_1", "input", "value"))
    [edge] = canvas.doc.edges
    assert (edge.source, edge.source_port, edge.target, edge.target_port) == ("llm_1", "text", "output_1", "value")
    assert canvas.stack.count() == 1 and canvas.stack.undoText() == "Connect"
    assert_scene_matches(canvas)
    canvas.stack.undo()
    assert canvas.doc.edges == ()
    assert_scene_matches(canvas)


def test_dragging_backwards_from_a_free_input_connects_too(qtbot: QtBot) -> None:
    canvas = _three_nodes(qtbot)
    drag(canvas, canvas.port("output_1", "input", "value"), canvas.port("llm_1", "output", "json"))
    [edge] = canvas.doc.edges
    assert (edge.source, edge.source_port, edge.target, edge.target_port) == ("llm_1", "json", "output_1", "value")


def test_incompatible_drop_is_refused_with_the_reason(qtbot: QtBot) -> None:
    canvas = _three_nodes(qtbot)
    with qtbot.waitSignal(canvas.view.connection_refused) as refused:
        drag(canvas, canvas.port("llm_1", "output", "text"), canvas.port("map_1", "input", "items"))
    assert refused.args[0].startswith("a string output cannot feed an array input")
    assert canvas.doc.edges == () and canvas.stack.count() == 0
    assert_scene_matches(canvas)


def test_output_onto_output_is_refused(qtbot: QtBot) -> None:
    canvas = _three_nodes(qtbot)
    with qtbot.waitSignal(canvas.view.connection_refused) as refused:
        drag(canvas, canvas.port("llm_1", "output", "text"), canvas.port("map_1", "output", "results"))
    assert "is an output too" in refused.args[0]
    assert canvas.doc.edges == ()


def test_compatible_ports_light_up_while_dragging(qtbot: QtBot) -> None:
    canvas = _three_nodes(qtbot)
    viewport = canvas.view.viewport()
    start = canvas.point(canvas.port("llm_1", "output", "text"))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + (canvas.point(canvas.port("output_1", "input", "value")) - start) / 2)
    out, mapper = canvas.scene.node_item("output_1"), canvas.scene.node_item("map_1")
    assert isinstance(out, NodeItem) and isinstance(mapper, NodeItem)
    assert out._marks == {("input", "value"): PortMark.COMPATIBLE}
    assert mapper._marks == {("input", "items"): PortMark.REFUSED}
    QTest.mouseMove(viewport, canvas.point(canvas.port("output_1", "input", "value")))
    assert out._marks == {("input", "value"): PortMark.TARGET}
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, canvas.point(QPointF(150, 400))
    )
    assert out._marks == {} and mapper._marks == {}, "highlights go away when the wire is dropped"


def test_drop_on_empty_canvas_reports_where(qtbot: QtBot) -> None:
    canvas = _three_nodes(qtbot)
    with qtbot.waitSignal(canvas.view.wire_dropped) as dropped:
        drag(canvas, canvas.port("llm_1", "output", "json"), QPointF(200, 400))
    node_id, port, where = dropped.args
    assert (node_id, port) == ("llm_1", "json")
    assert (where - QPointF(200, 400)).manhattanLength() <= 2
    assert canvas.doc.edges == () and canvas.stack.count() == 0
    assert [i for i in canvas.scene.items() if type(i).__name__ == "PendingWire"] == []


def test_drop_on_a_node_body_takes_its_first_fitting_input(qtbot: QtBot) -> None:
    canvas = _three_nodes(qtbot)
    body = canvas.scene.node_item("output_1").sceneBoundingRect().center()
    drag(canvas, canvas.port("llm_1", "output", "text"), body)
    assert [(e.target, e.target_port) for e in canvas.doc.edges] == [("output_1", "value")]


def test_lifting_a_wire_off_its_input_and_dropping_it_away_disconnects(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    drag(canvas, canvas.port("result", "input", "value"), QPointF(420, 300))
    assert [e.id for e in canvas.doc.edges] == ["e_1"]
    assert canvas.stack.count() == 1
    canvas.stack.undo()
    assert [e.id for e in canvas.doc.edges] == ["e_1", "e_2"]
    assert canvas.scene.edge_item("e_2").isVisible()
    assert_scene_matches(canvas)


def test_lifting_a_wire_onto_another_input_reconnects_in_one_step(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    canvas.stack.push_command(AddNode.of_kind(canvas.doc, "output", (540, 160)))
    drag(canvas, canvas.port("result", "input", "value"), canvas.port("output_1", "input", "value"))
    assert [(e.source, e.source_port, e.target) for e in canvas.doc.edges] == [
        ("start", "inputs", "answer"),
        ("answer", "text", "output_1"),
    ]
    assert canvas.stack.count() == 2 and canvas.stack.undoText() == "Reconnect"
    canvas.stack.undo()
    assert [e.id for e in canvas.doc.edges] == ["e_1", "e_2"]
    assert_scene_matches(canvas)


def test_drop_on_an_occupied_input_replaces_its_wire(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    drag(canvas, canvas.port("answer", "output", "json"), canvas.port("result", "input", "value"))
    assert [(e.source_port, e.target) for e in canvas.doc.edges if e.target == "result"] == [("json", "result")]
    canvas.stack.undo()
    assert [e.id for e in canvas.doc.edges] == ["e_1", "e_2"]
    assert_scene_matches(canvas)


def test_wiring_back_to_an_ancestor_draws_a_loop_edge(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    canvas.stack.push_command(AddNode.of_kind(canvas.doc, "transform", (540, 200)))
    drag(canvas, canvas.port("answer", "output", "json"), canvas.port("transform_1", "input", "input"))
    viewport = canvas.view.viewport()
    QTest.mousePress(
        viewport,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        canvas.point(canvas.port("transform_1", "output", "output")),
    )
    QTest.mouseMove(viewport, canvas.point(QPointF(400, 300)))
    answer = canvas.scene.node_item("answer")
    assert isinstance(answer, NodeItem)
    assert answer._marks == {("input", "input"): PortMark.LOOP}, "going back to an ancestor is offered as a loop"
    QTest.keyClick(canvas.view, Qt.Key.Key_Escape)
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, canvas.point(QPointF(400, 300))
    )
    drag(canvas, canvas.port("transform_1", "output", "output"), canvas.port("answer", "input", "input"))
    loop = canvas.doc.edges[-1]
    assert (loop.source, loop.target) == ("transform_1", "answer")
    assert loop.loop is not None and loop.loop.max_iterations == 3
    assert canvas.scene.edge_item(loop.id).label == "↺ max 3"
    assert_scene_matches(canvas)


def test_escape_abandons_a_wire(qtbot: QtBot) -> None:
    canvas = _three_nodes(qtbot)
    viewport = canvas.view.viewport()
    start = canvas.point(canvas.port("llm_1", "output", "text"))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, canvas.point(canvas.port("output_1", "input", "value")))
    QTest.keyClick(canvas.view, Qt.Key.Key_Escape)
    QTest.mouseRelease(
        viewport,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        canvas.point(canvas.port("output_1", "input", "value")),
    )
    QApplication.processEvents()
    assert canvas.doc.edges == () and canvas.stack.count() == 0

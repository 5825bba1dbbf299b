"""Dropping a node on a wire inserts it there: a dragged unconnected node, or a kind from the palette."""

from __future__ import annotations

from editor_support import assert_window_scene_matches
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import AddNode, Connect
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.palette import KIND_MIME


def wired_pair(window: MainWindow) -> str:
    """Start -> Output, 600 apart; returns the wire's id."""
    doc = window.document
    start, out = AddNode.of_kind(doc, "start", (0, 0)), AddNode.of_kind(doc, "output", (600, 0))
    window.stack.push_command(start)
    window.stack.push_command(out)
    connect = Connect(doc, start.node.id, "inputs", out.node.id, "value")
    window.stack.push_command(connect)
    window.view.set_zoom(1.0)
    window.view.centerOn(400, 100)
    return connect.edge.id


def add(window: MainWindow, kind: str, at: tuple[float, float]) -> str:
    command = AddNode.of_kind(window.document, kind, at)
    window.stack.push_command(command)
    return command.node.id


def wire_middle(window: MainWindow, edge_id: str) -> QPointF:
    return window.scene.edge_item(edge_id).path.pointAtPercent(0.5)


def drag_node_onto(window: MainWindow, node_id: str, target: QPointF) -> bool:
    """Drag the node by its header so the mouse ends on ``target``; True if the wire was lit just before release."""
    item = window.scene.node_item(node_id)
    grab = item.mapToScene(QPointF(item.card_rect().center().x(), 12.0))
    viewport = window.view.viewport()
    a, b = window.view.to_viewport(grab).toPoint(), window.view.to_viewport(target).toPoint()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, 9):
        QTest.mouseMove(viewport, a + (b - a) * (i / 8))
    lit = window.scene.insert_target is not None
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    QApplication.processEvents()
    return lit


def wires(window: MainWindow) -> list[tuple[str, str, str, str]]:
    return sorted((e.source, e.source_port, e.target, e.target_port) for e in window.document.edges)


def test_a_dragged_unconnected_node_lights_the_wire_and_goes_into_it(qtbot: QtBot, window: MainWindow) -> None:
    edge = wired_pair(window)
    middle = add(window, "transform", (300, 300))
    before = window.document.workflow
    assert drag_node_onto(window, middle, wire_middle(window, edge))
    assert window.scene.insert_target is None  # the light goes out on release
    assert not any(item.is_insert_target for item in window.scene.edge_items())
    assert wires(window) == sorted([("start_1", "inputs", middle, "input"), (middle, "output", "output_1", "value")])
    assert window.stack.undoText().startswith("Insert Transform")
    assert_window_scene_matches(window)
    window.stack.undo()  # move and rewiring: one step
    assert window.document.workflow == before
    assert_window_scene_matches(window)


def test_a_node_that_does_not_fit_just_drops(qtbot: QtBot, window: MainWindow) -> None:
    edge = wired_pair(window)
    mapper = add(window, "map", (300, 300))  # wants an array; Start sends an object
    assert not drag_node_onto(window, mapper, wire_middle(window, edge))
    assert [e.id for e in window.document.edges] == [edge]
    assert window.document.node(mapper).position.y < 300  # it moved all the same
    assert window.stack.undoText() == "Move node"


def test_a_connected_node_is_not_rewired_by_a_drag(qtbot: QtBot, window: MainWindow) -> None:
    edge = wired_pair(window)
    a, b = add(window, "transform", (300, 300)), add(window, "transform", (600, 300))
    window.stack.push_command(Connect(window.document, a, "output", b, "input"))
    assert not drag_node_onto(window, a, wire_middle(window, edge))
    assert len(window.document.edges) == 2


_KEEP: list[QMimeData] = []


def drag_event(window: MainWindow, kind: str, at: QPointF, event_type: QEvent.Type) -> QDropEvent:
    """A palette drag (move or drop) of ``kind`` at a scene point; its mime data is kept alive (Qt does not own it)."""
    mime = QMimeData()
    _KEEP.append(mime)
    mime.setData(KIND_MIME, kind.encode())
    pixel = QPointF(window.view.to_viewport(at).toPoint())
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    if event_type == QEvent.Type.Drop:
        return QDropEvent(pixel, Qt.DropAction.CopyAction, mime, buttons, mods)
    return QDragMoveEvent(pixel, Qt.DropAction.CopyAction, mime, buttons, mods)


def deliver(window: MainWindow, event: QDropEvent) -> bool:
    """Hand a drag event to the canvas's filters in Qt's order (last installed first), as Qt would.

    Offscreen, Qt delivers drag and drop only inside a real drag session, which a test cannot start.
    """
    viewport = window.view.viewport()
    for watcher in (window.editing.watcher, window):
        if watcher.eventFilter(viewport, event):
            return True
    return False


def test_a_kind_dropped_from_the_palette_onto_a_wire_is_inserted(qtbot: QtBot, window: MainWindow) -> None:
    edge = wired_pair(window)
    before = window.document.workflow
    middle = wire_middle(window, edge)
    deliver(window, drag_event(window, "llm", middle, QEvent.Type.DragMove))
    assert window.scene.edge_item(edge).is_insert_target
    assert deliver(window, drag_event(window, "llm", middle, QEvent.Type.Drop))
    (added,) = [n for n in window.document.nodes if n.kind == "llm"]
    assert wires(window) == sorted([("start_1", "inputs", added.id, "input"), (added.id, "text", "output_1", "value")])
    assert window.scene.selected_node_ids() == [added.id]
    assert_window_scene_matches(window)
    window.stack.undo()
    assert window.document.workflow == before


def test_a_kind_that_does_not_fit_is_added_where_it_fell(qtbot: QtBot, window: MainWindow) -> None:
    edge = wired_pair(window)
    middle = wire_middle(window, edge)
    deliver(window, drag_event(window, "map", middle, QEvent.Type.DragMove))
    assert window.scene.insert_target is None
    assert deliver(window, drag_event(window, "map", middle, QEvent.Type.Drop))
    assert [n.kind for n in window.document.nodes].count("map") == 1
    assert [e.id for e in window.document.edges] == [edge]


def test_a_kind_dropped_into_a_tight_wire_makes_room(qtbot: QtBot, window: MainWindow) -> None:
    """Start and Output side by side: the new card must not land on Output; Output slides right."""
    doc = window.document
    start, out = AddNode.of_kind(doc, "start", (0, 0)), AddNode.of_kind(doc, "output", (260, 0))
    for command in (start, out):
        window.stack.push_command(command)
    connect = Connect(doc, start.node.id, "inputs", out.node.id, "value")
    window.stack.push_command(connect)
    window.view.set_zoom(1.0)
    window.view.centerOn(200, 50)
    middle = wire_middle(window, connect.edge.id)
    assert deliver(window, drag_event(window, "transform", middle, QEvent.Type.Drop))
    (added,) = [n for n in doc.nodes if n.kind == "transform"]
    new_card = window.scene.node_item(added.id).sceneBoundingRect()
    output_card = window.scene.node_item(out.node.id).sceneBoundingRect()
    assert not new_card.intersects(output_card) and output_card.left() >= new_card.right()
    assert doc.node(out.node.id).position.x > 260
    assert_window_scene_matches(window)
    window.stack.undo()  # add, make room, rewire: one step
    assert doc.node(out.node.id).position.x == 260 and len(doc.nodes) == 2

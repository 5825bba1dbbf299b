"""Editing gestures on a workflow of many wires cost what they touch (issue 23), driven by the mouse.

A wire drag judges every port in view with one reachability search; a dragged selection moves
the wires inside it along and routes only the wires across its border.
"""

from __future__ import annotations

from canvas_support import Canvas, assert_scene_matches, open_canvas
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytest import MonkeyPatch
from pytestqt.qtbot import QtBot

from flowdesk.model import edge_index
from flowdesk.model.workflow import Edge, Node, Position, Workflow
from flowdesk.ui.canvas import NodeItem, PortMark, edge_item

ROWS, COLUMNS = 4, 8
LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def rows_of_chains(rows: int = ROWS, columns: int = COLUMNS) -> Workflow:
    """``rows`` chains of ``columns`` transforms, each chain on its own row: ``r1c3`` is row 1, column 3."""
    nodes = [
        Node(id=f"r{r}c{c}", kind="transform", position=Position(x=260.0 * c, y=160.0 * r))
        for r in range(rows)
        for c in range(columns)
    ]
    edges = [
        Edge(id=f"w{r}_{c}", source=f"r{r}c{c}", source_port="output", target=f"r{r}c{c + 1}", target_port="input")
        for r in range(rows)
        for c in range(columns - 1)
    ]
    return Workflow(id="wf_rows", nodes=tuple(nodes), edges=tuple(edges))


def _opened(qtbot: QtBot, workflow: Workflow | None = None) -> Canvas:
    canvas = open_canvas(qtbot, workflow or rows_of_chains(), size=(1400, 900))
    canvas.view.set_zoom(0.5)  # a power of two: mouse steps map to exact scene offsets
    canvas.view.centerOn(canvas.scene.itemsBoundingRect().center())
    return canvas


def _press_move(canvas: Canvas, start: QPointF, end: QPointF, steps: int = 5) -> None:
    viewport = canvas.view.viewport()
    a, b = canvas.point(start), canvas.point(end)
    QTest.mousePress(viewport, LEFT, NONE, a)
    for i in range(1, steps + 1):
        QTest.mouseMove(viewport, a + (b - a) * (i / steps))
    QApplication.processEvents()


def test_a_wire_drag_judges_every_port_in_view_with_one_reachability_search(
    qtbot: QtBot, monkeypatch: MonkeyPatch
) -> None:
    canvas = _opened(qtbot)
    searches: list[str] = []
    closure = edge_index.EdgeIndex.closure

    def counted(self: edge_index.EdgeIndex, node_id: str, *, downstream: bool) -> frozenset[str]:
        searches.append(node_id)
        return closure(self, node_id, downstream=downstream)

    monkeypatch.setattr(edge_index.EdgeIndex, "closure", counted)
    free_input = canvas.port("r0c0", "input", "input")
    _press_move(canvas, canvas.port("r2c4", "output", "output"), free_input)
    qtbot.waitUntil(lambda: not canvas.view._wire._queue)  # the batches after the press are done
    marks = {
        item.node_id: item._marks.get(("input", "input"))
        for item in canvas.scene.node_items()
        if isinstance(item, NodeItem) and item._marks
    }
    assert len(marks) == ROWS * COLUMNS - 1  # every card in view but the anchor is lit
    assert marks["r2c1"] == PortMark.LOOP and marks["r2c3"] == PortMark.LOOP  # upstream: only a loop edge fits
    assert marks["r2c5"] == PortMark.COMPATIBLE and marks["r1c3"] == PortMark.COMPATIBLE
    assert marks["r0c0"] == PortMark.TARGET
    assert searches == ["r2c4"]  # what leads to the anchor, found once for all the ports
    QTest.mouseRelease(canvas.view.viewport(), LEFT, NONE, canvas.point(free_input))
    added = [e for e in canvas.doc.edges if e.target == "r0c0"]
    assert [(e.source, e.source_port, e.loop) for e in added] == [("r2c4", "output", None)]
    assert canvas.doc.edges_at_port("r0c0", "input", "input") == added
    assert_scene_matches(canvas)


def test_dragging_a_rubber_band_selection_moves_inner_wires_and_routes_only_the_border(
    qtbot: QtBot, monkeypatch: MonkeyPatch
) -> None:
    canvas = _opened(qtbot)
    scene = canvas.scene
    corner = scene.node_item("r0c0").sceneBoundingRect().topLeft() - QPointF(30, 30)
    last = scene.node_item(f"r{ROWS - 1}c3").sceneBoundingRect().bottomRight()
    _press_move(canvas, corner, last + QPointF(0, 10))
    QTest.mouseRelease(canvas.view.viewport(), LEFT, NONE, canvas.point(last + QPointF(0, 10)))
    chosen = [f"r{r}c{c}" for r in range(ROWS) for c in range(4)]
    assert sorted(scene.selected_node_ids()) == sorted(chosen)
    before = {e.id: scene.edge_item(e.id).path for e in canvas.doc.edges}

    routed: list[tuple[float, float]] = []
    wire_path = edge_item.wire_path

    def counted(start: QPointF, end: QPointF, *, below: float | None = None):  # type: ignore[no-untyped-def]
        routed.append((start.x(), start.y()))
        return wire_path(start, end, below=below)

    monkeypatch.setattr(edge_item, "wire_path", counted)
    grab = canvas.title_point("r1c1")
    _press_move(canvas, grab, grab + QPointF(100, 50), steps=6)
    border = [f"w{r}_3" for r in range(ROWS)]  # column 3 -> column 4: one end stays behind
    assert len(routed) == 6 * len(border)  # each border wire once per mouse move, no inner wire at all
    offset = scene.node_item("r1c1").pos() - QPointF(260.0, 160.0)
    for r in range(ROWS):
        inner = scene.edge_item(f"w{r}_0")
        assert inner.path == before[f"w{r}_0"].translated(offset)  # moved along, same shape
        assert scene.edge_item(f"w{r}_5").path == before[f"w{r}_5"]  # a wire between unmoved cards stays
    QTest.mouseRelease(canvas.view.viewport(), LEFT, NONE, canvas.point(grab + QPointF(100, 50)))
    QApplication.processEvents()
    assert canvas.stack.count() == 1 and canvas.stack.undoText() == f"Move {len(chosen)} nodes"
    moved = canvas.doc.node("r1c1").position
    dx, dy = moved.x - 260.0, moved.y - 160.0
    assert (dx, dy) != (0.0, 0.0) and dx % 10 == 0 and dy % 10 == 0  # one snapped offset for all
    for node_id in chosen:
        r, c = int(node_id[1]), int(node_id[3])
        assert (canvas.doc.node(node_id).position.x, canvas.doc.node(node_id).position.y) == (
            260.0 * c + dx,
            160.0 * r + dy,
        )
    assert_scene_matches(canvas)
    canvas.stack.undo()
    assert canvas.doc.workflow == rows_of_chains()
    assert_scene_matches(canvas)


def test_a_drag_of_hundreds_of_cards_lands_where_it_was_dropped_and_stays_clickable(qtbot: QtBot) -> None:
    """Past 200 cards the drag works without Qt's index of the items; afterwards clicks find the moved cards."""
    workflow = rows_of_chains(12, 20)
    canvas = _opened(qtbot, workflow)
    canvas.view.set_zoom(0.25)
    canvas.view.centerOn(canvas.scene.itemsBoundingRect().center())
    canvas.scene.select([n.id for n in canvas.doc.nodes])
    grab = canvas.title_point("r6c10")
    _press_move(canvas, grab, grab + QPointF(160, 80), steps=4)
    QTest.mouseRelease(canvas.view.viewport(), LEFT, NONE, canvas.point(grab + QPointF(160, 80)))
    QApplication.processEvents()
    assert canvas.stack.undoText() == "Move 240 nodes"
    assert (canvas.doc.node("r0c0").position.x, canvas.doc.node("r0c0").position.y) == (160.0, 80.0)
    assert_scene_matches(canvas)
    canvas.view.set_zoom(1.0)
    canvas.view.centerOn(canvas.title_point("r3c4"))
    QTest.mouseClick(canvas.view.viewport(), LEFT, NONE, canvas.point(canvas.title_point("r3c4")))
    assert canvas.scene.selected_node_ids() == ["r3c4"]
    assert canvas.scene.edge_at(canvas.scene.edge_item("w3_4").path.pointAtPercent(0.5)) is canvas.scene.edge_item(
        "w3_4"
    )

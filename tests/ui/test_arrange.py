"""Arrange: auto-layout (Ctrl+L), align and distribute, each one undo step, in a real main window."""

from __future__ import annotations

import itertools

from editor_support import CTRL, assert_window_scene_matches, open_example, press, status
from PySide6.QtCore import QRectF, Qt
from pytestqt.qtbot import QtBot

from flowdesk.model.align import Alignment, Axis
from flowdesk.model.commands import MoveNodes
from flowdesk.ui.main_window import MainWindow


def card(window: MainWindow, node_id: str) -> QRectF:
    item = window.scene.node_item(node_id)
    return item.card_rect().translated(item.pos())


def positions(window: MainWindow) -> dict[str, tuple[float, float]]:
    return {n.id: (n.position.x, n.position.y) for n in window.document.nodes}


def test_auto_layout_arranges_everything_left_to_right_in_one_undo_step(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "parallel_summaries")
    doc = window.document
    note_ids = [n.id for n in doc.nodes if n.kind == "note"]
    window.stack.push_command(MoveNodes(doc, {n.id: (0.0, 0.0) for n in doc.nodes if n.kind != "note"}))  # a heap
    heap = positions(window)
    press(window, Qt.Key.Key_L, CTRL)
    assert window.stack.undoText() == "Auto-layout"
    cards = [n.id for n in doc.nodes if n.kind != "note"]
    for a, b in itertools.combinations(cards, 2):
        assert not card(window, a).intersects(card(window, b)), (a, b)
    for edge in doc.edges:
        if edge.loop is None:
            assert card(window, edge.target).left() > card(window, edge.source).right(), edge.id
    assert all(positions(window)[n] == heap[n] for n in note_ids)  # notes stay where they were put
    assert_window_scene_matches(window)
    window.stack.undo()
    assert positions(window) == heap
    assert_window_scene_matches(window)
    press(window, Qt.Key.Key_L, CTRL)
    press(window, Qt.Key.Key_L, CTRL)
    assert status(window) == "Nothing to move: already laid out"


def test_auto_layout_of_a_selection_moves_only_the_selection(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "etl_orders")
    before = positions(window)
    chosen = [n.id for n in window.document.nodes][:4]
    window.scene.select(chosen)
    window.editing.layout_action.trigger()
    after = positions(window)
    assert all(after[n] == before[n] for n in before if n not in chosen)
    assert any(after[n] != before[n] for n in chosen)
    assert "(the selection)" in status(window)


def test_align_each_way_through_the_menu(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    chosen = ["start", "approved", "fix"]
    window.scene.select(chosen)
    window.editing.align_actions[Alignment.LEFT].trigger()
    assert {card(window, n).left() for n in chosen} == {0.0}
    assert window.stack.undoText() == "Align left"
    window.editing.align_actions[Alignment.BOTTOM].trigger()
    assert len({card(window, n).bottom() for n in chosen}) == 1
    window.editing.align_actions[Alignment.CENTRE_X].trigger()
    assert len({card(window, n).center().x() for n in chosen}) == 1
    window.stack.undo()
    window.stack.undo()
    window.stack.undo()  # three steps, three undos
    assert positions(window)["fix"] == (780.0, 100.0)
    assert_window_scene_matches(window)


def test_distribute_evens_the_gaps(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    chosen = ["start", "review", "fix"]
    window.scene.select(chosen)
    window.editing.distribute_actions[Axis.HORIZONTAL].trigger()
    rects = sorted((card(window, n) for n in chosen), key=lambda r: r.left())
    gaps = [round(b.left() - a.right(), 6) for a, b in itertools.pairwise(rects)]
    assert len(set(gaps)) == 1
    assert window.stack.undoText() == "Distribute horizontally"


def test_too_few_selected_says_what_is_needed(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    window.scene.select(["start"])
    count = window.stack.count()
    window.editing.align_actions[Alignment.TOP].trigger()
    assert status(window) == "Select two or more nodes to align"
    window.scene.select(["start", "review"])
    window.editing.distribute_actions[Axis.VERTICAL].trigger()
    assert status(window) == "Select three or more nodes to distribute"
    assert window.stack.count() == count

"""Arrange: auto-layout (Ctrl+L), align and distribute, each one undo step, in a real main window."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from editor_support import CTRL, assert_window_scene_matches, open_example, press, status
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QApplication, QGraphicsScene
from pytestqt.qtbot import QtBot

from flowdesk.model.align import Alignment, Axis
from flowdesk.model.commands import MoveNodes
from flowdesk.model.workflow import Edge, Node, Position, Workflow
from flowdesk.ui.canvas import EdgeItem
from flowdesk.ui.canvas.batching import BULK
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


def scrambled_chains(chains: int, length: int, seed: int = 7) -> Workflow:
    """``chains`` rows of ``length`` transforms wired in a row, each node dropped somewhere at random."""
    rng = random.Random(seed)
    nodes = [
        Node(
            id=f"n_{c}_{i}",
            kind="transform",
            position=Position(x=rng.randrange(0, 8000, 10), y=rng.randrange(0, 6000, 10)),
        )
        for c in range(chains)
        for i in range(length)
    ]
    edges = [
        Edge(id=f"e_{c}_{i}", source=f"n_{c}_{i - 1}", source_port="output", target=f"n_{c}_{i}", target_port="input")
        for c in range(chains)
        for i in range(1, length)
    ]
    return Workflow(id="wf_scrambled", name="Scrambled", nodes=tuple(nodes), edges=tuple(edges))


@pytest.mark.parametrize("zoom", [1.0, 0.1], ids=["near", "far"])
def test_a_big_auto_layout_routes_each_wire_once_and_stays_one_step(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, zoom: float
) -> None:
    window.load(scrambled_chains(15, 16), "library")  # 240 nodes: past BULK changes, the index is dropped
    assert len(window.document.nodes) > BULK
    window.view.set_zoom(zoom)
    window.grab()  # painted once: the scene's index is built, as in a window someone looks at
    routed: Counter[str] = Counter()
    set_ends = EdgeItem.set_ends

    def counting(item: EdgeItem, *args: object, **kwargs: object) -> None:
        routed[item.edge_id] += 1
        set_ends(item, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(EdgeItem, "set_ends", counting)
    heap, steps = positions(window), window.stack.count()
    window.editing.layout_action.trigger()
    assert window.stack.count() == steps + 1 and window.stack.undoText() == "Auto-layout"
    assert set(routed.values()) == {1} and len(routed) == len(window.document.edges), "each wire routed once"
    assert_window_scene_matches(window)
    scene = window.scene
    assert scene.index.pending, "the index is rebuilt after the edit, once the person pauses"
    qtbot.waitUntil(lambda: scene.itemIndexMethod() == QGraphicsScene.ItemIndexMethod.BspTreeIndex, timeout=2000)
    for node in window.document.nodes[::37]:  # the rebuilt index finds each card where it now is
        centre = card(window, node.id).center()
        assert scene.node_item_at(centre) is scene.node_item(node.id), node.id
    routed.clear()
    window.stack.undo()
    assert positions(window) == heap
    assert set(routed.values()) == {1}
    assert_window_scene_matches(window)
    window.stack.redo()
    assert_window_scene_matches(window)
    QApplication.processEvents()


def test_select_all_tells_the_window_once(qtbot: QtBot, window: MainWindow) -> None:
    """Ctrl+A over a big workflow: one selection change, not one per item (that made it quadratic:
    2.5 minutes for 5,000 nodes)."""
    open_example(window, "etl_orders")
    doc = window.document
    heard: list[int] = []
    scene = window.scene

    def changed() -> None:
        heard.append(len(scene.selectedItems()))

    scene.selectionChanged.connect(changed)
    press(window, Qt.Key.Key_A, CTRL)
    assert heard == [len(doc.nodes) + len(doc.edges)]
    assert set(window.scene.selected_node_ids()) == {n.id for n in doc.nodes}
    assert window.inspector.node_id is None  # several selected: the inspector shows no single node
    window.scene.select([doc.nodes[0].id])
    assert heard[-1] == 1 and window.inspector.node_id == doc.nodes[0].id
    scene.selectionChanged.disconnect(changed)

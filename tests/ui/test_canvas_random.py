"""Seeded random edits, undos and redos never desynchronise the canvas from the document.

Most edits are commands pushed on the undo stack (as the inspector and menus will push them);
some are made with the mouse and keys on the real view (drag a node, nudge, delete a selection).
After every step the scene must show exactly the document: the same node ids at the same
positions with the same titles and ports, the same edge ids between the same port positions.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from canvas_support import Canvas, assert_scene_matches, drag, example, open_canvas
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from flowdesk.model.align import Alignment, Axis
from flowdesk.model.commands import (
    AddNode,
    Command,
    CommandRefused,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    PasteFragment,
    RemoveNodes,
    Rename,
    SetConfig,
    SetEdgeLoop,
    SetNodeOptions,
)
from flowdesk.model.edge_insert import insert_on_edge
from flowdesk.model.workflow import LoopSettings
from flowdesk.ui.arrange import align_selection, auto_layout, distribute_selection, layout_scope
from flowdesk.ui.clipboard import fragment_text, read_fragment

KINDS = ["transform", "condition", "merge", "llm", "switch", "output", "note", "http", "map"]
OPS = ["add"] * 4 + ["connect"] * 4 + ["loop", "remove", "move", "move", "config", "config", "rename", "options"]
OPS += ["disconnect", "disconnect", "paste", "loop_edit", "undo", "undo", "undo", "redo", "redo", "mouse_drag", "nudge"]
OPS += ["delete_key", "layout", "align", "distribute", "insert", "insert_new", "paste_text", "drag_onto_wire"]


def _command(canvas: Canvas, rng: random.Random, op: str) -> Command | None:
    doc = canvas.doc
    node_ids = [n.id for n in doc.nodes]
    if op == "add" or not node_ids:
        return AddNode.of_kind(doc, rng.choice(KINDS), (rng.randrange(-600, 600, 10), rng.randrange(-400, 400, 10)))
    if op in ("connect", "loop"):
        src, dst = rng.choice(node_ids), rng.choice(node_ids)
        forward = [e for e in doc.edges if e.loop is None]
        if op == "loop" and forward:  # back along a wire: the one place a loop edge is accepted
            back = rng.choice(forward)
            src, dst = back.target, back.source
        outs, ins = doc.ports(src).outputs, doc.ports(dst).inputs
        if not outs or not ins:
            return None
        loop = LoopSettings(max_iterations=rng.randint(1, 9)) if op == "loop" else None
        return Connect(doc, src, rng.choice(outs).name, dst, rng.choice(ins).name, loop, replace=rng.random() < 0.5)
    if op == "remove":
        return RemoveNodes(rng.sample(node_ids, min(len(node_ids), rng.randint(1, 3))))
    if op == "move":
        moved = rng.sample(node_ids, min(len(node_ids), rng.randint(1, 3)))
        return MoveNodes(doc, {n: (rng.uniform(-800, 800), rng.uniform(-600, 600)) for n in moved})
    if op == "rename":
        return Rename(
            doc, rng.choice(node_ids), rng.choice(["", "A", "Summarise the whole long document", "Ünïcode ✓"])
        )
    if op == "options":
        return SetNodeOptions(doc, rng.choice(node_ids), on_error=rng.choice(["fail", "continue"]))
    if op == "disconnect":
        return Disconnect([rng.choice(doc.edges).id]) if doc.edges else None
    if op == "paste":
        chosen = set(rng.sample(node_ids, min(len(node_ids), 3)))
        return PasteFragment(doc, [n for n in doc.nodes if n.id in chosen], doc.edges)
    if op in ("layout", "align", "distribute"):
        return _arrange(canvas, rng, op)
    if op in ("insert", "insert_new"):
        return _insert(canvas, rng, op)
    if op == "paste_text":  # through the clipboard's JSON, as Paste reads it
        chosen = rng.sample(node_ids, min(len(node_ids), rng.randint(1, 4)))
        fragment = read_fragment(fragment_text(doc, chosen))
        return PasteFragment(doc, fragment.nodes, fragment.edges, (rng.randrange(-300, 300, 10), 40.0))
    if op == "loop_edit":
        loops = [e for e in doc.edges if e.loop is not None]
        return (
            SetEdgeLoop(doc, rng.choice(loops).id, LoopSettings(max_iterations=rng.randint(1, 50))) if loops else None
        )
    return _config_edit(canvas, rng, rng.choice(node_ids))


def _arrange(canvas: Canvas, rng: random.Random, op: str) -> Command | None:
    """Auto-layout (all, or a selection), align or distribute, as the Arrange menu builds them."""
    ids = [n.id for n in canvas.doc.nodes]
    canvas.scene.select(rng.sample(ids, min(len(ids), rng.choice([0, 1, 2, 3, 5]))))
    if op == "layout":
        return auto_layout(canvas.scene, layout_scope(canvas.scene))
    if op == "align":
        return align_selection(canvas.scene, rng.choice(list(Alignment)))
    return distribute_selection(canvas.scene, rng.choice(list(Axis)))


def _insert(canvas: Canvas, rng: random.Random, op: str) -> Command | None:
    """A node put into a wire: an existing loose one, or a new one (as a palette drop does)."""
    doc = canvas.doc
    if not doc.edges:
        return None
    edge_id = rng.choice(doc.edges).id

    def build(run: Callable[[Command], None]) -> None:
        if op == "insert_new":
            add = AddNode.of_kind(doc, rng.choice(KINDS), (rng.randrange(-600, 600, 10), 0.0))
            run(add)
            insert_on_edge(doc, add.node.id, edge_id, run)
        else:
            loose = [n.id for n in doc.nodes if not doc.edges_of([n.id])]
            if loose:
                insert_on_edge(doc, rng.choice(loose), edge_id, run)

    macro = Macro.record(doc, "Insert", build)
    return macro if macro.commands else None


def _config_edit(canvas: Canvas, rng: random.Random, node_id: str) -> Command:
    doc, node = canvas.doc, canvas.doc.node(node_id)
    if node.kind == "switch":
        return SetConfig(doc, node_id, {"cases": rng.choice([["a"], ["a", "b"], ["b", "c", "d"]])})
    if node.kind == "merge":
        return SetConfig(doc, node_id, {"inputs": rng.randint(2, 5)})
    if node.kind == "note":
        return SetConfig(
            doc, node_id, {"text": rng.choice(["", "hello", "a longer note " * 8]), "width": rng.randint(80, 500)}
        )
    return SetNodeOptions(doc, node_id, timeout_s=rng.choice([None, 1.0, 30.0]))


def _by_hand(canvas: Canvas, rng: random.Random, op: str) -> None:
    """Edits made on the view itself, as a person would make them."""
    ids = [n.id for n in canvas.doc.nodes]
    if not ids:
        return
    node_id = rng.choice(ids)
    canvas.view.centerOn(canvas.scene.node_item(node_id))
    if op == "drag_onto_wire":
        loose = [n for n in ids if not canvas.doc.edges_of([n]) and canvas.doc.node(n).kind != "note"]
        if not loose or not canvas.doc.edges:
            return
        node_id, edge = rng.choice(loose), canvas.scene.edge_item(rng.choice(canvas.doc.edges).id)
        canvas.view.centerOn(edge.path.pointAtPercent(0.5))
        grab = canvas.title_point(node_id)
        if canvas.scene.node_item_at(grab) is canvas.scene.node_item(node_id):
            drag(canvas, grab, edge.path.pointAtPercent(0.5))
    elif op == "mouse_drag":
        grab = canvas.title_point(node_id)
        if canvas.scene.node_item_at(grab) is canvas.scene.node_item(node_id):
            drag(canvas, grab, grab + QPointF(rng.randint(-200, 200), rng.randint(-150, 150)))
    elif op == "nudge":
        canvas.scene.select([node_id])
        QTest.keyClick(
            canvas.view,
            rng.choice([Qt.Key.Key_Left, Qt.Key.Key_Down]),
            rng.choice([Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier]),
        )
    else:
        edges = rng.sample([e.id for e in canvas.doc.edges], min(len(canvas.doc.edges), 1))
        canvas.scene.select(rng.sample(ids, min(len(ids), 2)), edges)
        QTest.keyClick(canvas.view, Qt.Key.Key_Delete)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_random_edits_with_undo_redo_keep_scene_equal_to_document(qtbot: QtBot, seed: int) -> None:
    rng = random.Random(seed)
    canvas = open_canvas(qtbot, example("code_review_loop") if seed % 2 else None)
    assert_scene_matches(canvas)
    pushed = 0
    for step in range(200):
        op = rng.choice(OPS)
        if op == "undo":
            canvas.stack.undo()
        elif op == "redo":
            canvas.stack.redo()
        elif op in ("mouse_drag", "nudge", "delete_key", "drag_onto_wire"):
            _by_hand(canvas, rng, op)
        else:
            try:
                command = _command(canvas, rng, op)
            except CommandRefused:
                command = None
            if command is not None and canvas.stack.push_command(command) is None:
                pushed += 1
        try:
            assert_scene_matches(canvas)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, step {step} ({op}): {exc}") from exc
    assert pushed > 60, "the sequence must mostly edit, not only be refused"
    while canvas.stack.canRedo():  # to the tip of the history, so "redo everything" has a target
        canvas.stack.redo()
        assert_scene_matches(canvas)
    final = canvas.doc.workflow
    while canvas.stack.canUndo():
        canvas.stack.undo()
        assert_scene_matches(canvas)
    while canvas.stack.canRedo():
        canvas.stack.redo()
    assert canvas.doc.workflow == final
    assert_scene_matches(canvas)

"""Seeded random edits, undos and redos never desynchronise the canvas from the document.

Most edits are commands pushed on the undo stack (as the inspector and menus will push them);
some are made with the mouse and keys on the real view (drag a node, nudge, delete a selection).
After every step the scene must show exactly the document: the same node ids at the same
positions with the same titles and ports, the same edge ids between the same port positions.
"""

from __future__ import annotations

import random

import pytest
from canvas_support import Canvas, assert_scene_matches, drag, example, open_canvas
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import (
    AddNode,
    Command,
    CommandRefused,
    Connect,
    Disconnect,
    MoveNodes,
    PasteFragment,
    RemoveNodes,
    Rename,
    SetConfig,
    SetEdgeLoop,
    SetNodeOptions,
)
from flowdesk.model.workflow import LoopSettings

KINDS = ["transform", "condition", "merge", "llm", "switch", "output", "note", "http", "map"]
OPS = ["add"] * 4 + ["connect"] * 4 + ["loop", "remove", "move", "move", "config", "config", "rename", "options"]
OPS += ["disconnect", "disconnect", "paste", "loop_edit", "undo", "undo", "undo", "redo", "redo", "mouse_drag", "nudge"]
OPS += ["delete_key"]


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
    if op == "loop_edit":
        loops = [e for e in doc.edges if e.loop is not None]
        return (
            SetEdgeLoop(doc, rng.choice(loops).id, LoopSettings(max_iterations=rng.randint(1, 50))) if loops else None
        )
    return _config_edit(canvas, rng, rng.choice(node_ids))


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
    if op == "mouse_drag":
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


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
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
        elif op in ("mouse_drag", "nudge", "delete_key"):
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

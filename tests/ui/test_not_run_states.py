"""After a run, the nodes it never reached and the ones cut off by a dead process look unlike untouched
nodes on the canvas (issue 13.6): a stopped run's later nodes say "not run", not "idle"."""

from __future__ import annotations

from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem
from pytestqt.qtbot import QtBot
from support.wfbuild import node, workflow
from test_run_window import press_run, slow_chain, states, wait_finished

from flowdesk.engine.readmodel import NodeView, RunView
from flowdesk.model.document import WorkflowDocument
from flowdesk.nodes.registry import builtin_registry
from flowdesk.ui.canvas.node_item import NodeItem
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.runs.canvas_paint import paint_trace
from flowdesk.ui.undo import DocumentUndoStack


def picture(item: NodeItem) -> QImage:
    rect = item.boundingRect().toRect()
    image = QImage(rect.size(), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.translate(-rect.topLeft())
    item.paint(painter, QStyleOptionGraphicsItem(), None)
    painter.end()
    return image


def test_a_stopped_runs_unreached_nodes_read_not_run(qtbot: QtBot, run_window: MainWindow) -> None:
    win = run_window
    win.load(slow_chain(), "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: states(win).get("wait") == "running", timeout=10_000)
    idle_out = picture(win.scene.node_item("out"))
    win.runs.stop_action.trigger()
    assert wait_finished(qtbot, win) == "cancelled"
    assert states(win)["out"] == "not_run"
    assert picture(win.scene.node_item("out")) != idle_out  # drawn unlike a node no run has touched


def test_nodes_cut_off_by_a_dead_process_read_interrupted(qtbot: QtBot) -> None:
    document = WorkflowDocument(
        workflow([node("a", "transform", expression="1"), node("b", "transform", expression="2")], []),
        builtin_registry(),
    )
    scene = WorkflowScene(document, DocumentUndoStack(document))
    trace = RunView("r1")
    trace.nodes["a"] = NodeView(status="interrupted")
    trace.nodes["b"] = NodeView(status="not_run")
    idle = picture(scene.node_item("a"))
    paint_trace(scene, document, trace, {"a", "b"})
    assert scene.node_item("a").state.value == "interrupted" and scene.node_item("b").state.value == "not_run"
    assert picture(scene.node_item("a")) not in (idle, picture(scene.node_item("b")))  # three looks


def test_a_nodes_tooltip_says_its_run_state_in_words(qtbot: QtBot) -> None:
    document = WorkflowDocument(
        workflow([node("a", "transform", expression="1"), node("b", "transform", expression="2")], []),
        builtin_registry(),
    )
    scene = WorkflowScene(document, DocumentUndoStack(document))
    trace = RunView("r1")
    trace.nodes["a"] = NodeView(status="interrupted")
    trace.nodes["b"] = NodeView(status="not_run")
    paint_trace(scene, document, trace, {"a", "b"})
    centre = scene.node_item("b").card_rect().center()
    said = scene.node_item("b")._tooltip_at(centre)
    assert "not run: the run ended before this node started" in said and "not_run" not in said
    assert "Resume runs it again" in scene.node_item("a")._tooltip_at(centre)

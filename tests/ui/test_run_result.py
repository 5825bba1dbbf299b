"""Seeing the result of a run where a person looks: the status bar says it, the Output node's record shows it."""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication, QHelpEvent
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot
from support.wfbuild import node, workflow
from test_run_inspect import chain, run_once
from test_run_window import named

from flowdesk.model.fileformat import read_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.paths import examples_dir
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.runs.result_view import ResultView


def test_a_finished_run_says_its_result_and_the_output_node_shows_it(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    win.load(chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    assert "value = 41" in win.statusBar().currentMessage()
    win.scene.select(["out"])
    assert win.runs.record.outputs.value == {"value": 41}


def test_a_loop_stopped_at_its_limit_before_the_output_says_so(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    example = read_workflow(examples_dir() / "code_review_loop.json")
    never_approved = (example.inputs[0].model_copy(update={"default": "def add(x, y):\n    return x - y"}),)
    run_window.load(example.model_copy(update={"inputs": never_approved}), "library")
    assert run_once(qtbot, run_window, answer_dialog) == "succeeded"
    message = run_window.statusBar().currentMessage()
    assert "no outputs" in message and "limit of 3 passes" in message and "Review" in message


def long_answer() -> Workflow:
    """A run with a long text output and a structured one, as an LLM answer and a report would be."""
    return named(
        workflow(
            [node("start", "start"), node("text", "transform", expression="'all work and no play ' * 60"),
             node("report", "transform", expression="{'score': 7, 'tags': ['a', 'b']}"),
             node("answer", "output", name="answer"), node("summary", "output", name="report")],
            ["start.inputs -> text.input", "start.inputs -> report.input", "text.output -> answer.value",
             "report.output -> summary.value"],
        ),
        "long_answer",
    )  # fmt: skip


def open_result_from_status_bar(qtbot: QtBot, win: MainWindow) -> ResultView:
    button = win.runs.result_button
    assert button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    view = win.runs.result_view
    assert view is not None
    qtbot.waitUntil(view.isVisible)
    return view


def test_the_status_bar_link_opens_the_whole_result_readable_and_copyable(qtbot: QtBot, run_window: MainWindow) -> None:
    win = run_window
    win.load(long_answer(), "library")
    assert run_once(qtbot, win) == "succeeded"
    view = open_result_from_status_bar(qtbot, win)
    boxes = {box.name: box for box in view.boxes}
    assert set(boxes) == {"answer", "report"}
    answer = boxes["answer"].text
    assert answer.toPlainText() == "all work and no play " * 60  # whole, as text (no JSON quotes)
    assert answer.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth
    qtbot.waitUntil(lambda: answer.horizontalScrollBar().maximum() == 0, timeout=2000)  # wrapped, not scrolled
    assert boxes["report"].text.toPlainText() == '{\n  "score": 7,\n  "tags": [\n    "a",\n    "b"\n  ]\n}'
    qtbot.mouseClick(boxes["report"].copy_button, Qt.MouseButton.LeftButton)
    assert json.loads(QGuiApplication.clipboard().text()) == {"score": 7, "tags": ["a", "b"]}
    assert "succeeded" in view.state.text()


def test_a_reopened_run_shows_its_result_from_its_row_and_previews_it_in_the_tooltip(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    win.load(chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    win.new_workflow()
    win.open_workflow("chain")  # the run is read from the library now
    tree = win.runs.runs_panel.tree
    item = tree.topLevelItem(0)
    rect = tree.visualItemRect(item)
    help_event = QHelpEvent(QEvent.Type.ToolTip, rect.center(), tree.viewport().mapToGlobal(rect.center()))
    QApplication.sendEvent(tree.viewport(), help_event)
    assert "result: value = 41" in item.toolTip(0)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a double click's first
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    view = win.runs.result_view
    assert view is not None and view.isVisible()
    assert [(box.name, box.text.toPlainText()) for box in view.boxes] == [("value", "41")]


def test_a_result_without_outputs_says_why_in_the_result_view(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    example = read_workflow(examples_dir() / "code_review_loop.json")
    never_approved = (example.inputs[0].model_copy(update={"default": "def add(x, y):\n    return x - y"}),)
    run_window.load(example.model_copy(update={"inputs": never_approved}), "library")
    assert run_once(qtbot, run_window, answer_dialog) == "succeeded"
    view = open_result_from_status_bar(qtbot, run_window)
    assert view.boxes == []
    assert "no outputs" in view.state.text() and "limit of 3 passes" in view.state.text()
    assert not view.copy_all.isEnabled()


def test_a_failed_run_says_where_it_failed_in_the_result_view(qtbot: QtBot, run_window: MainWindow) -> None:
    broken = named(
        workflow(
            [node("start", "start"), node("bad", "transform", expression="inputs.input.missing.deeper"),
             node("out", "output", name="value")],
            ["start.inputs -> bad.input", "bad.output -> out.value"],
        ),
        "broken",
    )  # fmt: skip
    broken = broken.model_copy(
        update={"nodes": tuple(n.model_copy(update={"name": "Parse it"}) if n.id == "bad" else n for n in broken.nodes)}
    )
    run_window.load(broken, "library")
    assert run_once(qtbot, run_window) == "failed"
    view = open_result_from_status_bar(qtbot, run_window)
    assert "failed at 'Parse it (bad)'" in view.state.text()


def test_a_run_that_reached_no_output_node_says_so_and_a_later_run_shows_when_asked_for(
    qtbot: QtBot, run_window: MainWindow
) -> None:
    win = run_window
    no_output = named(
        workflow([node("start", "start"), node("t", "transform", expression="1 + 1")], ["start.inputs -> t.input"]),
        "no_output",
    )
    win.load(no_output, "library")
    assert run_once(qtbot, win) == "succeeded"
    view = open_result_from_status_bar(qtbot, win)
    assert "no outputs: the run reached no Output node" in view.state.text()
    first = view.run_id
    win.load(long_answer(), "library")
    assert run_once(qtbot, win) == "succeeded"
    assert view.run_id == first  # left on the run it shows; the next one opens by its own link
    view = open_result_from_status_bar(qtbot, win)
    assert view.run_id == win.runs.shown and {box.name for box in view.boxes} == {"answer", "report"}

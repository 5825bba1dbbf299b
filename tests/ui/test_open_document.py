"""One open document at a time: closing it lets go of everything, and the inspector edits only the node it shows.

Reproduces issue 13 item 2 (a keystroke lost, or written into a node of another kind, after File > New
while the old canvas was being collected) and issue 21 item 6 (every closed workflow kept alive).
"""

from __future__ import annotations

import gc
import random

from canvas_support import Canvas, click
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.workflow import Node, Position, Workflow
from flowdesk.ui.canvas.node_item import CanvasNodeItem
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.undo import DocumentUndoStack


def _settle() -> None:
    """What the event loop does between two gestures: deferred deletes run; here a full collection too."""
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


def _live(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def _canvas(window: MainWindow) -> Canvas:
    assert window.document and window.stack and window.scene and window.view
    return Canvas(window.document, window.stack, window.scene, window.view)


def _add(window: MainWindow, kind: str, x: float) -> str:
    """Add a node from the palette's side (as Enter on a kind does) at ``x``; it becomes the selection."""
    window.add_node(kind, QPointF(x, 0.0))
    QApplication.processEvents()
    return window.scene.selected_node_ids()[0]


def _click_node(window: MainWindow, node_id: str) -> None:
    canvas = _canvas(window)
    window.view.centerOn(canvas.scene.node_item(node_id))
    click(canvas, canvas.title_point(node_id))
    QApplication.processEvents()


def _big(size: int) -> Workflow:
    nodes = tuple(
        Node(id=f"n_{i}", kind="transform", name=f"T {i}", position=Position(x=(i % 20) * 260.0, y=(i // 20) * 120.0))
        for i in range(size)
    )
    return Workflow(id="wf_big", name="Big", nodes=nodes)


def test_closing_a_document_frees_its_items_scene_stack_and_document(qtbot: QtBot, window: MainWindow) -> None:
    _settle()
    before = (_live(WorkflowDocument), _live(WorkflowScene), _live(DocumentUndoStack), _live(CanvasNodeItem))
    for _ in range(3):
        window.load(_big(300), "library")
        _click_node(window, "n_0")
        _settle()
        window.new_workflow()
        _settle()
    after = (_live(WorkflowDocument), _live(WorkflowScene), _live(DocumentUndoStack), _live(CanvasNodeItem))
    assert after == before  # the new empty workflow replaced the first one: nothing of the closed ones is left


def test_the_old_canvas_never_reaches_the_inspector_after_new(qtbot: QtBot, window: MainWindow) -> None:
    first = _add(window, "transform", 0.0)
    _click_node(window, first)
    window.stack.setClean()  # no question about unsaved changes in the way
    window.new_workflow()
    _settle()
    http = _add(window, "http", 0.0)
    _settle()
    _click_node(window, http)
    _settle()
    url = window.inspector.form.fields["url"].editor
    url.setFocus()
    for char in "https://example.org":
        QTest.keyClick(url, char)
        _settle()
    node = window.document.node(http)
    assert node.config["url"] == "https://example.org"
    assert (url.toPlainText() if isinstance(url, QPlainTextEdit) else url.text()) == "https://example.org"
    assert "name" not in node.config and "expression" not in node.config
    assert set(window.inspector.form.fields) == set(window.document.catalog.get("http").config_model.model_fields)


def test_a_form_is_not_rebuilt_inside_its_own_edit(qtbot: QtBot, window: MainWindow) -> None:
    """An edit whose change notice selects another node (as a stale scene did) keeps the typed form alive."""
    a = _add(window, "transform", 0.0)
    b = _add(window, "llm", 400.0)
    _click_node(window, a)
    form = window.inspector.form
    window.document.subscribe(lambda _change: window.scene.select([b]))  # re-selects while the edit is on
    editor = form.fields["expression"].editor
    editor.setFocus()
    QTest.keyClick(editor, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(editor, "1")
    assert window.document.node(a).config["expression"].endswith("1")
    assert window.inspector.form is form  # not torn down while its own keystroke is being handled
    _settle()
    assert window.inspector.node_id == b and window.inspector.form is not form  # rebuilt afterwards


TYPED_FIELD = {"transform": "expression", "llm": "prompt", "http": "url", "condition": "expression"}


def test_random_new_open_select_type_undo_change_only_the_shown_node(
    qtbot: QtBot, window: MainWindow, tmp_path: object
) -> None:
    rng = random.Random(13)
    kinds = list(TYPED_FIELD)
    saved: list[str] = []
    for step in range(40):
        action = rng.choice(["new", "open", "add", "select", "type", "type", "undo"])
        if action == "new":
            window.stack.setClean()
            window.new_workflow()
        elif action == "open" and saved:
            window.stack.setClean()
            assert window.open_workflow(rng.choice(saved))
        elif action == "add":
            _add(window, rng.choice(kinds), rng.uniform(-600, 600))
            if window.save():
                saved.append(window.document.workflow.id)
        elif action == "select" and window.document.nodes:
            _click_node(window, rng.choice(window.document.nodes).id)
        elif action == "type" and window.inspector.node_id is not None:
            shown = window.inspector.node_id
            others = {n.id: n.config for n in window.document.nodes if n.id != shown}
            kind = window.document.node(shown).kind
            editor = window.inspector.form.fields[TYPED_FIELD[kind]].editor
            editor.setFocus()
            text = f"t{step}"
            QTest.keyClicks(editor, text)
            typed = editor.toPlainText() if isinstance(editor, QPlainTextEdit) else editor.text()
            assert window.document.node(shown).config[TYPED_FIELD[kind]] == typed
            assert {n.id: n.config for n in window.document.nodes if n.id != shown} == others
            assert set(window.document.node(shown).config) <= set(
                window.document.catalog.get(kind).config_model.model_fields
            )
        elif action == "undo":
            window.stack.undo()
        _settle()
        shown = window.inspector.node_id
        if shown is not None:
            assert window.scene.selected_node_ids() == [shown]
            assert window.inspector.form is not None
            assert (
                window.inspector.form.model
                is window.document.catalog.get(window.document.node(shown).kind).config_model
            )
    QTest.keyClick(window.view, Qt.Key.Key_Escape)

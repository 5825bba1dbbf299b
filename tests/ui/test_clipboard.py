"""Cut, copy, paste, duplicate and delete on the canvas, through the real shortcuts and the system clipboard."""

from __future__ import annotations

import json

import pytest
from editor_support import (
    CTRL,
    assert_window_scene_matches,
    mouse_away,
    mouse_to,
    open_example,
    press,
    status,
)
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import SetConfig
from flowdesk.model.fileformat import loads_fragment
from flowdesk.paths import examples_dir
from flowdesk.ui.clipboard import FRAGMENT_MIME
from flowdesk.ui.main_window import MainWindow


def clipboard() -> str:
    return QGuiApplication.clipboard().text()


def scene_state(window: MainWindow) -> object:
    return window.document.workflow, window.stack.count()


def test_copy_puts_the_selection_and_its_inner_wires_on_the_clipboard(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    window.scene.select(["review", "approved", "fix"])
    press(window, Qt.Key.Key_C, CTRL)
    fragment = loads_fragment(clipboard())
    assert sorted(n.id for n in fragment.nodes) == ["approved", "fix", "review"]
    # review->approved, approved->fix and the loop fix->review; start->review and approved->accept stay behind
    assert sorted(e.id for e in fragment.edges) == ["e_2", "e_4", "e_5"]
    assert QGuiApplication.clipboard().mimeData().hasFormat(FRAGMENT_MIME)
    assert status(window) == "Copied 3 nodes"
    editor = QPlainTextEdit()  # and it pastes into a text editor as the same JSON
    qtbot.addWidget(editor)
    editor.paste()
    assert json.loads(editor.toPlainText())["format"] == "flowdesk.fragment"


def test_paste_into_another_workflow_lands_under_the_mouse_with_fresh_ids(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    window.scene.select(["review", "approved"])
    press(window, Qt.Key.Key_C, CTRL)
    window.new_workflow()
    window.add_node_at_centre("llm")  # takes the id the copy would otherwise get
    taken = {n.id for n in window.document.nodes}
    mouse_to(window, QPointF(300, 200))
    press(window, Qt.Key.Key_V, CTRL)
    pasted = [n for n in window.document.nodes if n.id not in taken]
    assert sorted(n.kind for n in pasted) == ["condition", "llm"]
    assert not {n.id for n in pasted} & taken
    assert min(n.position.x for n in pasted) == 300 and min(n.position.y for n in pasted) == 200
    (edge,) = window.document.edges
    by_kind = {n.kind: n.id for n in pasted}
    assert (edge.source, edge.target) == (by_kind["llm"], by_kind["condition"])  # the wire between them came too
    assert sorted(window.scene.selected_node_ids()) == sorted(by_kind.values())
    assert window.stack.undoText() == "Paste"
    window.stack.undo()  # one step
    assert {n.id for n in window.document.nodes} == taken and not window.document.edges
    assert_window_scene_matches(window)


def test_pasting_again_from_the_menu_cascades_beside_the_originals(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    window.scene.select(["review"])
    press(window, Qt.Key.Key_C, CTRL)
    mouse_away(window)
    window.editing.paste_action.trigger()
    window.editing.paste_action.trigger()
    copies = [n for n in window.document.nodes if n.kind == "llm" and n.id not in ("review", "fix")]
    assert [(n.position.x, n.position.y) for n in copies] == [(300.0, 40.0), (340.0, 80.0)]
    assert len({n.id for n in copies}) == 2


def test_cut_removes_and_paste_brings_back(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    window.scene.select(["approved", "accept"])
    press(window, Qt.Key.Key_X, CTRL)
    assert not window.document.has_node("approved") and not window.document.has_node("accept")
    assert all("approved" not in (e.source, e.target) for e in window.document.edges)
    assert window.stack.undoText() == "Cut 2 nodes"
    assert sorted(n.id for n in loads_fragment(clipboard()).nodes) == ["accept", "approved"]
    window.stack.undo()
    assert window.document.has_node("approved") and window.document.has_node("accept")
    assert len(window.document.edges) == 5
    assert_window_scene_matches(window)


def test_duplicate_copies_beside_the_selection_and_leaves_the_clipboard_alone(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    QGuiApplication.clipboard().setText("something the person copied elsewhere")
    window.scene.select(["review", "approved"])
    press(window, Qt.Key.Key_D, CTRL)
    new = window.scene.selected_node_ids()
    assert len(new) == 2 and not {"review", "approved"} & set(new)
    positions = sorted((window.document.node(n).position.x, window.document.node(n).position.y) for n in new)
    assert positions == [(300.0, 40.0), (560.0, 40.0)]
    assert [(e.source, e.target) for e in window.document.edges if e.source in new] == [("review_1", "approved_1")]
    assert clipboard() == "something the person copied elsewhere"
    assert window.stack.undoText() == "Duplicate 2 nodes"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello world", "the clipboard text is not JSON (line 1, column 1"),
        ('{"name": "x"}', 'not a flowdesk copied selection (it has no "format" field)'),
        ("", "the clipboard holds no text"),
        (
            '{"format": "flowdesk.fragment", "format_version": 1, "nodes": [{"id": "9lives", "kind": "llm"}]}',
            "the copied selection is damaged at nodes[0] (node '9lives').id",
        ),
        ('{"format": "flowdesk.fragment", "format_version": 1}', "the copied selection holds no nodes"),
    ],
)
def test_pasting_what_is_not_a_fragment_says_why_and_changes_nothing(
    qtbot: QtBot, window: MainWindow, text: str, reason: str
) -> None:
    open_example(window, "code_review_loop")
    before = scene_state(window)
    QGuiApplication.clipboard().setText(text)
    press(window, Qt.Key.Key_V, CTRL)
    assert scene_state(window) == before
    assert status(window).startswith("Nothing pasted: ")
    assert reason in status(window)


def test_a_whole_workflow_file_pastes_as_its_nodes(qtbot: QtBot, window: MainWindow) -> None:
    QGuiApplication.clipboard().setText((examples_dir() / "etl_orders.json").read_text(encoding="utf-8"))
    mouse_to(window, QPointF(0, 0))
    press(window, Qt.Key.Key_V, CTRL)
    assert len(window.document.nodes) == 10 and len(window.document.edges) == 10


def test_a_second_start_is_left_out_and_said_so(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    window.scene.select(["start", "review"])
    press(window, Qt.Key.Key_C, CTRL)
    press(window, Qt.Key.Key_V, CTRL)
    assert [n.kind for n in window.document.nodes].count("start") == 1
    assert status(window) == "Pasted 1 node; left out Start (a workflow has only one)"


def test_no_secret_reaches_the_clipboard(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDESK_CREDENTIAL_OPENAI", "sk-very-secret-value")
    open_example(window, "ask_llm")
    llm = next(n.id for n in window.document.nodes if n.kind == "llm")
    window.stack.push_command(SetConfig(window.document, llm, {"credential": "openai"}))
    window.scene.select([n.id for n in window.document.nodes])
    press(window, Qt.Key.Key_C, CTRL)
    (copied,) = [n for n in loads_fragment(clipboard()).nodes if n.kind == "llm"]
    assert copied.config["credential"] == "openai"  # the name only
    assert "sk-very-secret-value" not in clipboard()


def test_delete_from_the_menu_and_not_from_an_inspector_field(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    window.scene.select(["accept"])
    name = window.inspector.findChild(type(window.palette.search))  # the inspector's name field
    assert name is not None
    name.setFocus()
    qtbot.keyClick(name, Qt.Key.Key_Delete)
    assert window.document.has_node("accept")
    window.editing.delete_action.trigger()
    assert not window.document.has_node("accept")
    window.scene.select(["fix"])
    press(window, Qt.Key.Key_Delete)  # on the canvas the key deletes
    assert not window.document.has_node("fix")
    window.editing.delete_action.trigger()
    assert status(window) == "Select nodes or wires to delete first"

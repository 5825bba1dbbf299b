"""Naming workflows as a person would: File > Save As, File > Rename, the workflow panel, F2 on a node."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from flowdesk.paths import examples_dir
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow

Answer = Callable[[Callable[[object], None]], None]


def type_into_dialog(text: str | None) -> Callable[[object], None]:
    """Answer a QInputDialog: type ``text`` over the proposal and press OK (None: press Cancel)."""

    def act(dialog: object) -> None:
        assert isinstance(dialog, QInputDialog)
        if text is None:
            dialog.reject()
            return
        dialog.setTextValue(text)
        dialog.accept()

    return act


def add_from_palette(qtbot: QtBot, window: MainWindow, kind: str) -> str:
    window.palette.search.clear()
    qtbot.keyClicks(window.palette.search, kind)
    qtbot.keyClick(window.palette.search, Qt.Key.Key_Return)
    return window.document.nodes[-1].id


def test_save_as_makes_a_new_workflow_with_the_edits_and_leaves_the_original(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Answer
) -> None:
    add_from_palette(qtbot, window, "transform")
    assert window.save()
    original = window.document.workflow.id
    added = add_from_palette(qtbot, window, "delay")  # an unsaved edit
    window.view.set_zoom(1.7)
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    answer_dialog(type_into_dialog("Review, second draft"))
    window.naming.save_as_action.trigger()
    assert window.view.zoom == 1.7  # the same picture: the copy is the same workflow
    moved = window.view.mapToScene(window.view.viewport().rect().center()) - centre
    assert abs(moved.x()) < 2 and abs(moved.y()) < 2
    copy = window.document.workflow
    assert copy.id != original and copy.name == "Review, second draft"
    assert copy.node(added) is not None  # the edits went into the copy
    assert not window.dirty and window.windowTitle() == "Review, second draft — flowdesk"
    assert store.workflows.load(original).node(added) is None  # the original keeps its saved version
    assert [v.version for v in store.workflows.history(original)] == [1]
    assert {w.name for w in store.workflows.list()} == {"Untitled workflow", "Review, second draft"}


def test_save_as_cancelled_changes_nothing(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Answer
) -> None:
    add_from_palette(qtbot, window, "transform")
    before = window.document.workflow
    answer_dialog(type_into_dialog(None))
    window.naming.save_as_action.trigger()
    assert window.document.workflow == before and window.dirty
    assert store.workflows.list() == []


def test_save_as_of_a_file_brings_the_workflows_it_calls(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Answer
) -> None:
    assert window.open_workflow(str(examples_dir() / "parallel_summaries.json"))
    answer_dialog(type_into_dialog("My summaries"))
    window.naming.save_as_action.trigger()
    names = {w.name for w in store.workflows.list()}
    assert "My summaries" in names and len(names) == 2  # the called workflow came along from the folder


def test_rename_is_an_undoable_edit_saved_with_the_next_save(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Answer
) -> None:
    add_from_palette(qtbot, window, "transform")
    assert window.save()
    answer_dialog(type_into_dialog("  Nightly digest  "))
    window.naming.rename_action.trigger()
    assert window.document.workflow.name == "Nightly digest"  # spaces around it trimmed
    assert window.windowTitle() == "*Nightly digest — flowdesk"
    assert window.inspector.workflow.name.text() == "Nightly digest"  # the panel follows
    window.stack.undo()
    assert window.document.workflow.name == "Untitled workflow" and not window.dirty
    window.stack.redo()
    assert window.save()
    assert store.workflows.get(window.document.workflow.id).name == "Nightly digest"


def test_the_workflow_panel_edits_name_and_limits_through_undo(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.inspector.workflow
    assert panel.isVisible() and window.inspector.node_id is None  # nothing selected: the workflow's settings
    panel.name.selectAll()
    qtbot.keyClicks(panel.name, "Triage")
    assert window.document.workflow.name == "Triage" and window.windowTitle().startswith("*Triage")
    assert window.stack.count() == 1  # typing a name is one step
    panel.concurrency.setValue(3)
    panel.timeout.setValue(90)
    assert window.document.workflow.settings.max_concurrency == 3
    assert window.document.workflow.settings.run_timeout_s == 90
    window.stack.undo()
    assert window.document.workflow.settings.run_timeout_s is None and panel.timeout.text() == "none"
    window.stack.undo()
    window.stack.undo()
    assert window.document.workflow.name == "Untitled workflow" and panel.name.text() == "Untitled workflow"


def test_an_over_long_name_is_refused_with_the_reason(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.inspector.workflow
    panel.name.setText("x" * 200)
    qtbot.keyClicks(panel.name, "y")
    assert window.document.workflow.name == "Untitled workflow"
    assert "name" in panel.message.text() and "200" in panel.message.text()
    assert window.stack.count() == 0


def test_selecting_a_node_hides_the_workflow_panel(qtbot: QtBot, window: MainWindow) -> None:
    node = add_from_palette(qtbot, window, "transform")
    assert window.inspector.node_id == node and not window.inspector.workflow.isVisible()
    window.scene.clearSelection()
    assert window.inspector.node_id is None and window.inspector.workflow.isVisible()


def test_f2_renames_the_selected_node(qtbot: QtBot, window: MainWindow) -> None:
    node = add_from_palette(qtbot, window, "transform")
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F2)
    assert window.inspector.name.hasFocus()
    qtbot.keyClicks(window.inspector.name, "Clean up")
    assert window.document.node(node).name == "Clean up"
    window.scene.clearSelection()
    qtbot.keyClick(window.view, Qt.Key.Key_F2)
    assert "Select one node" in window.statusBar().currentMessage()


def _ctrl_s(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.keyClick(window.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)


def test_ctrl_s_on_an_untitled_workflow_asks_its_name_first(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Callable[..., None]
) -> None:
    add_from_palette(qtbot, window, "llm")
    answer_dialog(type_into_dialog("Translate"))
    _ctrl_s(qtbot, window)
    assert [w.name for w in store.workflows.list()] == ["Translate"]
    assert window.windowTitle().startswith("Translate")


def test_cancelling_the_name_of_an_untitled_workflow_saves_nothing(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Callable[..., None]
) -> None:
    add_from_palette(qtbot, window, "llm")
    answer_dialog(type_into_dialog(None))
    _ctrl_s(qtbot, window)
    assert store.workflows.list() == []
    assert window.document.workflow.name == "Untitled workflow" and window.dirty

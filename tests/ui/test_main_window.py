"""The main window driven as a person would: add from the palette, edit, save versions, reopen, close."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, qInstallMessageHandler
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import SetWorkflowProps
from flowdesk.model.fileformat import read_workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.paths import examples_dir
from flowdesk.store.store import Store, open_store
from flowdesk.ui import naming_actions
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.palette import KIND_MIME


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


@pytest.fixture
def window(qtbot: QtBot, store: Store, tmp_path: Path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(store, builtin_registry(), settings)
    win.show()
    yield win
    if win.isVisible():
        if win.stack is not None:
            win.stack.setClean()  # no unsaved-changes question in the way of closing
        win.close()
    win.deleteLater()


def test_add_a_node_from_the_palette_edit_it_and_save_versions(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    assert not window.windowTitle().startswith("*")
    qtbot.keyClicks(window.palette.search, "llm")
    qtbot.keyClick(window.palette.search, Qt.Key.Key_Return)
    assert [n.kind for n in window.document.nodes] == ["llm"]
    assert window.windowTitle().startswith("*")  # unsaved
    node_id = window.document.nodes[0].id
    assert window.inspector.node_id == node_id  # the new node is selected and shown
    assert window.save()
    assert not window.windowTitle().startswith("*")
    prompt = window.inspector.form.fields["prompt"].editor
    prompt.selectAll()
    qtbot.keyClicks(prompt, "Translate {{ inputs.input }}")
    assert window.save()
    wid = window.document.workflow.id
    assert [v.version for v in store.workflows.history(wid)] == [2, 1]
    assert store.workflows.load(wid).node(node_id).config["prompt"] == "Translate {{ inputs.input }}"
    window.stack.undo()
    assert window.windowTitle().startswith("*")


def test_dropping_a_kind_on_the_canvas_adds_it_there(qtbot: QtBot, window: MainWindow) -> None:
    mime = QMimeData()
    mime.setData(KIND_MIME, b"transform")
    where = QPoint(200, 150)
    drop = QDropEvent(
        QPointF(where), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    # Qt delivers a Drop only inside a real drag session, which an offscreen test cannot start; so
    # the event goes to the window's filter on the canvas directly, as Qt would hand it over.
    assert window.eventFilter(window.view.viewport(), drop)
    (node,) = window.document.nodes
    expected = window.view.mapToScene(where)
    assert node.kind == "transform"
    assert abs(node.position.x - expected.x()) <= 10 and abs(node.position.y - expected.y()) <= 10
    assert node.position.x % 10 == 0 and node.position.y % 10 == 0  # snapped to the grid


def test_open_an_example_file_and_a_library_workflow(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    assert window.open_workflow(str(examples_dir() / "code_review_loop.json"))
    assert window.scene is not None and len(list(window.scene.node_items())) == len(window.document.nodes)
    assert "code_review_loop.json" in window.windowTitle()
    saved = store.workflows.import_file(examples_dir() / "ask_llm.json")
    assert window.open_workflow(saved.workflow_id)
    assert window.document.workflow.id == "ask_llm"


def test_opening_something_missing_says_so(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    assert not window.open_workflow("no-such-workflow")
    assert "no workflow 'no-such-workflow'" in shown[0]


def test_closing_with_unsaved_edits_asks_first(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.add_node_at_centre("delay")
    monkeypatch.setattr(QMessageBox, "question", lambda *_args: QMessageBox.StandardButton.Cancel)
    assert not window.close()
    assert window.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *_args: QMessageBox.StandardButton.Discard)
    assert window.close()
    assert window.settings.value("window/geometry") is not None  # remembered for next time


def test_tab_on_the_canvas_searches_and_adds_under_the_cursor(qtbot: QtBot, window: MainWindow) -> None:
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    popup = window._quick_add
    assert popup.isVisible()
    qtbot.keyClicks(popup.search, "approv")
    assert popup.visible_kinds() == ["approval"]
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert [n.kind for n in window.document.nodes] == ["approval"]
    assert not popup.isVisible()


def test_a_wire_dropped_on_empty_canvas_offers_what_it_can_feed_and_connects(qtbot: QtBot, window: MainWindow) -> None:
    window.add_node_at_centre("start")
    start = window.document.nodes[0].id
    window.view.wire_dropped.emit(start, "inputs", QPointF(300, 0))  # the start node's object output
    popup = window._quick_add
    offered = popup.visible_kinds()
    assert "transform" in offered and "map" not in offered  # map wants an array
    assert "start" not in offered  # no inputs at all
    qtbot.keyClicks(popup.search, "transform")
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    (edge,) = window.document.edges
    added = window.document.node(edge.target)
    assert (edge.source, edge.source_port, added.kind) == (start, "inputs", "transform")
    window.stack.undo()  # node and wire were one step
    assert [n.id for n in window.document.nodes] == [start] and not window.document.edges


def test_version_history_restores_an_old_version_as_the_newest(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    from flowdesk.ui.history_dialog import HistoryDialog

    window.add_node_at_centre("delay")
    window.save()
    window.add_node_at_centre("transform")
    window.save()
    wid = window.document.workflow.id
    dialog = HistoryDialog(store, wid, window)
    qtbot.addWidget(dialog)
    assert dialog.list.topLevelItemCount() == 2
    assert not dialog.restore_button.isEnabled()  # the current version is selected first
    dialog.select_version(1)
    assert dialog.restore_button.isEnabled()
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert dialog.restore_version == 1
    window.restore_version(1)
    assert [n.kind for n in window.document.nodes] == ["delay"]
    assert [v.version for v in store.workflows.history(wid)] == [3, 2, 1]
    assert not window.dirty


def test_a_wide_workflow_opens_readable_on_its_beginning_and_f_fits_it_all(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtCore import QRectF

    from flowdesk.ui.canvas.theme import LOD_PORT_LABELS

    window.resize(900, 700)  # a canvas too narrow for the whole workflow at a readable size
    qtbot.waitUntil(lambda: window.view.viewport().width() < 600)
    assert window.open_workflow(str(examples_dir() / "etl_orders.json"))
    view = window.view
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    start = window.scene.node_item("start").sceneBoundingRect()
    assert view.zoom >= LOD_PORT_LABELS and seen.contains(start)  # titles and ports legible, the start in view
    everything = QRectF()
    for item in window.scene.node_items():
        everything = everything.united(item.sceneBoundingRect())
    assert not seen.contains(everything)  # it does not all fit at that size...
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F)  # ...and F shows it all
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(everything)


def test_starting_on_the_offscreen_platform_prints_no_size_hint_warning(
    qtbot: QtBot, store: Store, tmp_path: Path
) -> None:
    heard: list[str] = []
    previous = qInstallMessageHandler(lambda _mode, _context, message: heard.append(message))
    try:
        settings = QSettings(str(tmp_path / "quiet.ini"), QSettings.Format.IniFormat)
        win = MainWindow(store, builtin_registry(), settings)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        QApplication.processEvents()
    finally:
        qInstallMessageHandler(previous)
    assert not [m for m in heard if "propagateSizeHints" in m]


def test_adding_from_the_palette_clears_its_filter_and_shows_the_new_nodes_settings(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.show_run_data()  # the inspector was left on Run data
    qtbot.keyClicks(window.palette.search, "http")
    qtbot.keyClick(window.palette.search, Qt.Key.Key_Return)
    assert [n.kind for n in window.document.nodes] == ["http"]
    assert window.palette.search.text() == ""
    assert "llm" in window.palette.visible_kinds()
    assert window.inspector_tabs.currentWidget() is window.inspector


def test_export_writes_the_library_version_number(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.open_workflow(str(examples_dir() / "ask_llm.json"))
    assert window.save()
    window.stack.push_command(SetWorkflowProps(window.document, name="Ask again"))
    assert window.save()  # version 2
    target = tmp_path / "out.json"
    monkeypatch.setattr(naming_actions, "save_file_name", lambda *_a, **_k: str(target))
    window.naming.export_file()
    assert read_workflow(target).version == 2


def test_an_empty_canvas_says_how_to_add_the_first_node(qtbot: QtBot, window: MainWindow) -> None:
    hint = window.empty_hint.label
    assert hint.isVisible() and "Tab" in hint.text()
    window.add_node_at_centre("llm")
    assert not hint.isVisible()
    window.stack.undo()
    assert hint.isVisible()


def test_the_run_toolbar_shows_icons(window: MainWindow) -> None:
    assert all(not action.icon().isNull() for action in window.runs.toolbar_actions())

"""Across sessions and crashes: recovery copies of unsaved edits, recent workflows, the welcome view."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from test_run_window import click_run_in_dialog, wait_finished

from flowdesk.model.commands import Rename
from flowdesk.model.fileformat import read_workflow
from flowdesk.paths import examples_dir
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.recovery import RecoveryFolder
from flowdesk.ui.session import AUTOSAVE_MS


def press(button: QMessageBox.StandardButton) -> Callable[[Any], None]:
    def act(box: Any) -> None:
        assert isinstance(box, QMessageBox)
        box.button(button).click()

    return act


def test_unsaved_edits_are_kept_and_offered_after_a_crash(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Callable[..., None]
) -> None:
    assert window.open_workflow(str(examples_dir() / "ask_llm.json"))
    assert window.save()
    node = window.document.nodes[0].id
    window.stack.push_command(Rename(window.document, node, "Renamed before the crash"))
    folder = store.path.parent / "recovery"
    qtbot.waitUntil(lambda: any(folder.glob("*.json")), timeout=AUTOSAVE_MS + 3000)
    (copy,) = folder.glob("*.json")
    kept = json.loads(copy.read_text())
    assert "Renamed before the crash" in kept["workflow"]
    # the process dies: its copy now belongs to a dead owner (a token no live process holds)
    copy.rename(folder / "ask_llm.deadbeef0000.json")
    window.stack.setClean()  # (this window plays the restarted flowdesk from here on)
    window.new_workflow()
    answer_dialog(press(QMessageBox.StandardButton.Yes))
    assert window.session.offer_recovery()
    assert window.document.workflow.id == "ask_llm"
    assert window.document.node(node).name == "Renamed before the crash"
    assert window.dirty and window.windowTitle().startswith("*")
    assert not (folder / "ask_llm.deadbeef0000.json").exists()  # taken over by this process
    assert window.save()
    assert store.workflows.load("ask_llm").node(node).name == "Renamed before the crash"
    assert not any(folder.glob("*.json"))  # saved: nothing left to recover


def test_a_declined_copy_is_dropped_and_a_live_processes_copy_is_not_offered(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Callable[..., None]
) -> None:
    folder = RecoveryFolder(store.path.parent / "recovery", "deadbeef0000")
    folder.write(read_workflow(examples_dir() / "ask_llm.json"), "library")
    mine = RecoveryFolder(store.path.parent / "recovery", store.owner.token)
    mine.write(read_workflow(examples_dir() / "etl_orders.json"), "library")
    answer_dialog(press(QMessageBox.StandardButton.No))
    assert not window.session.offer_recovery()
    names = sorted(p.name for p in (store.path.parent / "recovery").glob("*.json"))
    assert names == [f"etl_orders.{store.owner.token}.json"]  # the dead one's copy declined and gone


def test_a_damaged_recovery_file_is_left_alone_and_not_offered(window: MainWindow, store: Store) -> None:
    folder = store.path.parent / "recovery"
    folder.mkdir()
    (folder / "x.deadbeef0000.json").write_text("{ not json")
    assert not window.session.offer_recovery()
    assert (folder / "x.deadbeef0000.json").exists()


def test_open_recent_lists_what_was_opened_and_reopens_it(qtbot: QtBot, window: MainWindow) -> None:
    path = str(examples_dir() / "code_review_loop.json")
    assert window.open_workflow(path)
    assert window.save()
    window.new_workflow()
    menu = window.session.recent_menu
    menu.aboutToShow.emit()
    labels = [a.text() for a in menu.actions() if a.text()]
    assert any("Code review loop" in label for label in labels)
    next(a for a in menu.actions() if "Code review loop" in a.text()).trigger()
    assert window.document.workflow.id == "code_review_loop"


def test_a_new_library_opens_on_the_welcome_view_and_runs_an_example_in_one_click(
    qtbot: QtBot, run_window: MainWindow, run_store: Store, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    win.session.show_welcome_if_new()
    welcome = win.session.welcome
    assert welcome is not None and win.centralWidget().currentWidget() is welcome
    assert welcome.list.count() >= 5
    answer_dialog(click_run_in_dialog)
    welcome.run_button.click()
    assert wait_finished(qtbot, win) == "succeeded"
    assert win.centralWidget().currentWidget() is win.view
    assert win.document.workflow.id == "ask_llm"
    assert [r.status for r in run_store.runs.list("ask_llm")] == ["succeeded"]


def test_a_library_with_workflows_does_not_show_the_welcome(window: MainWindow) -> None:
    assert window.open_workflow(str(examples_dir() / "ask_llm.json"))
    assert window.save()
    window.session.show_welcome_if_new()
    assert window.session.welcome is None


def test_open_recent_lists_a_workflow_once_after_its_file_was_saved_into_the_library(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.open_workflow(str(examples_dir() / "code_review_loop.json"))
    assert window.save()
    window.new_workflow()
    assert window.open_workflow("code_review_loop")
    menu = window.session.recent_menu
    menu.aboutToShow.emit()
    labels = [a.text() for a in menu.actions() if "Code review loop" in a.text()]
    assert len(labels) == 1


def test_the_next_start_reopens_the_last_workflow(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    assert window.open_workflow(str(examples_dir() / "ask_llm.json"))
    assert window.save()
    window.new_workflow()
    again = MainWindow(store, window.registry, window.settings)  # same library and settings: the next start
    qtbot.addWidget(again)
    assert again.session.reopen_last()
    assert again.document.workflow.id == window.store.workflows.list()[0].id


def test_the_welcome_view_shows_each_template_as_a_card_with_its_description(window: MainWindow) -> None:
    from PySide6.QtWidgets import QLabel

    from flowdesk.ui.welcome import templates

    window.session.show_welcome()
    cards = window.session.welcome.list
    shown = []
    for row in range(cards.count()):
        card = cards.itemWidget(cards.item(row))
        assert card is not None
        shown.append(" ".join(label.text() for label in card.findChildren(QLabel)))
    for template in templates():
        assert any(template.name in text and template.description in text for text in shown)


def test_new_from_template_can_go_back_to_the_open_workflow_unchanged(
    qtbot: QtBot, window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    """File > New from template covers the canvas with the template cards; a person who changes their
    mind goes back (the button, or Esc) to the workflow they had, as it was, and F5 shows what runs."""
    assert window.open_workflow(str(examples_dir() / "etl_orders.json"))
    before = window.document.workflow
    window.session.show_welcome()
    welcome = window.session.welcome
    assert welcome is not None and window.centralWidget().currentWidget() is welcome
    assert welcome.back_button.isVisibleTo(welcome)
    assert welcome.back_button.text() == "← Back to 'ETL: orders report'"
    qtbot.mouseClick(welcome.back_button, Qt.MouseButton.LeftButton)
    assert window.centralWidget().currentWidget() is window.view
    assert window.document.workflow == before and not window.dirty
    window.session.show_welcome()
    welcome.list.setFocus()
    qtbot.keyClick(welcome.list, Qt.Key.Key_Escape)
    assert window.centralWidget().currentWidget() is window.view
    window.session.show_welcome()
    seen: list[Any] = []

    def look_then_cancel(dialog: Any) -> None:
        seen.append(window.centralWidget().currentWidget())
        dialog.reject()

    answer_dialog(look_then_cancel)
    window.runs.run_action.trigger()  # F5 runs the open workflow: the canvas it runs is shown as it asks
    assert seen == [window.view] and window.centralWidget().currentWidget() is window.view


def test_the_welcome_of_a_new_library_offers_no_way_back_to_an_empty_canvas(window: MainWindow) -> None:
    window.session.show_welcome()
    assert window.session.welcome is not None
    assert not window.session.welcome.back_button.isVisibleTo(window.session.welcome)

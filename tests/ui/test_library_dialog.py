"""File > Open as a person uses it: search, open, and look after the library (duplicate, rename, delete)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from flowdesk.model.fileformat import read_workflow
from flowdesk.paths import examples_dir
from flowdesk.store.store import Store
from flowdesk.ui.library_dialog import LibraryDialog
from flowdesk.ui.main_window import MainWindow

Answer = Callable[[Callable[[object], None]], None]


def saved(store: Store, *names: str) -> list[str]:
    return [store.workflows.save(read_workflow(examples_dir() / f"{n}.json")).workflow_id for n in names]


def names(dialog: LibraryDialog) -> list[str]:
    return [dialog.list.topLevelItem(i).text(0) for i in range(dialog.list.topLevelItemCount())]


def select(dialog: LibraryDialog, workflow_id: str) -> None:
    for i in range(dialog.list.topLevelItemCount()):
        item = dialog.list.topLevelItem(i)
        if item.data(0, Qt.ItemDataRole.UserRole) == workflow_id:
            dialog.list.setCurrentItem(item)
            return
    raise AssertionError(f"{workflow_id} is not listed")


def test_search_then_open_from_the_window(
    qtbot: QtBot, window: MainWindow, store: Store, answer_dialog: Answer
) -> None:
    ask, _etl = saved(store, "ask_llm", "etl_orders")

    def pick(dialog: object) -> None:
        assert isinstance(dialog, LibraryDialog)
        assert len(names(dialog)) == 2
        qtbot.keyClicks(dialog.search, "ask")
        assert len(names(dialog)) == 1
        qtbot.keyClick(dialog.list, Qt.Key.Key_Return)

    answer_dialog(pick)
    window.open_from_library()
    assert window.document.workflow.id == ask and window.source == "library"


def test_a_search_that_matches_nothing_says_so(qtbot: QtBot, store: Store) -> None:
    saved(store, "ask_llm")
    dialog = LibraryDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.search, "zebra")
    assert names(dialog) == [] and dialog.empty.isVisible() and "Nothing matches" in dialog.empty.text()
    assert not dialog.open_button.isEnabled()


def test_duplicate_rename_and_delete(qtbot: QtBot, store: Store, answer_dialog: Answer) -> None:
    (ask,) = saved(store, "ask_llm")
    original = store.workflows.get(ask).name
    dialog = LibraryDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.duplicate_button, Qt.MouseButton.LeftButton)
    copy = dialog.selected()
    assert copy != ask and store.workflows.get(copy).name == f"{original} (copy)"

    def type_name(box: object) -> None:
        assert isinstance(box, QInputDialog)
        box.setTextValue("Ask, shorter")
        box.accept()

    answer_dialog(type_name)
    qtbot.mouseClick(dialog.rename_button, Qt.MouseButton.LeftButton)
    assert store.workflows.get(copy).name == "Ask, shorter" and "Ask, shorter" in names(dialog)
    assert dialog.selected() == copy

    def confirm(box: object) -> None:
        assert isinstance(box, QMessageBox) and "Its runs stay" in box.text()
        box.button(QMessageBox.StandardButton.Yes).click()

    answer_dialog(confirm)
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert not store.workflows.exists(copy) and names(dialog) == [original]


def test_delete_asks_first_and_cancel_keeps_it(qtbot: QtBot, store: Store, answer_dialog: Answer) -> None:
    (ask,) = saved(store, "ask_llm")
    dialog = LibraryDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    asked: list[str] = []

    def cancel(box: object) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.Cancel).click()

    answer_dialog(cancel)
    dialog.activateWindow()  # a key shortcut needs the active window, as on a desktop
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.list.setFocus()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)  # the Delete key asks, as the button does
    qtbot.waitUntil(lambda: bool(asked))
    QApplication.processEvents()
    assert asked[0].startswith(f"Delete '{store.workflows.get(ask).name}'")
    assert store.workflows.exists(ask)


def test_the_open_workflow_is_marked_and_not_renamed_or_deleted_from_here(qtbot: QtBot, store: Store) -> None:
    ask, etl = saved(store, "ask_llm", "etl_orders")
    dialog = LibraryDialog(store, open_id=ask)
    qtbot.addWidget(dialog)
    dialog.show()
    select(dialog, ask)
    assert dialog.list.currentItem().text(0).endswith("(open)")
    assert not dialog.rename_button.isEnabled() and not dialog.delete_button.isEnabled()
    assert "File > Rename" in dialog.delete_button.toolTip()
    assert dialog.duplicate_button.isEnabled() and dialog.open_button.isEnabled()
    select(dialog, etl)
    assert dialog.delete_button.isEnabled() and "runs stay" in dialog.delete_button.toolTip()

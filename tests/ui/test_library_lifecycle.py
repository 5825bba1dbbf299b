"""The lifecycle in the app: status and tags set in File > Open (archived ones hidden unless asked),
and File > Save as template, whose template the welcome view and `list_templates` then show."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QInputDialog, QLabel
from pytestqt.qtbot import QtBot
from triggers.conftest import echo_workflow

from flowdesk.store.store import Store
from flowdesk.store.templates import list_templates
from flowdesk.store.triggers import TriggerStore
from flowdesk.triggers.manage import add_trigger, webhook_config
from flowdesk.triggers.secrets import WebhookSecrets
from flowdesk.ui.library_dialog import LibraryDialog
from flowdesk.ui.main_window import MainWindow

Answer = Callable[[Callable[[object], None]], None]


def rows(dialog: LibraryDialog) -> list[list[str]]:
    return [[dialog.list.topLevelItem(i).text(c) for c in (0, 2, 3)] for i in range(dialog.list.topLevelItemCount())]


def status_action(dialog: LibraryDialog, state: str) -> None:
    (action,) = [a for a in dialog.status_menu.actions() if a.text() == state]
    action.trigger()


def test_status_is_set_from_the_dialog_and_archived_ones_show_only_when_asked(qtbot: QtBot, store: Store) -> None:
    store.workflows.save(echo_workflow())
    dialog = LibraryDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    assert rows(dialog) == [["Echo", "draft", ""]]
    status_action(dialog, "Active")
    assert store.workflows.get("wf_echo").status == "active" and rows(dialog) == [["Echo", "active", ""]]
    status_action(dialog, "Archived")
    assert store.workflows.get("wf_echo").status == "archived"
    assert rows(dialog) == [] and "Show archived" in dialog.message.text()
    box = dialog.show_archived
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on the box, not past its text
    assert rows(dialog) == [["Echo", "archived", ""]]


def test_tags_are_typed_in_the_dialog(qtbot: QtBot, store: Store, answer_dialog: Answer) -> None:
    store.workflows.save(echo_workflow())
    dialog = LibraryDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()

    def type_tags(box: object) -> None:
        assert isinstance(box, QInputDialog)
        box.setTextValue("nightly, ops, nightly")
        box.accept()

    answer_dialog(type_tags)
    qtbot.mouseClick(dialog.tags_button, Qt.MouseButton.LeftButton)
    assert store.workflows.get("wf_echo").tags == ("nightly", "ops") and rows(dialog)[0][2] == "nightly, ops"

    def drop_one(box: object) -> None:
        assert isinstance(box, QInputDialog) and box.textValue() == "nightly, ops"
        box.setTextValue("ops")
        box.accept()

    answer_dialog(drop_one)
    qtbot.mouseClick(dialog.tags_button, Qt.MouseButton.LeftButton)
    assert store.workflows.get("wf_echo").tags == ("ops",)


def test_deleting_from_the_dialog_takes_the_webhooks_secrets_too(
    qtbot: QtBot, store: Store, answer_dialog: Answer
) -> None:
    from PySide6.QtWidgets import QMessageBox

    store.workflows.save(echo_workflow())
    hook = add_trigger(store.db, "wf_echo", "webhook", webhook_config()).trigger
    dialog = LibraryDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()

    def yes(box: object) -> None:
        assert isinstance(box, QMessageBox)
        box.button(QMessageBox.StandardButton.Yes).click()

    answer_dialog(yes)
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert not store.workflows.exists("wf_echo") and TriggerStore(store.db).list() == []
    assert WebhookSecrets().get(hook.id) is None


def test_save_as_template_lists_it_with_the_built_in_ones(
    qtbot: QtBot, window: MainWindow, answer_dialog: Answer
) -> None:
    window.store.workflows.save(echo_workflow())
    assert window.open_workflow("wf_echo")

    def name_it(box: object) -> None:
        assert isinstance(box, QInputDialog) and box.textValue() == "Echo"
        box.setTextValue("Echo starter")
        box.accept()

    answer_dialog(name_it)
    window.templates.save_action.trigger()
    (mine,) = [t for t in list_templates() if not t.builtin]
    assert mine.name == "Echo starter" and mine.nodes == 3
    assert any(t.builtin for t in list_templates())
    window.session.show_welcome()
    cards = window.session.welcome.list
    texts = [
        " ".join(lbl.text() for lbl in cards.itemWidget(cards.item(i)).findChildren(QLabel))
        for i in range(cards.count())
    ]
    assert any("Echo starter" in text and "your template" in text for text in texts)

"""The inspector's Triggers tab driven like a person: kinds chosen, cron typed with its live preview,
buttons clicked; asserted on the library (the triggers stored) and on what the tab shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from triggers.conftest import echo_workflow

from flowdesk.store.lifecycle import published_version
from flowdesk.store.triggers import TriggerStore
from flowdesk.triggers.secrets import WebhookSecrets
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.triggers_tab import TriggersTab


@pytest.fixture
def tab(window: MainWindow) -> TriggersTab:
    window.store.workflows.save(echo_workflow())
    window.store.workflows.save(echo_workflow("wf_up", "Upstream"))
    assert window.open_workflow("wf_echo")
    window.inspector_tabs.setCurrentWidget(window.triggers_tab)
    return window.triggers_tab


def choose_kind(tab: TriggersTab, kind: str) -> None:
    tab.form.kind.setCurrentIndex(tab.form.kind.findData(kind))


def stored(tab: TriggersTab) -> dict[str, dict[str, object]]:
    return {t.kind: t.config for t in TriggerStore(tab.store.db).list("wf_echo")}


def test_an_unsaved_workflow_is_told_to_save_first(window: MainWindow) -> None:
    window.new_workflow()
    tab = window.triggers_tab
    assert "Save the workflow to the library" in tab.status.text()
    assert not tab.form.isEnabled() and not tab.publish_button.isEnabled()


def test_a_cron_schedule_is_previewed_as_typed_and_added(tab: TriggersTab, qtbot: QtBot) -> None:
    tab.form.cron.clear()
    qtbot.keyClicks(tab.form.cron, "30 10 * * 1")
    assert tab.form.preview.text().startswith("At 10:30, only on Monday (UTC)\nnext: Mon ")
    tab.form.tz.setEditText("Europe/Paris")
    assert "(Europe/Paris)" in tab.form.preview.text()
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    assert stored(tab) == {"cron": {"cron": "30 10 * * 1", "tz": "Europe/Paris"}}
    row = tab.list.topLevelItem(0)
    assert row.text(0) == "cron" and row.text(1) == "off" and row.text(2).startswith("At 10:30")
    assert "Next: Mon " in tab.detail.text()


def test_a_bad_cron_is_refused_under_the_form_and_nothing_is_stored(tab: TriggersTab, qtbot: QtBot) -> None:
    tab.form.cron.clear()
    qtbot.keyClicks(tab.form.cron, "0 25 * * *")
    assert "the hour field '25' is not valid" in tab.form.preview.text()
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    assert "the hour field '25' is not valid" in tab.form.message.text() and stored(tab) == {}


def test_a_webhook_shows_its_url_and_secret_to_copy(tab: TriggersTab, qtbot: QtBot) -> None:
    choose_kind(tab, "webhook")
    qtbot.keyClicks(tab.form.mapping, "text=pull_request.title")
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    (hook,) = TriggerStore(tab.store.db).list("wf_echo")
    assert hook.config == {"map": {"text": "pull_request.title"}}
    assert tab.hook_box.isVisible()
    assert tab.url.text() == f"http://127.0.0.1:8765/hooks/{hook.id}"
    qtbot.mouseClick(tab.copy_secret, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == WebhookSecrets().get(hook.id)
    qtbot.mouseClick(tab.copy_url, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == tab.url.text()


def test_interval_folder_and_after_triggers_are_added_from_their_fields(
    tab: TriggersTab, qtbot: QtBot, tmp_path: Path
) -> None:
    choose_kind(tab, "interval")
    tab.form.seconds.setValue(90)
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    choose_kind(tab, "folder")
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    assert tab.form.message.text() == "choose the folder to watch"
    qtbot.keyClicks(tab.form.folder, str(tmp_path))
    tab.form.file_input.clear()
    qtbot.keyClicks(tab.form.file_input, "text")
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    choose_kind(tab, "after")
    assert [tab.form.after.itemText(i) for i in range(tab.form.after.count())] == ["Upstream (upstream)"]
    tab.form.after_status.setCurrentText("failed")
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    assert stored(tab) == {
        "interval": {"seconds": 90.0},
        "folder": {"path": str(tmp_path.resolve()), "input": "text"},
        "after": {"workflow_id": "wf_up", "status": "failed"},
    }
    assert [tab.list.topLevelItem(i).text(2) for i in range(3)] == [
        "every 90 seconds",
        f"a file appearing in {tmp_path.resolve()} (its path as input 'text')",
        "after 'upstream' ends failed",
    ]


def test_pause_resume_remove_and_publish_from_the_buttons(tab: TriggersTab, qtbot: QtBot) -> None:
    choose_kind(tab, "interval")
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)
    (trigger,) = TriggerStore(tab.store.db).list("wf_echo")
    assert trigger.paused and tab.pause_button.text() == "Resume" and tab.list.topLevelItem(0).text(1) == "paused"
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)
    assert not TriggerStore(tab.store.db).get(trigger.id).paused
    assert tab.status.text().startswith("<b>Draft</b>")
    qtbot.mouseClick(tab.publish_button, Qt.MouseButton.LeftButton)
    assert published_version(tab.store.db, "wf_echo") == 1 and tab.store.workflows.get("wf_echo").status == "active"
    assert tab.status.text() == "<b>Active</b>: its triggers fire; runs version 1 (published)."
    assert tab.list.topLevelItem(0).text(1) == "on"
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    assert TriggerStore(tab.store.db).list("wf_echo") == [] and tab.list.topLevelItemCount() == 0


def test_the_tab_follows_the_open_workflow(window: MainWindow, tab: TriggersTab, qtbot: QtBot) -> None:
    choose_kind(tab, "interval")
    qtbot.mouseClick(tab.form.add_button, Qt.MouseButton.LeftButton)
    assert window.open_workflow("wf_up")
    assert tab.workflow_id == "wf_up" and tab.list.topLevelItemCount() == 0
    assert window.open_workflow("wf_echo")
    assert tab.list.topLevelItemCount() == 1


def test_publishing_a_version_with_errors_is_refused_in_the_tab(window: MainWindow, qtbot: QtBot) -> None:
    window.store.workflows.save(echo_workflow().model_copy(update={"edges": ()}))
    assert window.open_workflow("wf_echo")
    tab = window.triggers_tab
    window.inspector_tabs.setCurrentWidget(tab)
    qtbot.mouseClick(tab.publish_button, Qt.MouseButton.LeftButton)
    assert "version 1 of 'echo' cannot run" in tab.message.text() and tab.message.isVisible()
    assert published_version(tab.store.db, "wf_echo") is None

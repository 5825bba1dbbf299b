"""The Settings dialog driven as a person would: credentials, keys that are never shown, prices, a real
connection test against the loopback fake on the app's asyncio loop (qasync), and the menu entry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot
from support.fake_llm_server import FakeLLMServer, ok, status

from flowdesk.providers.settings import CredentialInfo, LLMSettings, load_settings, save_settings
from flowdesk.ui.credential_editor import CredentialEditor
from flowdesk.ui.settings_dialog import SettingsDialog

KEY = "sk-dialog-secret-777"


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer().start()
    yield server
    server.stop()


def dialog_for(qtbot: QtBot, settings: LLMSettings | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings or load_settings())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def fill_editor(qtbot: QtBot, editor: CredentialEditor, name: str, provider: str, url: str, key: str) -> None:
    editor.name.setText(name)
    editor.provider.setCurrentText(provider)
    editor.base_url.setText(url)
    qtbot.keyClicks(editor.key_field, key)
    editor._accept()


def test_add_a_credential_stores_the_key_in_the_keyring_and_never_shows_it(
    qtbot: QtBot, private_settings: Path
) -> None:
    dialog = dialog_for(qtbot)
    editor = dialog.edit_credential(None)
    assert editor.key_field.echoMode() == QLineEdit.EchoMode.Password
    fill_editor(qtbot, editor, "work", "anthropic", "", KEY)
    assert dialog.table.item(0, 0).text() == "work" and dialog.table.item(0, 3).text() == "new key, saved on Save"
    dialog.default_model.setCurrentText("anthropic:claude-3-5-haiku-latest")
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert keyring.get_password("flowdesk", "work") == KEY
    saved = private_settings.read_text()
    assert KEY not in saved and json.loads(saved)["default_model"] == "anthropic:claude-3-5-haiku-latest"

    again = dialog_for(qtbot)
    assert again.table.item(0, 3).text() == "keyring"
    editor = again.edit_credential(again.selected())
    assert editor.key_field.text() == "" and "keep the stored key" in editor.key_field.placeholderText()
    texts = [again.table.item(r, c).text() for r in range(again.table.rowCount()) for c in range(4)]
    assert all(KEY not in text for text in texts)


def test_editing_without_a_key_keeps_the_stored_one_and_remove_deletes_it(qtbot: QtBot) -> None:
    save_settings(LLMSettings(credentials=(CredentialInfo(name="work", provider="openai"),)))
    keyring.set_password("flowdesk", "work", KEY)
    dialog = dialog_for(qtbot)
    editor = dialog.edit_credential(dialog.selected())
    editor.base_url.setText("http://localhost:8000/v1")
    editor._accept()
    dialog.save()
    assert load_settings().credential("work").base_url == "http://localhost:8000/v1"
    assert keyring.get_password("flowdesk", "work") == KEY
    dialog = dialog_for(qtbot)
    dialog.remove_selected()
    dialog.save()
    assert load_settings().credentials == () and keyring.get_password("flowdesk", "work") is None


def test_bad_input_is_named_and_nothing_is_saved(qtbot: QtBot, private_settings: Path) -> None:
    dialog = dialog_for(qtbot)
    editor = dialog.edit_credential(None)
    editor.name.setText("local")
    editor.base_url.setText("localhost:11434")
    editor._accept()
    assert "base URL must start with http:// or https://" in editor.problem.text() and editor.isVisible()
    editor.reject()
    dialog.add_price_row("my-model", 1.0, 2.0)
    dialog.prices.item(0, 2).setText("lots")
    dialog.save()
    assert "price row 1 (my-model)" in dialog.status.text() and dialog.isVisible()
    dialog.prices.item(0, 2).setText("2.5")
    dialog.default_model.setCurrentText("gpt-4o")
    dialog.save()
    assert "must be provider:model" in dialog.status.text() and not private_settings.exists()
    dialog.default_model.setCurrentText("openai:gpt-4o")
    dialog.save()
    assert load_settings().prices["my-model"].output_per_mtok == 2.5


def run_on_qasync(dialog: SettingsDialog) -> str:
    """Click Test connection inside a qasync loop, as in the app, and wait for the answer (hang-guarded)."""
    loop = qasync.QEventLoop(QApplication.instance())
    asyncio.set_event_loop(loop)

    async def click_and_wait() -> None:
        dialog.test_button.click()
        assert not dialog.test_button.isEnabled()  # busy, but the UI thread is free
        await dialog.task

    try:
        loop.run_until_complete(asyncio.wait_for(click_and_wait(), 20))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return dialog.test_result.text()


def test_test_connection_makes_one_real_request_and_reports_success_or_the_exact_error(
    qtbot: QtBot, fake_llm: FakeLLMServer
) -> None:
    dialog = dialog_for(qtbot)
    fill_editor(qtbot, dialog.edit_credential(None), "fake", "openai", fake_llm.url + "/v1", KEY)
    dialog.test_model.setText("gpt-4o-mini")
    fake_llm.script(ok("OK"), status(401, '{"error": {"message": "Incorrect API key provided"}}'))
    assert run_on_qasync(dialog) == "Connected: gpt-4o-mini answered 'OK' (11+7 tokens)."
    assert fake_llm.requests[0].headers["authorization"] == f"Bearer {KEY}"  # the key typed in, not yet saved
    failed = run_on_qasync(dialog)
    assert failed.startswith("Failed: openai (credential 'fake'") and "HTTP 401" in failed
    assert "Incorrect API key provided" in failed and KEY not in failed and dialog.test_button.isEnabled()


def test_the_main_window_has_file_settings(qtbot: QtBot, tmp_path: Path) -> None:
    from flowdesk.nodes.registry import builtin_registry
    from flowdesk.store.store import open_store
    from flowdesk.ui.main_window import MainWindow

    store = open_store(tmp_path / "lib.db")
    window = MainWindow(store, builtin_registry(), QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    try:
        action = next(a for a in window.menu("File").actions() if a.text() == "Se&ttings…")
        assert action.shortcut().toString() == "Ctrl+,"
        action.trigger()
        dialog = window.findChild(SettingsDialog)
        assert dialog is not None and dialog.isVisible()
        dialog.reject()
    finally:
        if window.stack is not None:
            window.stack.setClean()
        window.close()
        store.close()


def test_screenshot(qtbot: QtBot, tmp_path: Path) -> None:
    """Rendered offscreen for a person to look at (saved beside the test's files)."""
    settings = LLMSettings(
        default_model="openai:gpt-4o-mini",
        credentials=(
            CredentialInfo(name="openai", provider="openai"),
            CredentialInfo(name="anthropic", provider="anthropic"),
            CredentialInfo(name="ollama", provider="openai", base_url="http://localhost:11434/v1", needs_key=False),
        ),
    )
    keyring.set_password("flowdesk", "openai", KEY)
    dialog = dialog_for(qtbot, settings)
    dialog.add_price_row("llama3.2", 0, 0)
    dialog.test_model.setText("gpt-4o-mini")
    qtbot.waitExposed(dialog)
    image = dialog.grab()
    assert image.save(str(tmp_path / "settings.png")) and image.width() >= 600


def test_a_key_for_http_nodes_asks_where_it_may_go_and_shows_its_hosts(qtbot: QtBot) -> None:
    dialog = dialog_for(qtbot)
    editor = dialog.edit_credential(None)
    editor.name.setText("github")
    editor.provider.setCurrentText("http")
    assert editor.hosts.isVisibleTo(editor) and not editor.base_url.isVisibleTo(editor)
    qtbot.keyClicks(editor.key_field, KEY)
    editor._accept()
    assert "say where the key may go" in editor.problem.text() and editor.isVisible()
    qtbot.keyClicks(editor.hosts, "api.github.com, uploads.github.com")
    editor._accept()
    assert dialog.table.item(0, 4).text() == "api.github.com, uploads.github.com"
    dialog.save()
    assert load_settings().credential("github").hosts == ("api.github.com", "uploads.github.com")


def test_azure_shows_its_api_version_and_ollama_needs_no_key(qtbot: QtBot) -> None:
    dialog = dialog_for(qtbot)
    editor = dialog.edit_credential(None)
    editor.provider.setCurrentText("azure")
    assert editor.api_version.isVisibleTo(editor) and not editor.no_key.isChecked()
    editor.provider.setCurrentText("ollama")
    assert not editor.api_version.isVisibleTo(editor) and editor.no_key.isChecked()
    assert "http://localhost:11434" in editor.base_url.placeholderText()
    editor.name.setText("local")
    editor._accept()
    assert dialog.table.item(0, 4).text() == "localhost:11434"

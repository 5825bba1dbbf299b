"""Settings > Traces: the opt-in collector URL typed in the dialog, refused when it is not a URL, kept in the file."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from flowdesk.providers.settings import load_settings
from flowdesk.ui.settings_dialog import SettingsDialog


def test_the_collector_url_is_typed_checked_and_saved(qtbot: QtBot, private_settings: Path) -> None:
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.trace_url, "localhost:4318")
    dialog.save()
    assert "must be an http:// or https:// URL" in dialog.status.text() and dialog.isVisible()
    assert not private_settings.exists()
    dialog.trace_url.clear()
    qtbot.keyClicks(dialog.trace_url, "http://127.0.0.1:4318")
    dialog.save()
    assert not dialog.isVisible()
    assert load_settings().trace_otlp_url == "http://127.0.0.1:4318"
    again = SettingsDialog(load_settings())
    qtbot.addWidget(again)
    assert again.trace_url.text() == "http://127.0.0.1:4318"
    again.trace_url.clear()
    again.save()
    assert load_settings().trace_otlp_url is None

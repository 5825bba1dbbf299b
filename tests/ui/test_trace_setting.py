"""Settings > Traces: the opt-in collector URL typed in the dialog, refused when it is not a URL, kept in the
file; a run started in the window then sends its trace to that collector when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.otlp_collector import Collector
from support.wfbuild import node, workflow

from flowdesk.providers.settings import LLMSettings, load_settings, save_settings
from flowdesk.ui.main_window import MainWindow
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


@pytest.fixture
def collector_in_settings() -> Iterator[Collector]:
    """A collector on loopback, named in the settings file before the window is made."""
    collector = Collector()
    save_settings(LLMSettings(trace_otlp_url=collector.url))
    yield collector
    collector.close()


def test_a_run_from_the_window_sends_its_trace_when_it_ends(
    qtbot: QtBot, collector_in_settings: Collector, run_window: MainWindow
) -> None:
    wf = workflow(
        [node("a", "transform", expression="1"), node("b", "transform", expression="inputs.input + 1")],
        ["a.output -> b.input"],
    )
    run_window.load(wf, "library")
    run_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is run_window)
    qtbot.keyClick(run_window.view, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: len(collector_in_settings.spans) == 3, timeout=15_000)
    assert {s.name for s in collector_in_settings.spans} == {f"run {wf.name}", "node a", "node b"}

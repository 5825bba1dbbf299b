"""Themes: View > Theme switches the whole window (palette and canvas), is remembered, reaches workflows
opened later, and "System" follows the OS colour scheme as it changes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import read_workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.paths import examples_dir
from flowdesk.store.running import RunService
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.theming import SETTING, build_palette, is_dark, set_tone, tone


@pytest.fixture(autouse=True)
def back_to_light(qapp: QApplication) -> Iterator[None]:
    """The application palette is shared by every test: leave it light as found."""
    yield
    QGuiApplication.styleHints().unsetColorScheme()  # an explicit pick asked the OS for a scheme
    qapp.setPalette(build_palette("light"))


def window_colour() -> int:
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness()


def theme_action(win: MainWindow, text: str) -> None:
    menu = next(a.menu() for a in win._menus["View"].actions() if a.menu() and a.text() == "&Theme")
    next(a for a in menu.actions() if a.text() == text).trigger()


def test_dark_switches_palette_and_canvas_and_is_remembered(window: MainWindow) -> None:
    assert window.theming.mode == "system"
    theme_action(window, "Dark")
    assert window_colour() < 80
    assert is_dark()
    assert window.scene is not None and window.scene.theme.name == "dark"
    assert window.settings.value(SETTING) == "dark"
    assert QApplication.style().name().lower() == "fusion"
    theme_action(window, "Light")
    assert window_colour() > 200
    assert window.scene.theme.name == "light"
    assert window.settings.value(SETTING) == "light"


def test_a_workflow_opened_later_gets_the_dark_canvas(window: MainWindow) -> None:
    window.theming.set_mode("dark")
    first = window.scene
    assert window.open_workflow(str(examples_dir() / "code_review_loop.json"))
    assert window.scene is not first
    assert window.scene is not None and window.scene.theme.name == "dark"
    window.new_workflow()
    assert window.scene.theme.name == "dark"


def test_the_saved_choice_applies_to_a_new_window(qtbot: QtBot, store: Store, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(SETTING, "dark")
    win = MainWindow(store, builtin_registry(), settings)
    qtbot.addWidget(win)
    assert win.theming.mode == "dark"
    assert win.theming.actions["dark"].isChecked()
    assert win.scene is not None and win.scene.theme.name == "dark"
    assert is_dark()
    win.stack.setClean()


def test_system_follows_the_colour_scheme_unless_a_theme_is_picked(window: MainWindow) -> None:
    window.theming.set_mode("system")
    window.theming.system_scheme_changed(Qt.ColorScheme.Dark)  # what the OS signal delivers
    assert window.scene is not None and window.scene.theme.name == "dark"
    assert is_dark()
    window.theming.system_scheme_changed(Qt.ColorScheme.Light)
    assert window.scene.theme.name == "light"
    assert not is_dark()
    window.theming.set_mode("light")
    window.theming.system_scheme_changed(Qt.ColorScheme.Dark)  # the user's own pick wins
    assert window.scene.theme.name == "light"


def test_toned_labels_follow_the_theme(window: MainWindow, qtbot: QtBot) -> None:
    """Qt posts the palette change to each widget; a toned label takes its colour when it arrives."""
    label = QLabel("boom")
    set_tone(label, "error")
    window.theming.set_mode("light")
    qtbot.waitUntil(lambda: label.palette().color(QPalette.ColorRole.WindowText) == tone("error"))
    light = label.palette().color(QPalette.ColorRole.WindowText)
    window.theming.set_mode("dark")
    qtbot.waitUntil(lambda: label.palette().color(QPalette.ColorRole.WindowText) != light)
    dark = label.palette().color(QPalette.ColorRole.WindowText)
    assert dark == tone("error")
    assert dark.lightness() > 128  # light text on the dark window
    set_tone(label, None)
    assert label.palette().color(QPalette.ColorRole.WindowText) == QApplication.palette().color(
        QPalette.ColorRole.WindowText
    )
    label.deleteLater()


def test_an_unknown_saved_value_falls_back_to_system(qtbot: QtBot, store: Store, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(SETTING, "purple")
    win = MainWindow(store, builtin_registry(), settings)
    qtbot.addWidget(win)
    assert win.theming.mode == "system"
    with pytest.raises(ValueError, match="unknown theme"):
        win.theming.set_mode("purple")
    win.stack.setClean()


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours."""

    def luminance(c: QColor) -> float:
        parts = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in (c.redF(), c.greenF(), c.blueF())]
        return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("name", ["light", "dark"])
def test_every_tone_and_the_text_read_on_both_themes(name: str) -> None:
    palette = build_palette(name)
    for background in (QPalette.ColorRole.Window, QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase):
        ground = palette.color(background)
        assert contrast(palette.color(QPalette.ColorRole.Text), ground) >= 7
        for meaning in ("error", "warning", "success", "running", "paused", "muted", "neutral"):
            assert contrast(tone(meaning, palette), ground) >= 4.5, (name, meaning, background)


def test_run_rows_take_the_new_themes_shade(window: MainWindow, store: Store) -> None:
    """A listed run's status colour must read on the new background at once, not after a refresh."""
    workflow = read_workflow(examples_dir() / "etl_orders.json")
    store.workflows.save(workflow)

    async def run_once() -> None:
        service = RunService(store, builtin_registry(), EngineServices())  # no files folder: it fails
        started = service.start(store.workflows.load(workflow.id), {}, workflow_version=1)
        assert started.handle is not None
        await started.handle.wait()

    asyncio.run(run_once())
    window.theming.set_mode("light")
    panel = window.runs.runs_panel
    panel.show_workflow(workflow.id)
    row = panel.tree.topLevelItem(0)
    assert "failed" in row.text(0) and row.foreground(0).color() == tone("error")
    light = row.foreground(0).color()
    window.theming.set_mode("dark")
    QApplication.processEvents()
    assert row.foreground(0).color() == tone("error") != light

"""Help: the shortcuts a person can look up are the ones the menus really have; About says where things are."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from flowdesk import __version__
from flowdesk.ui.main_window import MainWindow


def test_the_shortcut_list_is_read_from_the_menus(qtbot: QtBot, window: MainWindow) -> None:
    assert [a.text() for a in window.menuBar().actions()][-1] == "&Help"  # at the right end
    dialog = window.help.show_shortcuts()
    qtbot.addWidget(dialog)
    rows = dialog.rows()
    assert ("File", "Save", "Ctrl+S") in rows
    assert ("Edit", "Rename node", "F2") in rows
    assert ("Run", "Run", "F5") in rows
    assert ("Arrange", "Auto-layout", "Ctrl+L") in rows
    assert ("Canvas", "Quick-add a node under the mouse", "Tab") in rows
    assert ("Help", "Keyboard shortcuts", "Ctrl+/") in rows
    assert all(keys for _group, _action, keys in rows)  # only actions that have keys
    window.naming.rename_node_action.setShortcut("Ctrl+Alt+R")  # a changed key shows up the next time
    assert ("Edit", "Rename node", "Ctrl+Alt+R") in window.help.show_shortcuts().rows()


def test_the_filter_narrows_the_list(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.help.show_shortcuts()
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.filter, "F5")
    rows = dialog.rows()
    assert rows and all("F5" in keys for _g, _a, keys in rows)
    qtbot.keyClicks(dialog.filter, "zzz")
    assert dialog.rows() == []


def test_about_names_the_version_and_the_library(window: MainWindow) -> None:
    text = window.help.about_text()
    assert __version__ in text and str(window.store.path) in text and "flowdesk.log" in text

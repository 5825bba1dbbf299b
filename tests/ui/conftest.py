"""Fixtures of the GUI tests: a main window over a private library, closed without the unsaved-changes prompt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from flowdesk.nodes.registry import builtin_registry
from flowdesk.store.store import Store, open_store
from flowdesk.ui.main_window import MainWindow


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


@pytest.fixture
def window(qtbot: QtBot, store: Store, tmp_path: Path) -> Iterator[MainWindow]:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(store, builtin_registry(), settings)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()  # window-wide shortcuts (Ctrl+C ...) need the active window
    yield win
    if win.isVisible():
        if win.stack is not None:
            win.stack.setClean()  # no unsaved-changes question in the way of closing
        win.close()
    win.deleteLater()

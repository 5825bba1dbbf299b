"""Fixtures of the GUI tests: main windows over private libraries (closed without the unsaved-changes
prompt), and for runs, Qt's loop serving asyncio too, as qasync does in the app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import builtin_registry
from flowdesk.nodes.tools import builtin_tools
from flowdesk.providers.resolver import default_providers
from flowdesk.store.store import Store, open_store
from flowdesk.ui.collector import GuiCollector
from flowdesk.ui.main_window import MainWindow


@pytest.fixture(scope="session", autouse=True)
def gui_collector(qapp: QApplication) -> Iterator[GuiCollector]:
    """As in the app, cyclic garbage is collected on Qt's thread only (``ui/collector.py``): the window
    tests' threads (Dask clients, tools) must not free Qt objects. Python's own collector comes back after."""
    collector = GuiCollector.install(qapp)
    yield collector
    collector.uninstall()


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


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop driven by Qt's own event processing (qtbot waits turn it, like the app's loop)."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    threads = ThreadPoolExecutor(max_workers=4)  # for asyncio.to_thread (tools); shut down here, not leaked
    loop.set_default_executor(threads)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.start(5000)
    while any(not task.done() for task in pending) and deadline.isActive():
        qapp.processEvents()
    threads.shutdown(wait=True)
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def run_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "runs.db")
    yield store
    store.close()


@pytest.fixture
def run_window(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, run_store: Store, tmp_path: Path
) -> Iterator[MainWindow]:
    """The main window with the offline provider and the built-in tools, on its own library."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    services = EngineServices(providers=default_providers(), tools=builtin_tools())
    win = MainWindow(run_store, builtin_registry(), settings, services=services)
    win.resize(1400, 900)
    win.show()
    yield win
    win.runs.controller.cancel_all_blocking(5.0)
    if win.isVisible():
        if win.stack is not None:
            win.stack.setClean()
        win.close()
    win.deleteLater()


@pytest.fixture
def answer_dialog(qtbot: QtBot) -> Callable[[Callable[[object], None]], None]:
    """Answer the next modal dialog (e.g. the run inputs) with ``act(dialog)`` once it is open."""

    def arm(act: Callable[[object], None]) -> None:
        def answer() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(20, answer)
                return
            act(dialog)

        QTimer.singleShot(0, answer)

    return arm

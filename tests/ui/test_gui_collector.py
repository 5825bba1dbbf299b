"""Python's cycle collector runs on Qt's thread only, in the app and in these tests (issue 20).

Python collects cyclic garbage on whichever thread allocates when a generation fills up. The app
has busy threads of its own (a Dask client's loop, Settings' Test connection importing
``distributed``, tools in ``asyncio.to_thread``): a collection there used to free the window's
garbage (closed dialogs, scenes, their items) with its C++ Qt objects, off Qt's thread, and the
process crashed later on Qt's thread, in the collector or a deferred delete. These show the
mechanism on a plain QObject (harmless to destroy on the wrong thread, unlike a widget).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from test_big_moves import grid

from flowdesk.model.fileformat import write_workflow
from flowdesk.ui.collector import INTERVAL_MS, POSTPONE_LIMIT_S, GuiCollector, due_generation, running_collector
from flowdesk.ui.main_window import MainWindow


class Witness(QObject):
    """Hears a Qt object's C++ destructor: a direct connection runs the slot on the destroying thread."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    @Slot()
    def destroyed_here(self) -> None:
        self.threads.append(threading.current_thread().name)


class InACycle(QObject):
    """A Qt object that only the cycle collector can free (it refers to itself)."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self


def garbage_watched_by(witness: Witness) -> None:
    """Leave one Qt object in cyclic garbage, on this (Qt's) thread."""
    garbage = InACycle()
    garbage.destroyed.connect(witness.destroyed_here, Qt.ConnectionType.DirectConnection)


def allocate_on_a_busy_thread() -> list[list[int]]:
    """What a Dask client's loop or an import does: many new containers kept, enough to fill generation 0
    many times over (Python counts allocations less deallocations; these stay until the caller drops them)."""
    kept: list[list[int]] = []

    def allocate() -> None:
        kept.extend([i] for i in range(200_000))

    busy = threading.Thread(target=allocate, name="busy-thread")
    busy.start()
    busy.join()
    return kept


def test_a_qt_object_left_in_garbage_is_destroyed_on_qts_thread_while_another_thread_allocates(qtbot: QtBot) -> None:
    witness = Witness()
    garbage_watched_by(witness)
    kept = allocate_on_a_busy_thread()
    assert witness.threads == [], "a collection on the busy thread destroyed a Qt object there"
    qtbot.waitUntil(lambda: witness.threads != [], timeout=5000)  # a tick of Qt's event loop collects it
    assert witness.threads == [threading.main_thread().name]
    assert len(kept) == 200_000


def the_collector() -> GuiCollector:
    collector = running_collector()
    assert collector is not None, "tests/ui/conftest.py installs it, as the app does"
    return collector


def test_a_held_collector_waits_and_collects_on_qts_thread_once_released(qtbot: QtBot) -> None:
    collector, witness = the_collector(), Witness()
    collector.hold()  # what a big gesture on the canvas does (pause_collector)
    try:
        garbage_watched_by(witness)
        kept = allocate_on_a_busy_thread()
        qtbot.wait(3 * INTERVAL_MS)  # ticks came and went
        assert witness.threads == []
    finally:
        collector.release()
    qtbot.waitUntil(lambda: witness.threads != [], timeout=5000)
    assert witness.threads == [threading.main_thread().name]
    assert len(kept) == 200_000


def test_a_library_that_turns_pythons_collector_back_on_is_undone_at_the_next_tick(qtbot: QtBot) -> None:
    the_collector()
    gc.enable()  # as dask.utils.disable_gc would on leaving, had it been made while the collector was on
    qtbot.waitUntil(lambda: not gc.isenabled(), timeout=5 * INTERVAL_MS)


def test_the_generation_collected_is_the_one_python_would_collect() -> None:
    thresholds = (700, 10, 10)
    never = lambda: False  # noqa: E731 (a full collection that would not pay)
    always = lambda: True  # noqa: E731
    assert due_generation((700, 10, 10), thresholds, always) is None  # generation 0 not over its threshold
    assert due_generation((701, 3, 12), thresholds, always) == 0
    assert due_generation((5000, 11, 4), thresholds, always) == 1
    assert due_generation((701, 11, 11), thresholds, always) == 2
    assert due_generation((701, 11, 11), thresholds, never) == 1  # few new long-lived objects: no full walk
    assert due_generation((10**6, 99, 99), (0, 10, 10), always) is None  # gc.set_threshold(0): collection off


def test_opening_a_big_file_and_moving_it_all_leave_collection_on_qts_thread(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """Loading a workflow (the file's fast read, the scene's items) and a big nudge pause collection
    their own way; none of them may turn Python's collector back on, nor leave the collector held."""
    collector = the_collector()
    path = tmp_path / "big.json"
    write_workflow(grid(20, 25), path)
    assert window.open_workflow(str(path))
    assert window.scene is not None and window.view is not None and len(window.scene.document.nodes) == 501
    assert not gc.isenabled() and not collector.held
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window.view, Qt.Key.Key_Right)
    assert window.stack is not None and window.stack.count() == 1
    assert not gc.isenabled() and not collector.held


_STARTED_APP = """
import gc, json, sys
from flowdesk.cli import main
code = main(sys.argv[1:])  # returns when the start-up probe has seen the window painted and idle
print(json.dumps({"code": code, "collects_by_itself": gc.isenabled()}))
"""


def test_the_app_turns_pythons_own_collector_off(tmp_path: Path) -> None:
    """The real entry point (``flowdesk`` with no command): the window's process collects on Qt's thread only."""
    env = {
        **os.environ,
        "FLOWDESK_STARTUP_PROBE": str(tmp_path / "probe.json"),  # quits once the window is painted and idle
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
    }
    done = subprocess.run([sys.executable, "-c", _STARTED_APP], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result == {"code": 0, "collects_by_itself": False}


def test_the_end_of_a_gesture_puts_the_next_collection_off_by_an_interval_not_into_its_repaint(
    qtbot: QtBot,
) -> None:
    collector, witness = the_collector(), Witness()
    qtbot.wait(INTERVAL_MS)  # a look has just been taken (the limit on putting off is counted from it)
    collector.hold()  # a nudge of a big selection
    garbage_watched_by(witness)
    kept = allocate_on_a_busy_thread()  # the gesture's new objects: a collection is due
    time.sleep(1.5 * INTERVAL_MS / 1000)  # the gesture took long enough for the next tick to be overdue
    collector.release()
    QApplication.processEvents()  # the pass of the event loop that repaints the canvas
    assert witness.threads == [], "a collection ran in the gesture's own repaint"
    qtbot.waitUntil(lambda: witness.threads != [], timeout=5000)  # between frames, an interval later
    assert witness.threads == [threading.main_thread().name]
    assert len(kept) == 200_000


def test_gestures_in_quick_succession_still_let_the_collector_run_about_once_a_second(qtbot: QtBot) -> None:
    collector, witness = the_collector(), Witness()
    garbage_watched_by(witness)
    kept = allocate_on_a_busy_thread()
    started = time.monotonic()
    while witness.threads == [] and time.monotonic() - started < 5 * POSTPONE_LIMIT_S:
        collector.hold()  # a held arrow key: a gesture every 30 ms, each ending by a release
        collector.release()
        qtbot.wait(30)
    assert witness.threads == [threading.main_thread().name], "a stream of gestures put collection off for good"
    assert len(kept) == 200_000

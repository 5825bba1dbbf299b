"""Python's cycle collector runs on Qt's thread only, in the app and in these tests (issue 20).

Python collects cyclic garbage on whichever thread allocates when a generation fills up. The app
has busy threads of its own (a Dask client's loop, Settings' Test connection importing
``distributed``, tools in ``asyncio.to_thread``): a collection there used to free the window's
garbage (closed dialogs, scenes, their items) with its C++ Qt objects, off Qt's thread, and the
process crashed later on Qt's thread, in the collector or a deferred delete. These show the
mechanism on a plain QObject (harmless to destroy on the wrong thread, unlike a widget).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from pytestqt.qtbot import QtBot


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


def allocate_on_a_busy_thread() -> None:
    """What a Dask client's loop or an import does: many new containers, enough to fill generation 0 often."""

    def allocate() -> None:
        kept = [[i] for i in range(200_000)]
        assert len(kept) == 200_000

    busy = threading.Thread(target=allocate, name="busy-thread")
    busy.start()
    busy.join()


def test_a_qt_object_left_in_garbage_is_destroyed_on_qts_thread_while_another_thread_allocates(qtbot: QtBot) -> None:
    witness = Witness()
    garbage_watched_by(witness)
    allocate_on_a_busy_thread()
    assert witness.threads == [], "a collection on the busy thread destroyed a Qt object there"
    qtbot.waitUntil(lambda: witness.threads != [], timeout=5000)  # Qt's event loop collects it
    assert witness.threads == [threading.main_thread().name]


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

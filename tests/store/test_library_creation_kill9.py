"""A flowdesk killed while it creates a new library leaves nothing the next start refuses.

A first start makes the library file. Killed in that moment (the machine losing power, a user
closing the terminal), it used to leave an empty ``library.db``, or one whose tables were only in
its ``-wal``, which every later start refused as "an empty file, not a flowdesk library": the user
had to find and delete it by hand. Each trial starts a real flowdesk process on a new path, kills it
with SIGKILL somewhere inside its creation of the library, and then opens that path here.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from store_child import Child

from flowdesk.store.migrations import APPLICATION_ID, LATEST
from flowdesk.store.store import open_store

TRIALS = 16


def _creation_time(tmp_path: Path) -> float:
    """How long a child takes from "go" to a created, opened library on this machine now."""
    child = Child("open", tmp_path / "timing" / "library.db")
    child.expect("ready")
    started = time.monotonic()
    child.go()
    child.expect("opened")
    took = time.monotonic() - started
    assert child.finish() == 0, child.stderr
    return took


def _assert_a_whole_library(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_start_killed_while_creating_the_library_leaves_one_the_next_start_opens(tmp_path: Path) -> None:
    span = _creation_time(tmp_path)
    outcomes: dict[str, int] = {"no library yet": 0, "library named": 0, "opened": 0}
    for trial in range(TRIALS):
        library = tmp_path / f"trial{trial}" / "library.db"
        child = Child("open", library)
        child.expect("ready")
        child.go()
        time.sleep(span * trial / TRIALS)  # kill moments spread over the whole creation
        child.kill()
        child.finish()
        if child.said("opened"):
            outcomes["opened"] += 1
        elif library.exists():
            outcomes["library named"] += 1
        else:
            outcomes["no library yet"] += 1
        store = open_store(library)  # raised LibraryError ("an empty file") before the fix
        try:
            assert store.workflows.list() == []
        finally:
            store.close()
        _assert_a_whole_library(library)
        left = sorted(p.name for p in library.parent.iterdir())
        assert set(left) <= {"library.db", "library.db-wal", "library.db-shm"}, f"trial {trial} left {left}"
    assert outcomes["opened"] < TRIALS, f"no kill landed before the library was opened: {outcomes}"


def test_opening_removes_what_a_killed_creation_left_and_keeps_a_live_ones(tmp_path: Path) -> None:
    library = tmp_path / "library.db"
    open_store(library).close()
    dead = tmp_path / f"library.db.creating-{_ended_pid()}-0a0b0c0d"
    live = tmp_path / f"library.db.creating-{os.getpid()}-01020304"
    for leftover in (dead, live, dead.with_name(dead.name + "-wal")):
        leftover.write_bytes(b"half a library")
    open_store(library).close()
    assert not dead.exists() and not dead.with_name(dead.name + "-wal").exists()
    assert live.exists(), "a library another flowdesk is making right now was removed"


def _ended_pid() -> int:
    """A process id that is free again."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid

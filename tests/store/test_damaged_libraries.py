"""Libraries that look like libraries but are not whole, and library paths that are not files.

A library whose tables were changed by hand, one declaring a negative schema version, an empty
file, a link to /dev/null: each is refused with one sentence naming the file, and the file is
left byte for byte as it was. (A library on a read-only disk is not damaged: it can still be
listed; see test_disk_full.py.)
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flowdesk.model.workflow import Workflow
from flowdesk.store.database import LibraryError
from flowdesk.store.store import open_store


def _library(path: Path) -> None:
    store = open_store(path)
    store.workflows.save(Workflow(id="wf_kept", name="kept"))
    store.close()


def _by_hand(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def step_made_again(path: Path) -> None:
    """The case from the report: a table dropped and made again with other columns."""
    _library(path)
    _by_hand(path, "DROP TABLE step", "CREATE TABLE step (id INTEGER PRIMARY KEY, node TEXT)")


def log_dropped(path: Path) -> None:
    _library(path)
    _by_hand(path, "DROP TABLE log")


def column_added(path: Path) -> None:
    _library(path)
    _by_hand(path, "ALTER TABLE workflow ADD COLUMN colour TEXT")


def table_added(path: Path) -> None:
    _library(path)
    _by_hand(path, "CREATE TABLE notes (body TEXT)")


def negative_version(path: Path) -> None:
    _library(path)
    _by_hand(path, "PRAGMA user_version = -3")


DAMAGED: list[tuple[Callable[[Path], None], str]] = [
    (step_made_again, "table step lacks"),
    (log_dropped, "table log is missing"),
    (column_added, "table workflow has colour too"),
    (table_added, "table notes does not belong"),
    (negative_version, "schema version -3"),
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("make", "says"), DAMAGED, ids=[f.__name__ for f, _ in DAMAGED])
def test_a_library_whose_tables_do_not_match_its_version_is_refused_untouched(
    tmp_path: Path, make: Callable[[Path], None], says: str
) -> None:
    path = tmp_path / "library.db"
    make(path)
    digest = _digest(path)
    for _ in range(2):
        with pytest.raises(LibraryError) as caught:
            open_store(path)
        message = str(caught.value)
        assert str(path) in message and says in message and "left untouched" in message, message
        assert "\n" not in message
    assert _digest(path) == digest
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "--db", str(path), "import", str(_a_workflow_file(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert _digest(path) == digest, "import wrote into a damaged library"


def _a_workflow_file(folder: Path) -> Path:
    from flowdesk.paths import examples_dir

    return examples_dir() / "ask_llm.json"


def test_an_empty_file_is_not_silently_made_a_library(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    path.touch()
    old = time.time() - 60
    os.utime(path, (old, old))
    with pytest.raises(LibraryError) as caught:
        open_store(path)
    assert str(path) in str(caught.value) and "empty file" in str(caught.value)
    assert path.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["library.db"]


def test_a_link_to_dev_null_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    path.symlink_to("/dev/null")
    with pytest.raises(LibraryError) as caught:
        open_store(path)
    message = str(caught.value)
    assert str(path) in message and "/dev/null" in message and "not a library file" in message, message

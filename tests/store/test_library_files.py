"""A file that is not a usable flowdesk library, given as the library: a clear error, the file untouched.

For every kind of wrong file (random bytes, a text file, another application's SQLite database
in rollback or WAL mode, a damaged or truncated flowdesk library, a library from a newer
flowdesk), ``open_store`` raises LibraryError with a message that names the file and says what
is wrong, and the file's bytes are unchanged. For other applications' files nothing beside them
changes either (no -wal, -shm or -journal made or written); for flowdesk's own files SQLite may
leave its (empty) -wal and -shm companions, but writes nothing.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from flowdesk.model.workflow import Workflow
from flowdesk.store.database import LibraryError
from flowdesk.store.migrations import APPLICATION_ID, LATEST
from flowdesk.store.store import open_store

PAGE = 4096
NOT_OURS = "not a flowdesk library"
DAMAGED = "damaged"
NEWER = "newer flowdesk"


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _library(path: Path, workflows: int = 12) -> bytes:
    """A real flowdesk library with some saved versions; returns its bytes (closed, checkpointed)."""
    store = open_store(path)
    for i in range(workflows):
        store.workflows.save(Workflow(id=f"wf_{i}", name=f"workflow {i}", description=f"number {i} " * 300))
    store.close()
    for extra in path.parent.iterdir():
        if extra != path:
            if extra.is_dir():
                extra.rmdir()
            else:
                extra.unlink()
    return path.read_bytes()


# ---------------------------------------------------------------- the wrong files
def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(64 * 1024))


def text_file(path: Path) -> None:
    path.write_text('{"format": "flowdesk.workflow", "id": "wf_x"}\nnotes: a workflow file, not a library\n')


def other_app_sqlite(path: Path) -> None:
    """Another application's database (rollback journal, its own application id)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE bookmark (id INTEGER PRIMARY KEY, url TEXT)")
    conn.executemany("INSERT INTO bookmark (url) VALUES (?)", [(f"https://example.org/{i}",) for i in range(500)])
    conn.commit()
    conn.close()


def other_app_sqlite_no_id(path: Path) -> None:
    """The commonest case: another application's database with no application id at all."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO note (body) VALUES ('hello')")
    conn.commit()
    conn.close()


def corrupted_sqlite(path: Path) -> None:
    """A valid SQLite header followed by garbage."""
    path.write_bytes(b"SQLite format 3\x00" + random.Random(2).randbytes(8 * PAGE - 16))


def truncated_library(path: Path) -> None:
    full = _library(path)
    path.write_bytes(full[: len(full) // 2])


def library_cut_to_one_page(path: Path) -> None:
    full = _library(path)
    path.write_bytes(full[:PAGE])


def library_with_garbage_pages(path: Path) -> None:
    """A flowdesk library whose first page (the header, the application id) is intact, the rest overwritten."""
    full = _library(path)
    path.write_bytes(full[:PAGE] + random.Random(3).randbytes(len(full) - PAGE))


def newer_flowdesk_library(path: Path) -> None:
    _library(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.execute("CREATE TABLE feature_of_the_future (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    for extra in path.parent.iterdir():
        if extra != path:
            extra.unlink()


FOREIGN: list[tuple[Callable[[Path], None], str]] = [
    (random_bytes, NOT_OURS),
    (text_file, NOT_OURS),
    (other_app_sqlite, NOT_OURS),
    (other_app_sqlite_no_id, NOT_OURS),
    (corrupted_sqlite, NOT_OURS),
]
OURS_BUT_UNUSABLE: list[tuple[Callable[[Path], None], str]] = [
    (truncated_library, DAMAGED),
    (library_cut_to_one_page, DAMAGED),
    (library_with_garbage_pages, DAMAGED),
    (newer_flowdesk_library, NEWER),
]


def _refused(path: Path, expected: str) -> str:
    with pytest.raises(LibraryError) as caught:
        open_store(path)
    message = str(caught.value)
    assert str(path) in message, f"the message does not name the file: {message}"
    assert expected in message or (expected == NOT_OURS and DAMAGED in message), message
    assert "Traceback" not in message and "\n" not in message
    return message


@pytest.mark.parametrize(("make", "expected"), FOREIGN, ids=[f.__name__ for f, _ in FOREIGN])
def test_a_foreign_file_is_refused_and_nothing_beside_it_changes(
    tmp_path: Path, make: Callable[[Path], None], expected: str
) -> None:
    path = tmp_path / "library.db"
    make(path)
    before = _snapshot(tmp_path)
    _refused(path, expected)
    _refused(path, expected)  # a second attempt is refused the same way (nothing was half-done)
    assert _snapshot(tmp_path) == before, "the file, or files beside it, changed"


@pytest.mark.parametrize(("make", "expected"), OURS_BUT_UNUSABLE, ids=[f.__name__ for f, _ in OURS_BUT_UNUSABLE])
def test_a_damaged_or_newer_library_is_refused_and_left_as_it_was(
    tmp_path: Path, make: Callable[[Path], None], expected: str
) -> None:
    path = tmp_path / "library.db"
    make(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    _refused(path, expected)
    _refused(path, expected)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, "the library's bytes changed"
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "something was written to the library's WAL"
    assert not list(tmp_path.glob("*.bak")), "a backup was made of a library that was not upgraded"


@contextmanager
def _live_wal_database(path: Path, *, schema_checkpointed: bool) -> Iterator[sqlite3.Connection]:
    """Another application's WAL database, open in that application, with rows only in its -wal file."""
    conn = sqlite3.connect(path, isolation_level=None)
    if schema_checkpointed:
        conn.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    if not schema_checkpointed:
        conn.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO message (body) VALUES (?)", [(f"message {i}",) for i in range(200)])
    try:
        yield conn
    finally:
        conn.close()


def test_another_applications_live_wal_database_is_refused_without_touching_its_wal_or_shm(tmp_path: Path) -> None:
    path = tmp_path / "messages.db"
    with _live_wal_database(path, schema_checkpointed=True) as conn:
        before = _snapshot(tmp_path)
        assert {"messages.db-wal", "messages.db-shm"} <= set(before)
        _refused(path, NOT_OURS)
        assert _snapshot(tmp_path) == before, "the database, its -wal or its -shm changed"
        assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == 200  # its owner carries on


def test_a_wal_database_whose_schema_is_only_in_its_wal_is_refused_with_its_data_untouched(tmp_path: Path) -> None:
    """Nothing in the main file tells it apart from a new library, so SQLite must read it (read-only).

    SQLite's read-only reader may then update the -shm index (read marks), as any reader of a WAL
    database does; the database and its -wal, the data, stay byte for byte the same.
    """
    path = tmp_path / "messages.db"
    with _live_wal_database(path, schema_checkpointed=False) as conn:
        before = _snapshot(tmp_path)
        _refused(path, NOT_OURS)
        after = _snapshot(tmp_path)
        assert set(after) == set(before)
        assert after["messages.db"] == before["messages.db"]
        assert after["messages.db-wal"] == before["messages.db-wal"]
        assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == 200


def test_the_command_line_shows_the_message_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    text_file(path)
    newer = tmp_path / "newer" / "library.db"
    newer.parent.mkdir()
    newer_flowdesk_library(newer)
    for library, expected in ((path, NOT_OURS), (newer, NEWER)):
        before = _snapshot(library.parent)
        done = subprocess.run(
            [sys.executable, "-m", "flowdesk", "--db", str(library), "list"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0
        assert "Traceback" not in done.stderr, done.stderr
        assert str(library) in done.stderr and expected in done.stderr, done.stderr
        assert _snapshot(library.parent)[library.name] == before[library.name]


def test_a_good_library_still_opens_after_being_refused_elsewhere(tmp_path: Path) -> None:
    """The checks refuse only what they should: a real library, closed and reopened, opens with its work."""
    path = tmp_path / "library.db"
    _library(path, workflows=3)
    store = open_store(path)
    try:
        assert sorted(w.id for w in store.workflows.list()) == ["wf_0", "wf_1", "wf_2"]
        assert store.workflows.load("wf_2").description.startswith("number 2")
    finally:
        store.close()

"""The library stays shared with other processes: nothing in this process may drop SQLite's locks on it.

SQLite's locks on a library are POSIX advisory locks, and POSIX drops *all* of a process's locks on
a file when the process closes *any* descriptor of that file. So one stray open and close of
``library.db`` (or its ``-shm``) inside the app, by a file dialog sniffing its content or by
flowdesk itself, left the app without locks: the next ``flowdesk list`` believed it was the last
user, checkpointed and deleted the ``-wal`` under the running app, and everything the app wrote
after that went into a deleted file. These tests open and close the library in a second process,
as a person running a command beside the app does, and look at the files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowdesk.model.fileformat import WorkflowFileError
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import LibraryError
from flowdesk.store.store import Store, open_store


def _other_process_lists(path: Path) -> str:
    """`flowdesk list` in another process: it opens the library and closes it again."""
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "--db", str(path), "list"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _saved(store: Store, name: str) -> None:
    store.workflows.save(Workflow(id=f"wf_{name}", name=name))


def test_opening_the_library_a_second_time_in_the_same_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    app = open_store(path)
    try:
        _saved(app, "first")
        second = open_store(path)  # e.g. a backup or a second window on the same library
        second.close()
        assert "first" in _other_process_lists(path)
        assert _wal(path).exists(), "another process deleted the -wal while this one still had the library open"
        _saved(app, "after")
        assert "after" in _other_process_lists(path), "what this process wrote is invisible to the others"
    finally:
        app.close()


def test_a_write_after_the_wal_was_deleted_under_the_library_stops_and_says_so(tmp_path: Path) -> None:
    """If the locks are lost anyway (something outside flowdesk's control), nothing is written into a dead file."""
    path = tmp_path / "library.db"
    app = open_store(path)
    try:
        _saved(app, "kept")
        os.close(os.open(path, os.O_RDONLY))  # the pitfall itself: this process's locks on the file are gone
        _other_process_lists(path)
        assert not _wal(path).exists()  # the other process took itself for the last user
        with pytest.raises(LibraryError) as caught:
            _saved(app, "lost")
        message = str(caught.value)
        assert str(path) in message and "stopped writing" in message, message
        with pytest.raises(LibraryError):  # and it stays stopped: no later write slips through
            _saved(app, "lost_too")
    finally:
        app.close()
    listed = _other_process_lists(path)
    assert "kept" in listed and "lost" not in listed


def test_importing_the_library_itself_as_a_workflow_file_is_refused_and_keeps_the_locks(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    app = open_store(path)
    try:
        _saved(app, "first")
        for own in (path, _wal(path), path.with_name(path.name + "-shm")):
            with pytest.raises(WorkflowFileError, match="is the library's own file"):
                app.workflows.import_file(own)
        _other_process_lists(path)
        assert _wal(path).exists()
    finally:
        app.close()

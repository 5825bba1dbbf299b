"""Making a new library so that it appears whole or not at all.

SQLite makes a database file at once and fills it in a transaction: a process killed between the
two (power lost, a terminal closed on first start) leaves an empty ``library.db``, or one whose
tables live only in its ``-wal``, and the next start must refuse it, since an empty file may be
one the user gave by mistake. So a library is made under a temporary name beside its path, with
its whole schema, closed (which folds the -wal into the file), and only then linked to its name in
one step that cannot replace a library another process made first. A creation killed midway
leaves only the temporary file, which the next opening removes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import time
from pathlib import Path

from flowdesk.store.migrations import upgrade

log = logging.getLogger(__name__)

_MARK = ".creating-"
"""What names a library being made: ``library.db.creating-<pid>-<random>``."""
ABANDONED_AFTER_S = 600.0
"""A creation file this old is abandoned even if its process id is alive (reused, or on another machine)."""
_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def create_library(path: Path) -> list[int]:
    """Make a new library at ``path`` (whose folder exists); returns the schema versions applied.

    If another process makes one there first, theirs is kept and nothing is applied here.
    """
    remove_abandoned_creations(path)
    temp = path.with_name(f"{path.name}{_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        conn = sqlite3.connect(temp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")  # stays in the file's header: the library opens as WAL
            applied = upgrade(conn, 0)
        finally:
            conn.close()  # the last connection: its -wal is checkpointed into the file and removed
        return applied if _give_name(temp, path) else []
    finally:
        _remove(temp)


def _give_name(temp: Path, path: Path) -> bool:
    """Name the finished library ``path``; False if a library was already there (made by another process)."""
    try:
        os.link(temp, path)  # atomic, and never replaces an existing file
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: rename, which replaces, so look first
        if path.exists():
            return False
        os.replace(temp, path)
        return True


def remove_abandoned_creations(path: Path) -> None:
    """Remove what flowdesk processes killed while making a library at ``path`` left beside it."""
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    prefix = path.name + _MARK
    for name in names:
        if name.startswith(prefix) and not name.endswith(_SIDE_FILES[1:]) and _abandoned(path.parent / name, prefix):
            log.info("removing %s, left by a flowdesk stopped while it made the library", name)
            _remove(path.parent / name)


def _abandoned(temp: Path, prefix: str) -> bool:
    pid_text = temp.name[len(prefix) :].split("-", 1)[0]
    try:
        age = time.time() - temp.stat().st_mtime
    except OSError:
        return False  # gone already: its maker finished
    if not pid_text.isdigit() or age > ABANDONED_AFTER_S:
        return True
    if os.name == "nt":  # os.kill would end the process there, not probe it: age alone decides
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, owned by another user
    return False


def _remove(temp: Path) -> None:
    for suffix in _SIDE_FILES:
        with contextlib.suppress(FileNotFoundError):
            temp.with_name(temp.name + suffix).unlink()

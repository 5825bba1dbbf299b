"""Backing the library up and restoring it, with SQLite's online backup: safe while flowdesk runs.

A backup is a consistent copy of the library as of one moment, taken through the connection
this process already has (other processes go on reading and writing); it is written beside
its final name and renamed into place, so a half-written copy never carries the name.

A restore copies a backup *into* the library through SQLite as well, rather than swapping files
(a running flowdesk would go on writing into the file swapped out): every process using the
library sees the restored content at its next read. Before that, the library as it was is kept
as a dated copy beside it. A backup that is not a flowdesk library, is damaged, or comes from a
newer flowdesk is refused before anything changes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from flowdesk.store.database import Database, LibraryError, describe_sqlite_error, inspect_library
from flowdesk.store.files import is_library_file, read_header, regular_file_problem
from flowdesk.store.migrations import APPLICATION_ID, LATEST


def backup_library(db: Database, target: str | Path, *, replace: bool = False) -> Path:
    """Write a consistent copy of the open library to ``target``; returns its path.

    ``target`` must be a new file unless ``replace`` (the person has confirmed it); it is replaced
    only once the copy is whole.
    """
    path = Path(target).expanduser().absolute()
    if is_library_file(db.path, path):
        raise LibraryError(f"{path} is the library itself; give the backup another name")
    if path.exists() and not (replace and path.is_file()):
        raise LibraryError(f"{path} already exists; give the backup a new name (nothing was written)")
    partial = path.with_name(f".{path.name}.partial")
    try:
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            db.raw().backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise LibraryError(f"the copy of the library written to {path} did not check out; it was removed")
        finally:
            copy.close()
        os.replace(partial, path)
    except sqlite3.Error as exc:
        raise LibraryError(f"cannot back the library up to {path}: {describe_sqlite_error(exc, db.path)}") from exc
    except OSError as exc:
        raise LibraryError(f"cannot write the backup {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return path


def check_backup(library: Path, source: str | Path) -> Path:
    """``source`` as a path, after checking it is a whole flowdesk library this flowdesk can read."""
    path = Path(source).expanduser().absolute()
    if not path.exists():
        raise LibraryError(f"there is no file {path}")
    if is_library_file(library, path):
        raise LibraryError(f"{path} is the library itself, not a backup of it")
    problem = regular_file_problem(path)
    if problem:
        raise LibraryError(problem)
    header = read_header(path)
    if path.stat().st_size == 0 or not header.sqlite or header.application_id != APPLICATION_ID:
        raise LibraryError(f"{path} is not a flowdesk library backup; nothing was restored")
    version = inspect_library(path)
    if version > LATEST:
        raise LibraryError(
            f"{path} was written by a newer flowdesk (schema {version}; this flowdesk reads up to {LATEST}); "
            f"update flowdesk to restore it; nothing was restored"
        )
    return path


def kept_copy_name(library: Path) -> Path:
    """Where the library as it was is kept on a restore: ``library-before-restore-<stamp>.db``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = library.with_name(f"{library.stem}-before-restore-{stamp}{library.suffix}")
    n = 1
    while target.exists():
        n += 1
        target = library.with_name(f"{library.stem}-before-restore-{stamp}-{n}{library.suffix}")
    return target


def restore_library(library: str | Path, source: str | Path) -> Path:
    """Make the library the backup ``source``; returns where the library as it was is kept."""
    path = Path(library).expanduser().absolute()
    backup = check_backup(path, source)
    try:
        current = Database(path)
    except LibraryError:  # damaged, or not a library at all: what a restore is most often for
        return _replace_unusable(path, backup)
    try:
        kept = backup_library(current, kept_copy_name(path))
        copy = sqlite3.connect(f"file:{backup}?mode=ro", uri=True, isolation_level=None)
        try:
            copy.backup(current.raw())
        except sqlite3.Error as exc:
            raise LibraryError(f"cannot restore from {backup}: {describe_sqlite_error(exc, path)}") from exc
        finally:
            copy.close()
    finally:
        current.close()
    Database(path).close()  # an older backup is upgraded now (with its own backup first), not on next use
    return kept


def _replace_unusable(path: Path, backup: Path) -> Path:
    """A library flowdesk cannot open is moved aside (its bytes as they are, -wal too) and the backup copied in."""
    kept = kept_copy_name(path)
    try:
        os.replace(path, kept)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(path.with_name(path.name + suffix), kept.with_name(kept.name + suffix))
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True, isolation_level=None)
        target = sqlite3.connect(path, isolation_level=None)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    except (OSError, sqlite3.Error) as exc:
        raise LibraryError(f"cannot restore {path} from {backup}: {exc}") from exc
    Database(path).close()
    return kept

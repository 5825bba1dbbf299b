"""Which process runs a run: so that, after a crash, flowdesk can tell a dead run from a live one.

Each process that runs workflows holds an exclusive lock on a small file of its own in a folder
beside the library; its runs name that file's token as their owner. The operating system drops
the lock when the process dies, however it dies (kill -9 included), so "can I lock the owner's
file?" answers "is the owner gone?" without trusting process ids, which the OS reuses.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; owners are then never presumed dead
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


def owners_folder(library: Path) -> Path:
    return library.with_name(library.name + ".owners")


class Owner:
    """This process, as the owner of the runs it starts. ``release()`` when the library closes."""

    def __init__(self, folder: Path) -> None:
        self.token = uuid.uuid4().hex[:12]
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._path = folder / f"{self.token}.lock"
        self._file: IO[str] | None = self._path.open("w", encoding="utf-8")
        if fcntl is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file.write(str(os.getpid()))
        self._file.flush()

    def release(self) -> None:
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._path.unlink()
        self._file.close()
        self._file = None


def owner_is_alive(folder: Path, token: str | None) -> bool:
    """False when the process behind ``token`` is gone (its lock is free or its file removed)."""
    if not token:
        return False
    path = folder / f"{token}.lock"
    try:
        fh = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("cannot check the owner file %s: %s", path, exc)
        return True
    with fh:
        if fcntl is None:  # pragma: no cover
            return True
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    with contextlib.suppress(OSError):
        path.unlink()  # a dead process's file: tidy up
    return False

"""The library's own files, and keeping this process's hands off them: only SQLite may open them.

SQLite locks a library with POSIX advisory locks, and POSIX drops *every* lock a process holds on
a file as soon as the process closes *any* descriptor of that file. One stray ``open()`` and
``close()`` of ``library.db`` or its ``-shm`` inside a process that has the library open (a file
dialog sniffing content, a second look at the header) leaves it without locks; the next process
to close the library then believes it was the last user, checkpoints and deletes the ``-wal``
under it, and whatever the first process writes afterwards goes into a deleted file.

SQLite's own connections are safe among themselves (it keeps a descriptor open until no
connection in the process holds a lock on the file). So: flowdesk reads a library's header
itself only when this process does not hold the file (``held_here``), the rest of flowdesk
refuses to treat a library file as anything else (``is_library_file``), and ``WalWatch``
notices if the ``-wal`` was replaced anyway, so nothing is written into a file no one else
will ever read.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SIDECARS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a library (``library.db-wal`` ...)."""
OWNERS_SUFFIX = ".owners"
SQLITE_MAGIC = b"SQLite format 3\x00"


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def library_names(path: Path) -> set[str]:
    """The names of the library's files in its folder (the database, SQLite's companions, the owners folder)."""
    return {path.name, *(path.name + s for s in SIDECARS), path.name + OWNERS_SUFFIX}


def is_library_file(library: Path, candidate: str | os.PathLike[str]) -> bool:
    """True when ``candidate`` is the library, one of SQLite's files beside it, or inside its owners folder.

    Compared by device and inode (``stat`` opens nothing), so a link or another spelling of the
    path is caught as well; by name when the file is not there (yet).
    """
    chosen = Path(candidate).expanduser().absolute()
    owners = sidecar(library, OWNERS_SUFFIX)
    if owners in chosen.parents:
        return True
    if chosen.parent == library.parent and chosen.name in library_names(library):
        return True
    try:
        seen = chosen.stat()
    except OSError:
        return False
    for own in (library, *(sidecar(library, s) for s in SIDECARS)):
        try:
            mine = own.stat()
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (seen.st_dev, seen.st_ino):
            return True
    return False


def regular_file_problem(path: Path) -> str | None:
    """Why ``path`` (existing) cannot be a library file, or None: a folder, a device, a pipe, a socket."""
    st = path.stat()
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        return f"the library path {path} is a folder, not a file"
    what = "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"
    if stat.S_ISFIFO(st.st_mode):
        what = "a pipe (FIFO)"
    elif stat.S_ISSOCK(st.st_mode):
        what = "a socket"
    target = f" (it leads to {path.resolve()})" if path.is_symlink() else ""
    return f"the library path {path} is {what}{target}, not a library file; give the path of a file"


@dataclass(frozen=True)
class Header:
    """What the first 100 bytes of an SQLite file say about it (all zero for a short or empty file)."""

    sqlite: bool
    application_id: int
    user_version: int
    schema_cookie: int


def held_here(path: Path) -> bool:
    """True when this process already has ``path`` open (through SQLite): then it must not open it again.

    Looks at this process's descriptors (``fstat`` opens nothing); where they cannot be listed,
    assumes the worst.
    """
    try:
        target = path.stat()
        descriptors = os.listdir("/dev/fd")
    except OSError:
        return True
    for name in descriptors:
        try:
            st = os.fstat(int(name))
        except (OSError, ValueError):
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def read_header(path: Path) -> Header:
    """The file's SQLite header, from its bytes: recognised without SQLite opening it for real.

    Only for a file this process does not hold open (``held_here``): closing this descriptor
    would drop the process's locks on it.
    """
    with path.open("rb") as fh:
        data = fh.read(100)
    if len(data) < 100:
        return Header(data.startswith(SQLITE_MAGIC) or not data, 0, 0, 0)
    return Header(
        data.startswith(SQLITE_MAGIC),
        int.from_bytes(data[68:72], "big"),
        int.from_bytes(data[60:64], "big"),
        int.from_bytes(data[40:44], "big"),
    )


def read_header_through_sqlite(path: Path) -> Header | None:
    """The header of a file this process holds open, read by SQLite (safe: it never drops its own locks).

    ``immutable=1`` reads the main file alone: no lock, no ``-shm``. None when SQLite cannot read
    the main file alone (a WAL library whose pages are partly in its ``-wal`` only).
    """
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        values = [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("application_id", "user_version")]
        return Header(True, values[0], values[1], conn.execute("PRAGMA schema_version").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()


class WalWatch:
    """Notices when the library's ``-wal`` is no longer the file this process opened.

    While any connection has the library open SQLite never deletes its ``-wal``; only a process
    that believes it is the last user does. If that happened under us, our locks were lost, and
    every further write would go into a file no other process reads: writes stop, with a sentence.
    """

    def __init__(self, library: Path) -> None:
        self.library = library
        self.wal = sidecar(library, "-wal")
        self._wal_name = os.fspath(self.wal)
        self._identity: tuple[int, int] | None = None
        self.lost: str | None = None

    def _now(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._wal_name)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def remember(self) -> None:
        """Note the ``-wal`` this process uses (after its connection has opened it)."""
        self._identity = self._now()

    def check(self) -> None:
        """Raise (with the message for the user) when the ``-wal`` was deleted or replaced since ``remember``."""
        if self.lost is not None:
            raise WalLost(self.lost)
        if self._identity is None:
            self._identity = self._now()
            return
        if self._now() != self._identity:
            self.lost = (
                f"the library {self.library} was taken from under this flowdesk (its -wal file was deleted or "
                f"replaced by another process), so flowdesk stopped writing to it to lose nothing more; "
                f"close flowdesk and open it again"
            )
            raise WalLost(self.lost)


class WalLost(Exception):
    """The library's ``-wal`` is not the one this process writes to (see ``WalWatch``)."""

"""Opening a library file safely, and the transactions everything else in the store runs in.

Opening checks before it changes anything: a file that is not SQLite, or an SQLite file that is
not a flowdesk library, is refused with a message and left byte-for-byte untouched; a library
from a newer flowdesk is refused; an older one is backed up, then upgraded in one transaction.

Every connection runs with WAL (readers never wait for the writer), foreign keys on, a busy
timeout (a second process writing makes us wait, not fail) and synchronous=NORMAL (a commit is
durable against a crash of the program; the WAL is synced at checkpoints). Write transactions
begin IMMEDIATE, so two processes queue for the write lock up front instead of failing midway.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from flowdesk.store.creation import create_library, remove_abandoned_creations
from flowdesk.store.files import (
    Header,
    WalLost,
    WalWatch,
    held_here,
    read_header,
    read_header_through_sqlite,
    regular_file_problem,
)
from flowdesk.store.migrations import APPLICATION_ID, LATEST, backup, upgrade
from flowdesk.store.schema import read_schema, schema_problem

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 15_000
CHECKPOINT_PAGES = 10_000
"""How many pages (4 KB) the -wal may hold before a commit copies them into the library (SQLite's default: 1,000).

A run commits once per finished node, ~5 pages each, mostly the same few pages again: at SQLite's
default a 1,000-node chain paid five checkpoints (each two fsyncs and a copy) inside its commits,
a third of the journal's cost. Fewer, larger checkpoints copy each page once. A crash of the program
loses nothing either way (every commit is in the -wal); a power cut may lose the commits since the
last checkpoint, as with any synchronous=NORMAL WAL library. Once checkpointed, the -wal is cut back
to ``WAL_KEEP_BYTES``.
"""
WAL_KEEP_BYTES = 4 * 1024 * 1024
EMPTY_GRACE_S = 1.0


class LibraryError(Exception):
    """The library cannot be opened or written; the message is for the user and names the file."""


def describe_sqlite_error(exc: BaseException, path: Path) -> str:
    """A sentence a person understands for an SQLite failure, naming the library."""
    text = str(getattr(exc, "orig", None) or exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return f"the library {path} is busy: another flowdesk process kept it locked for too long; try again"
    if "disk is full" in lowered or "database or disk is full" in lowered:
        return f"the disk holding the library {path} is full; nothing was written"
    if "disk i/o error" in lowered and _disk_full(path):  # e.g. no room left to make the -shm file
        return f"the disk holding the library {path} is full; nothing was written"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the library {path} is read-only; nothing was written"
    if "unable to open" in lowered and _read_only_place(path):
        return (
            f"the library {path} is in a read-only place: flowdesk cannot write there (SQLite keeps the "
            f"library's -wal and -shm files beside it); nothing was written"
        )
    if "not a database" in lowered or "malformed" in lowered:
        return f"the library {path} is damaged or not a flowdesk library ({text})"
    if "unable to open" in lowered:
        return f"cannot open the library {path}: {text}"
    return f"the library {path} could not be used: {text}"


def _disk_full(path: Path) -> bool:
    try:
        disk = os.statvfs(path.parent)
    except OSError:
        return False
    return disk.f_bavail * disk.f_frsize < 64 * 1024


def _read_only_place(path: Path) -> bool:
    """True when the library or its folder cannot be written (a read-only disk or mount, no permission)."""
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK))


def _foreign_header(header: Header) -> bool:
    """True when an SQLite file's own header shows it is another application's database.

    Read from the main file alone, so a foreign database is recognised without SQLite opening it
    for real (opening even read-only can write to the -shm file of a WAL database). A flowdesk
    library gets its application id in the transaction that creates its first table, so a header
    with a schema (a non-zero schema cookie) or a user_version but another application id is not ours.
    """
    return header.application_id != APPLICATION_ID and bool(header.schema_cookie or header.user_version)


def inspect_library(path: Path, *, immutable: bool = False) -> int:
    """The library's schema version, after checking (read-only) that it is ours and whole.

    ``immutable`` for a library in a read-only place, where SQLite could not make its -shm.
    """
    uri = f"file:{path}?mode=ro{'&immutable=1' if immutable else ''}"
    probe = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:  # in one read transaction: another process may be creating the library right now
        probe.execute("BEGIN")
        app_id = probe.execute("PRAGMA application_id").fetchone()[0]
        version = probe.execute("PRAGMA user_version").fetchone()[0]
        found = read_schema(probe)
        probe.execute("ROLLBACK")
    finally:
        probe.close()
    if app_id != APPLICATION_ID and (found or version):
        raise LibraryError(f"{path} is an SQLite database but not a flowdesk library; it was left untouched")
    if version < 0:
        raise LibraryError(
            f"the library {path} declares schema version {version}, which no flowdesk writes: it is "
            f"damaged; it was left untouched"
        )
    problem = schema_problem(found, version) if 0 < version <= LATEST else None
    if problem:
        raise LibraryError(
            f"the library {path} is damaged: its tables do not match its schema version {version} "
            f"({problem}; changed by hand?); it was left untouched"
        )
    return version


class Database:
    """One library file: its engine, one connection, and read/write transactions."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().absolute()
        self.read_only = self.path.exists() and _read_only_place(self.path)
        """In a read-only place (read-only disk, no permission): opened to be read only, as it is."""
        self.backup_path: Path | None = None
        self.upgraded: list[int] = []
        self._prepare()
        self.engine = create_engine("sqlite://", creator=self._connect, poolclass=StaticPool, future=True)
        event.listen(self.engine, "begin", self._begin)
        try:
            self._conn: Connection = self.engine.connect()
        except DBAPIError as exc:
            self.engine.dispose()
            raise LibraryError(describe_sqlite_error(exc, self.path)) from exc
        self._depth = 0
        driver = self._conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._driver = driver
        self.wal = WalWatch(self.path)
        with contextlib.suppress(sqlite3.Error):  # a first read opens the -wal (a read-only library may have none)
            self.raw().execute("SELECT count(*) FROM sqlite_master").fetchone()
        self.wal.remember()

    # ------------------------------------------------------------ opening
    def _connect(self) -> sqlite3.Connection:
        if self.read_only:  # nothing can change it, and SQLite could not make its -shm: read the file as it is
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro&immutable=1", uri=True, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA foreign_keys = ON")
            return conn
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_KEEP_BYTES}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @staticmethod
    def _use_wal(conn: sqlite3.Connection) -> None:
        """Switch to WAL (a no-op once the file is WAL, i.e. after its first opening).

        Turning a new file into WAL needs an exclusive lock, and SQLite does not wait for it (no
        busy handler) when two connections could deadlock: two processes creating the library at
        once. Retry for as long as the busy timeout would have waited.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.005, 0.03))

    def _prepare(self) -> None:
        """Check the file is ours (or new), then bring its schema up to date.

        Its header is read here only while this process does not hold the file: see
        ``flowdesk.store.files`` for why nothing but SQLite may open a library that is in use.
        """
        if self.path.exists():
            problem = regular_file_problem(self.path)
            if problem:
                raise LibraryError(problem)
            self._refuse_empty_file()
            self._check_header()
            if not self.read_only:
                remove_abandoned_creations(self.path)
        elif self.path.is_symlink():
            raise LibraryError(f"the library path {self.path} is a link to {self.path.resolve()}, which is not there")
        else:
            self._create()
        try:
            self._check_and_upgrade()
        except sqlite3.Error as exc:
            raise LibraryError(describe_sqlite_error(exc, self.path)) from exc

    def _create(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"cannot create the library folder {self.path.parent}: {exc.strerror}") from exc
        try:
            self.upgraded = create_library(self.path)
        except sqlite3.Error as exc:
            raise LibraryError(describe_sqlite_error(exc, self.path)) from exc
        except OSError as exc:
            raise LibraryError(f"cannot create the library {self.path}: {exc.strerror}") from exc

    def _check_header(self) -> None:
        if held_here(self.path):  # this process has it open already: only SQLite may read it now
            header = read_header_through_sqlite(self.path)
            if header is None:
                return  # left to the read-only look that follows
        else:
            try:
                header = read_header(self.path)
            except OSError as exc:
                raise LibraryError(f"cannot read the library {self.path}: {exc.strerror}") from exc
        if not header.sqlite:
            raise LibraryError(f"{self.path} is not a flowdesk library (not an SQLite database); it was left untouched")
        if _foreign_header(header):
            raise LibraryError(f"{self.path} is an SQLite database but not a flowdesk library; it was left untouched")

    def _refuse_empty_file(self) -> None:
        """An empty file is not silently made a library: it may be a file given by mistake.

        Another flowdesk creating the library this very moment leaves it empty for a few
        milliseconds (SQLite makes the file, then writes its first page): a new file is given a
        moment to fill before it is refused.
        """
        deadline = time.monotonic() + EMPTY_GRACE_S
        while self.path.stat().st_size == 0:
            fresh = time.time() - self.path.stat().st_mtime < EMPTY_GRACE_S
            if not fresh or time.monotonic() > deadline:
                raise LibraryError(
                    f"{self.path} is an empty file, not a flowdesk library; it was left untouched (remove it, "
                    f"or give another path, and flowdesk makes a new library there)"
                )
            time.sleep(0.02)

    def _check_and_upgrade(self) -> None:
        # Inspect read-only first: setting WAL on someone else's database would change it.
        if self.path.exists() and self.path.stat().st_size > 0:
            version = self._inspect()
        else:
            version = 0
        self._refuse_newer(version)
        if version == LATEST:
            return
        conn = self._connect()
        try:
            while version < LATEST:
                if version > 0:
                    self.backup_path = backup(conn, self.path, version)
                    log.warning(
                        "upgrading the library %s from schema %d; backup at %s", self.path, version, self.backup_path
                    )
                try:
                    self.upgraded = upgrade(conn, version)
                    break
                except sqlite3.Error:
                    # Another process may have created or upgraded the library between our look and our
                    # write lock (two flowdesk processes started at once): look again before failing.
                    now = conn.execute("PRAGMA user_version").fetchone()[0]
                    if now == version:
                        raise
                    self._refuse_newer(now)
                    version = now
        finally:
            conn.close()

    def _inspect(self) -> int:
        if not self.read_only:
            return inspect_library(self.path)
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise LibraryError(
                f"the library {self.path} is in a read-only place and part of it is still in {wal.name}, which "
                f"only a writable place can take in; copy both files to a writable folder to open it"
            )
        version = inspect_library(self.path, immutable=True)
        if version != LATEST:
            raise LibraryError(
                f"the library {self.path} is in a read-only place and needs an upgrade (schema {version}, this "
                f"flowdesk uses {LATEST}), which cannot be written there; copy it to a writable folder to open it"
            )
        return version

    def _refuse_newer(self, version: int) -> None:
        if version > LATEST:
            raise LibraryError(
                f"the library {self.path} was written by a newer flowdesk (schema {version}; this flowdesk "
                f"reads up to {LATEST}); update flowdesk to open it"
            )

    # ------------------------------------------------------------ transactions
    def _begin(self, conn: Connection) -> None:
        mode = conn.get_execution_options().get("flowdesk_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE); nested calls join the outer one."""
        with self._transaction("IMMEDIATE") as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent snapshot to read from."""
        with self._transaction("DEFERRED") as conn:
            yield conn

    @contextmanager
    def _transaction(self, mode: str) -> Iterator[Connection]:
        if self._depth:
            self._depth += 1
            try:
                yield self._conn
            finally:
                self._depth -= 1
            return
        conn = self._conn.execution_options(flowdesk_begin=mode)
        self._depth = 1
        try:
            with conn.begin():
                if mode == "IMMEDIATE":
                    self._check_wal()
                yield conn
        except DBAPIError as exc:
            if isinstance(exc.orig, sqlite3.Error):
                raise LibraryError(describe_sqlite_error(exc, self.path)) from exc
            raise
        except sqlite3.Error as exc:  # from the recorder's driver-level statements
            raise LibraryError(describe_sqlite_error(exc, self.path)) from exc
        finally:
            self._depth = 0

    def raw_write(self) -> RawWrite:
        """A write transaction on the driver connection: the recorder's path, where every microsecond counts."""
        return RawWrite(self)

    def _check_wal(self) -> None:
        """Inside a write transaction, before anything is written: is our -wal still the library's?"""
        try:
            self.wal.check()
        except WalLost as exc:
            log.error("%s", exc)
            raise LibraryError(str(exc)) from exc

    def raw(self) -> sqlite3.Connection:
        """The driver connection, for the recorder's batched inserts (inside ``write()`` only)."""
        return self._driver

    def close(self) -> None:
        self._conn.close()
        self.engine.dispose()


class RawWrite:
    """``Database.raw_write``: BEGIN IMMEDIATE on the driver connection, COMMIT on a clean exit, else ROLLBACK.

    Nested uses join the outer transaction. SQLite's errors become a ``LibraryError`` naming the file.
    A plain class rather than a generator-based context manager: that costs a few microseconds a
    transaction, and the journal runs one per finished node."""

    __slots__ = ("_db", "_outer")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._outer = False

    def __enter__(self) -> sqlite3.Connection:
        db = self._db
        raw = db.raw()
        if db._depth:
            db._depth += 1
            return raw
        self._outer = True
        db._depth = 1
        try:
            raw.execute("BEGIN IMMEDIATE")
            db._check_wal()
        except BaseException as exc:
            db._depth = 0
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise LibraryError(describe_sqlite_error(exc, db.path)) from exc
            raise
        return raw

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        db = self._db
        if not self._outer:
            db._depth -= 1
            return
        raw = db.raw()
        try:
            if kind is None:
                raw.execute("COMMIT")
                return
            if raw.in_transaction:
                raw.execute("ROLLBACK")
        except sqlite3.Error as failed:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise LibraryError(describe_sqlite_error(failed, db.path)) from failed
        finally:
            db._depth = 0
        if isinstance(exc, sqlite3.Error):
            raise LibraryError(describe_sqlite_error(exc, db.path)) from exc

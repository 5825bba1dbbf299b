"""The library's schema: created only by migrations, matching the tables' classes, upgraded safely."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

import flowdesk.store.tables  # noqa: F401 - registers the tables on SQLModel.metadata
from flowdesk.model.workflow import Workflow
from flowdesk.store import migrations
from flowdesk.store.database import Database, LibraryError
from flowdesk.store.store import open_store


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def test_new_library_has_latest_schema_matching_the_table_classes(tmp_path: Path) -> None:
    db = Database(tmp_path / "lib.db")
    conn = db.raw()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert conn.execute("PRAGMA application_id").fetchone()[0] == migrations.APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    for name, table in SQLModel.metadata.tables.items():
        assert _columns(conn, name) == {c.name for c in table.columns}, name
    assert db.backup_path is None  # nothing to back up in a new library
    db.close()


def _old_library(path: Path) -> None:
    """A library as schema 1 left it, with a saved workflow and a finished run in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.upgrade(conn, 0, target=1)
    conn.execute("INSERT INTO blob VALUES ('h1', 2, '{}')")
    conn.execute(
        "INSERT INTO workflow (id, slug, name, created_at, updated_at, current_version) VALUES ('w', 'w', 'W', 1, 1, 1)"
    )
    conn.execute(
        "INSERT INTO workflow_version (workflow_id, version, created_at, document_hash, content_hash)"
        " VALUES ('w', 1, 1, 'h1', 'c')"
    )
    conn.execute("INSERT INTO run (id, workflow_id, status, created_at) VALUES ('r1', 'w', 'succeeded', 5)")
    conn.close()


def test_an_old_library_is_backed_up_then_upgraded_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    _old_library(path)
    before = path.read_bytes()
    db = Database(path)
    assert db.upgraded == list(range(2, migrations.LATEST + 1))
    assert db.backup_path is not None and db.backup_path.exists()
    with sqlite3.connect(db.backup_path) as copy:  # the backup is the old library, as it was
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
        assert copy.execute("SELECT id FROM run").fetchall() == [("r1",)]
    assert len(before) > 0
    conn = db.raw()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert conn.execute("SELECT id, status FROM run").fetchall() == [("r1", "succeeded")]
    assert conn.execute("SELECT workflow_id, version FROM workflow_version").fetchall() == [("w", 1)]
    assert "log" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()


def test_a_failing_upgrade_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lib.db"
    _old_library(path)
    broken = (*migrations.MIGRATIONS[:1], migrations.Migration(2, "broken", ("CREATE TABLE log (x)", "NOT SQL")))
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    with pytest.raises(LibraryError, match=str(path)):
        Database(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "log" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert conn.execute("SELECT id FROM run").fetchall() == [("r1",)]
    conn.close()


def test_a_library_from_a_newer_flowdesk_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(LibraryError, match="newer flowdesk"):
        open_store(path)
    assert path.read_bytes() == before


def test_reopening_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    store = open_store(path)
    store.workflows.save(Workflow(id="wf_a", name="A"))
    store.close()
    store = open_store(path)
    assert [w.id for w in store.workflows.list()] == ["wf_a"]
    assert store.db.upgraded == []
    store.close()


def _affinity(declared: str) -> str:
    """SQLite's type affinity of a declared type (the rules of its documentation, section 3.1)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _made_by_migrations(version: int) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.upgrade(conn, 0, target=version)
    return conn


def _disagreements(conn: sqlite3.Connection, table: Any) -> list[str]:
    """How the table a database has differs from the class's declaration of it, column by column.

    Only the columns the database has are compared (an older schema lacks later ones); column
    order is not compared, as SQLite's ADD COLUMN appends where a class declares in any order."""
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    dialect = sqlite_dialect.dialect()
    found: list[str] = []
    for _, name, declared, notnull, _, pk in conn.execute(f"PRAGMA table_info({table.name})"):
        where = f"{table.name}.{name}"
        if name not in table.c:
            found.append(f"{where} is not declared by the class")
            continue
        column = table.c[name]
        if _affinity(declared) != _affinity(column.type.compile(dialect=dialect)):
            found.append(f"{where}: {declared} on disk, {column.type} in the class")
        if bool(pk) != column.primary_key:
            found.append(f"{where}: primary key differs")
        if not column.primary_key and bool(notnull) == column.nullable:
            found.append(f"{where}: NOT NULL differs")
    return found


def test_every_frozen_migration_makes_what_the_classes_declare() -> None:
    """Each schema version's tables agree with the classes column by column: a migration that adds a
    column with another type or nullability than its class says fails here, whichever version it is."""
    from flowdesk.store.tables import TABLES

    tables = {cls.__table__.name: cls.__table__ for cls in TABLES}  # type: ignore[attr-defined]
    for migration in migrations.MIGRATIONS:
        conn = _made_by_migrations(migration.version)
        made = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert set(made) <= set(tables), f"schema {migration.version} makes tables no class declares"
        for name in made:
            assert _disagreements(conn, tables[name]) == [], f"schema {migration.version}"


def test_the_frozen_migrations_make_exactly_the_tables_the_classes_declare() -> None:
    """The classes are the one declaration; the migrations, frozen DDL, must make what they say, column by
    column, with the same keys, unique constraints and indexes."""
    from flowdesk.store.tables import TABLES

    conn = _made_by_migrations(migrations.LATEST)
    made = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert made == {cls.__table__.name for cls in TABLES}  # type: ignore[attr-defined]
    for cls in TABLES:
        table = cls.__table__  # type: ignore[attr-defined]
        assert _columns(conn, table.name) == {c.name for c in table.columns}, table.name
        assert _disagreements(conn, table) == []
        foreign = {(row[3], row[2], row[4]) for row in conn.execute(f"PRAGMA foreign_key_list({table.name})")}
        declared_fks = {(fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys}
        assert foreign == declared_fks, table.name
        unique, indexes = set(), set()
        for row in conn.execute(f"PRAGMA index_list({table.name})"):
            columns = tuple(r[2] for r in conn.execute(f"PRAGMA index_info('{row[1]}')"))
            if row[2] and row[3] == "u":  # a UNIQUE constraint of the table (not a separate index)
                unique.add(columns)
            elif row[3] == "c":  # an index made by CREATE INDEX
                indexes.add((row[1], columns, bool(row[2]), bool(row[4])))
        declared_unique = {(c.name,) for c in table.columns if c.unique}
        declared_unique |= {
            tuple(c.name for c in u.columns) for u in table.constraints if type(u).__name__ == "UniqueConstraint"
        }
        assert unique == declared_unique, table.name
        declared_indexes = {
            (i.name, tuple(c.name for c in i.columns), bool(i.unique), i.dialect_options["sqlite"]["where"] is not None)
            for i in table.indexes
        }
        assert indexes == declared_indexes, table.name

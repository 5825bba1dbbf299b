"""Statements built from the table classes, compiled once to SQLite text for the driver: the journal's path.

The recorder writes a row or two per finished node, inside a transaction it owns on the driver
connection. Executing a Core statement through SQLAlchemy costs ~20 µs a call here, against ~6 µs
for the same compiled text through the driver (measured in this package's bench, tests/bench): with
a commit per node that alone would be a fifth of the journal's budget. So the statements are built
with SQLAlchemy over the classes in ``flowdesk.store.tables`` (no SQL written by hand), compiled
once with named parameters, and run with ``execute``/``executemany`` and dicts keyed by column name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Executable
from sqlmodel import SQLModel


@dataclass(frozen=True)
class Compiled:
    """A statement's SQLite text, with ``:name`` parameters, and the values of the constants it holds."""

    sql: str
    constants: Mapping[str, Any]

    def params(self, **values: Any) -> dict[str, Any]:
        """Every parameter the text names: the constants, and ``values`` by name."""
        return {**self.constants, **values}


def compiled(statement: Executable) -> Compiled:
    """``statement`` as SQLite text for the driver; its bound constants are kept in ``constants``.

    An insert names every column with a default in the class too (SQLAlchemy fills those in when it
    executes a statement itself): their defaults are constants here."""
    done = statement.compile(dialect=sqlite.dialect(paramstyle="named"))  # type: ignore[attr-defined]
    if "POSTCOMPILE" in str(done):
        raise ValueError("an IN list cannot be compiled once for the driver: write it as OR of comparisons")
    required = {done.bind_names[bind] for bind in done.binds.values() if bind.required}
    constants = {k: v for k, v in done.params.items() if k not in required}
    table = getattr(statement, "table", None)
    if getattr(statement, "is_insert", False) and table is not None:
        for column in table.columns:
            default = column.default
            if column.name in constants and constants[column.name] is None and default is not None:
                if not default.is_scalar:
                    raise ValueError(f"{table.name}.{column.name}: only a constant default can be compiled")
                constants[column.name] = default.arg
    return Compiled(str(done), constants)


def table_of(cls: type[SQLModel]) -> Any:
    return cls.__table__  # type: ignore[attr-defined]


def insert_columns(cls: type[SQLModel], names: tuple[str, ...], *, or_ignore: bool = False) -> str:
    """An insert of ``names`` (parameters named as the columns); ``or_ignore`` skips a row whose key is there."""
    stmt = sqlite.insert(table_of(cls)).values({name: bindparam(name) for name in names})
    return compiled(stmt.on_conflict_do_nothing() if or_ignore else stmt).sql


def upsert(cls: type[SQLModel], key: tuple[str, ...], *, keep_if_null: frozenset[str], set_once: frozenset[str]) -> str:
    """An insert of every column but ``id`` that updates the row ``key`` names instead when it is there:
    ``keep_if_null`` columns keep their stored value when the new one is NULL, ``set_once`` columns keep
    the first value written. Parameters are named as the columns."""
    table = table_of(cls)
    names = tuple(c.name for c in table.columns if c.name != "id")
    stmt = sqlite.insert(table).values({name: bindparam(name) for name in names})
    updated = {
        name: func.coalesce(stmt.excluded[name], table.c[name]) if name in keep_if_null else stmt.excluded[name]
        for name in names
        if name not in key and name not in set_once
    }
    return compiled(stmt.on_conflict_do_update(index_elements=list(key), set_=updated)).sql


def column_defaults(cls: type[SQLModel]) -> dict[str, Any]:
    """Every column but ``id`` with the value the class gives it by default (None for one without)."""
    fields = cls.model_fields
    return {
        c.name: (None if fields[c.name].is_required() else fields[c.name].get_default(call_default_factory=True))
        for c in table_of(cls).columns
        if c.name != "id"
    }


def fetch_one(raw: Any, statement: Compiled, **values: Any) -> dict[str, Any] | None:
    """The first row of a driver query, by column name."""
    cursor = raw.execute(statement.sql, statement.params(**values))
    row = cursor.fetchone()
    return None if row is None else dict(zip((d[0] for d in cursor.description), row, strict=True))

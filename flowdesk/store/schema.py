"""Does a library's schema match the version it declares? Checked on every open, before anything is written.

A library whose tables were changed by hand (a table dropped and made again with other columns)
still says it is schema N; opened as if it were, ``list`` and ``import`` wrote into it and runs
failed with "table step has no column named run_id". Its tables are compared, by name and by
column, with what schema N is: the table classes (``tables.py``) for the current version, the
migrations replayed in memory for an older one.
"""

from __future__ import annotations

import functools
import sqlite3

from flowdesk.store.migrations import LATEST, upgrade
from flowdesk.store.tables import declared_columns

Schema = dict[str, tuple[str, ...]]
"""Table name -> its column names, in order."""


def read_schema(conn: sqlite3.Connection) -> Schema:
    """The tables a database has (SQLite's own, ``sqlite_*``, left out) and their columns."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
    ]
    return {name: tuple(row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')) for name in names}


@functools.cache
def expected_schema(version: int) -> Schema:
    """What a library of schema ``version`` holds: the declared classes for the current one."""
    if version == LATEST:
        return declared_columns()
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        upgrade(conn, 0, target=version)
        return read_schema(conn)
    finally:
        conn.close()


def schema_problem(found: Schema, version: int) -> str | None:
    """What differs between a library's tables and those of its schema version, or None when they match."""
    expected = expected_schema(version)
    missing = sorted(set(expected) - set(found))
    if missing:
        return f"table {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
    extra = sorted(set(found) - set(expected))
    if extra:
        return f"table {', '.join(extra)} {'does' if len(extra) == 1 else 'do'} not belong to it"
    for name, columns in sorted(expected.items()):
        if set(found[name]) != set(columns):
            gone = sorted(set(columns) - set(found[name]))
            added = sorted(set(found[name]) - set(columns))
            parts = ([f"lacks {', '.join(gone)}"] if gone else []) + ([f"has {', '.join(added)} too"] if added else [])
            return f"table {name} {' and '.join(parts)}"
    return None

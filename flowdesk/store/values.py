"""Values by content hash: each distinct JSON value is stored once, and rows refer to it.

A step's inputs and outputs are written as a small map of port name to hash. One node's output
is usually the next node's input, so a large value moving down a chain costs one blob, not one
copy per row; the same holds for the document behind many runs of one workflow version.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from hashlib import blake2b
from typing import Any

from sqlalchemy import select

from flowdesk.store.statements import insert_columns, table_of
from flowdesk.store.tables import BlobRow

_INSERT = insert_columns(BlobRow, ("hash", "size", "data"), or_ignore=True)
BLOB = table_of(BlobRow)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
"""Made once: ``json.dumps`` with these options makes a new encoder on every call (the journal calls it per port)."""


def to_json(value: Any) -> str:
    return storable(_ENCODER.encode(value))


def storable(json_text: str) -> str:
    """JSON text that UTF-8 can hold: a lone surrogate (from a response's ``"\\ud800"``) written as its escape.

    Outside string literals JSON text is ASCII, so every such character is inside one, where
    its ``\\uXXXX`` escape reads back as the very same string: nothing is lost.
    """
    if text_is_utf8(json_text):
        return json_text
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


def storable_text(text: str) -> str:
    """Free text (a log line, a message) that UTF-8 can hold: lone surrogates shown as ``\\udXXX``."""
    return text if text_is_utf8(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


def text_is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def value_text(value: Any) -> str:
    """A value as the library keeps it: its JSON text, or a readable trace of what JSON cannot hold."""
    try:
        return to_json(value)
    except (TypeError, ValueError):  # not JSON (a NaN, an object): keep a readable trace, never fail the run
        return to_json({"unserializable": repr(value)[:1000]})


def text_hash(text: str) -> str:
    return blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


_MEMO_SCALARS = frozenset({type(None), bool, int, str})
"""Values whose JSON text a memo keeps (``str`` up to ``_MEMO_STR_CHARS``): exactly these types, so ``True``
and ``1`` stay apart; floats are left out (``0.0 == -0.0`` but their texts differ)."""
_MEMO_STR_CHARS = 256
_MEMO_LIMIT = 4096


class ValueMemo:
    """The texts and hashes of small values and of port maps that a recorder met lately.

    A run's values repeat: a chain passes one value down, a node's result map names the same port
    and often the same value each time. Writing one again (JSON, then its hash) cost a chain's
    node about a tenth of its journal time; a memo hit is a dict look-up. Kept per recorder, cut
    back to empty when it holds ``_MEMO_LIMIT`` entries."""

    def __init__(self) -> None:
        self.values: dict[tuple[type, Any], tuple[str, str]] = {}
        """(type, value) -> (its hash, its JSON text)."""
        self.maps: dict[tuple[tuple[str, str], ...], str] = {}
        """((port, hash), ...) -> the JSON text of ``{port: hash}``."""

    def value(self, value: Any) -> tuple[str, str] | None:
        kind = type(value)
        if kind not in _MEMO_SCALARS or (kind is str and len(value) > _MEMO_STR_CHARS):
            return None
        key = (kind, value)
        known = self.values.get(key)
        if known is None:
            if len(self.values) >= _MEMO_LIMIT:
                self.values.clear()
            text = to_json(value)
            known = self.values[key] = (text_hash(text), text)
        return known

    def map_text(self, hashes: dict[str, str]) -> str:
        key = tuple(hashes.items())
        text = self.maps.get(key)
        if text is None:
            if len(self.maps) >= _MEMO_LIMIT:
                self.maps.clear()
            text = self.maps[key] = to_json(hashes)
        return text


class BlobBatch:
    """Values waiting to be written in the current transaction."""

    def __init__(self, known: set[str] | None = None, memo: ValueMemo | None = None) -> None:
        self._pending: dict[str, str] = {}
        self._known = known if known is not None else set()
        """Hashes already in the library (written by earlier commits): not sent again."""
        self._memo = memo if memo is not None else ValueMemo()
        self.written: list[str] = []
        self._maps: dict[int, tuple[Mapping[str, Any], dict[str, str]]] = {}
        """Hashes of value maps seen in this batch, by the map's identity (a step row and its event share one)."""

    def __bool__(self) -> bool:
        return bool(self._pending)

    def text(self, text: str) -> str:
        """Store a JSON text as it is (a workflow document); returns its hash."""
        text = storable(text)
        digest = text_hash(text)
        if digest not in self._known:
            self._pending[digest] = text
        return digest

    def value(self, value: Any) -> str:
        remembered = self._memo.value(value)
        if remembered is not None:
            digest, text = remembered
            if digest not in self._known:
                self._pending[digest] = text
            return digest
        return self.text(value_text(value))

    def value_map(self, values: Mapping[str, Any]) -> str:
        """``{name: value}`` as the JSON text of ``{name: hash}``."""
        return self._memo.map_text(self.value_hashes(values))

    def value_hashes(self, values: Mapping[str, Any]) -> dict[str, str]:
        """``{name: value}`` as ``{name: hash}``, each value stored once."""
        known = self._maps.get(id(values))
        if known is not None and known[0] is values:
            return known[1]
        hashes = {name: self.value(v) for name, v in values.items()}
        self._maps[id(values)] = (values, hashes)
        return hashes

    def flush(self, conn: sqlite3.Connection) -> None:
        if self._pending:
            conn.executemany(_INSERT, [{"hash": h, "size": len(t), "data": t} for h, t in self._pending.items()])
            self.written.extend(self._pending)
            self._pending.clear()


def load_texts(conn: Any, hashes: Iterable[str]) -> dict[str, str]:
    """The stored texts of these hashes (``conn`` is an SQLAlchemy connection)."""
    wanted = sorted(set(hashes))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in conn.execute(select(BLOB.c.hash, BLOB.c.data).where(BLOB.c.hash.in_(chunk))):
            found[row.hash] = row.data
    return found


def load_value_maps(conn: Any, maps: Iterable[str | None]) -> list[dict[str, Any]]:
    """Decode ``{name: hash}`` texts into ``{name: value}``, fetching every blob they name at once."""
    decoded = [json.loads(m) if m else {} for m in maps]
    texts = load_texts(conn, (h for d in decoded for h in d.values()))
    return [{name: json.loads(texts[h]) if h in texts else None for name, h in d.items()} for d in decoded]

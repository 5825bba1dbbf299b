"""Stable, readable identifiers for nodes and edges.

Ids are generated once, when a node or edge is created, and never change: templates refer to
``nodes.<id>.output``, so an id should read well (``llm_2``) and be a valid identifier.
"""

from __future__ import annotations

import re
from collections.abc import Collection

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)
_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_]+")


def is_valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def id_stem(text: str) -> str:
    """Turn a kind name (``acme.fetch-page``) into a usable id stem (``fetch_page``)."""
    last = text.rsplit(".", 1)[-1]
    stem = _NOT_ID_CHAR.sub("_", last).strip("_").lower() or "node"
    if stem[0].isdigit():
        stem = f"n_{stem}"
    return stem[:48]


def next_id(stem: str, taken: Collection[str]) -> str:
    """The first ``<stem>_<n>`` (n = 1, 2, ...) not in ``taken``."""
    base = id_stem(stem)
    n = 1
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"

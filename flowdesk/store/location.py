"""Where the library lives: the user's data folder, or wherever --db / FLOWDESK_DB / --profile say."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import platformdirs

DEFAULT_NAME = "library.db"


def data_dir() -> Path:
    return platformdirs.user_data_path("flowdesk", appauthor=False)


def library_path(db: str | None = None, profile: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The library file to use: ``db`` first, then ``FLOWDESK_DB``, then the profile's file in the data folder.

    A profile (``--profile`` or ``FLOWDESK_PROFILE``) keeps a separate library, e.g. ``dev`` and
    ``prod`` side by side: ``<data>/profiles/<name>/library.db``.
    """
    env = os.environ if env is None else env
    chosen = db or env.get("FLOWDESK_DB")
    if chosen:
        return Path(chosen).expanduser().absolute()
    profile = profile or env.get("FLOWDESK_PROFILE")
    if profile:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", profile):
            raise ValueError(f"a profile name is letters, digits, '.', '_' and '-', not {profile!r}")
        return data_dir() / "profiles" / profile / DEFAULT_NAME
    return data_dir() / DEFAULT_NAME

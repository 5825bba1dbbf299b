"""What a running tool may use (split from tools.py so the file tools can take it without a cycle)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ToolContext:
    """What a running tool may use: the allowed files folder (None = no file access) and a log."""

    files_root: Path | None
    log: Callable[[str], None] = field(default=lambda _message: None)

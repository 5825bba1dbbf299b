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


QUOTE_CHARS = 80
MAX_MESSAGE_CHARS = 1_000
"""A tool's error message is cut here: one that quotes a megabyte of argument must stay readable."""


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters."""
    text = repr(value) if len(str(value)) <= limit * 4 else repr(str(value)[: limit * 2])
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[0]}"


def cut_message(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return message if len(message) <= limit else f"{message[:limit]}... ({len(message) - limit:,} more characters)"

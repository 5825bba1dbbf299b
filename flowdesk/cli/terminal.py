"""Text on its way to a terminal: escaped and cut (light: the table printer of every command uses it)."""

from __future__ import annotations

import re

MAX_LINE_CHARS = 2_000
"""A line on the terminal is cut here: an error quoting a megabyte of value must stay readable."""
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_CONTROL_IN_LINE = re.compile("[\n\t]|" + _CONTROL.pattern)
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\t": "\\t"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def terminal_text(text: str, *, one_line: bool = True, limit: int | None = MAX_LINE_CHARS) -> str:
    """``text`` safe to write to a terminal: control characters from a workflow or a server (ESC
    sequences that recolour or retitle the terminal, BEL, bidi overrides, lone surrogates that
    cannot even be encoded) are shown escaped, and the text is cut to ``limit`` characters."""
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit:,} more characters)"
    return (_CONTROL_IN_LINE if one_line else _CONTROL).sub(_escape, text)


def terminal_json(text: str) -> str:
    """JSON text safe for a terminal: ``json.dumps(ensure_ascii=False)`` escapes C0 controls but
    passes C1 ones, bidi overrides and lone surrogates through; those are written as ``\\uXXXX``
    escapes, which mean the same string to any JSON reader."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

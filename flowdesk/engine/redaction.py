"""The one redaction step: every error, log line, streamed piece and output a node produces passes it.

Why here: a server that echoes the key it was sent (in a 401 body, in a debug reply) would otherwise
carry it into stderr, the run's error, the step record, the log table and the library file. The
engine scrubs what leaves a node with a :class:`Redactor` that the credential store fills with
every key it hands out, so one object knows all keys a run could leak.

Matching is by token for short keys (a key ``e`` must not turn "openai" into "op[key removed]nai"),
and by substring for keys long enough that a match cannot be chance. Besides the exact key it
finds the common encodings a server may echo: base64 (also as part of a Basic ``user:key`` pair,
at any offset), URL encoding and JSON escaping.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus

MARK = "[key removed]"
LONG = 8
"""A form this long (or longer) is replaced wherever it occurs; a shorter one only as a whole token."""
_TOKEN = "A-Za-z0-9"
_B64 = "[A-Za-z0-9+/_-]"
_HEX = re.compile(r"%[0-9A-F]{2}")


def _b64_cores(data: bytes) -> set[str]:
    """The parts of base64 text that encode ``data`` whatever comes before or after it.

    base64 works in 3-byte groups, so the characters for ``data`` depend on its offset (mod 3) in
    the encoded whole: ``user:key`` encodes the key differently from ``key`` alone. For each offset
    the groups lying wholly inside ``data`` give the same characters every time; those are kept.
    """
    cores: set[str] = set()
    for offset in range(3):
        start = (3 - offset) % 3  # first byte of data that begins a group
        whole = (len(data) - start) // 3 * 3
        if whole <= 0:
            continue
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            cores.add(encode(data[start : start + whole]).decode("ascii"))
    return cores


def encodings(secret: str) -> set[str]:
    """The forms of ``secret`` a server might send back."""
    raw = secret.encode("utf-8")
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    forms.add(json.dumps(secret)[1:-1].replace("/", "\\/"))
    forms |= {_HEX.sub(lambda m: m.group(0).lower(), form) for form in forms if "%" in form}  # %2f and %2F
    for whole in (raw, raw + b":", b":" + raw):
        forms.add(base64.b64encode(whole).decode("ascii").rstrip("="))
    return {form for form in forms if form}


def b64_cores(secret: str) -> set[str]:
    """The base64 pieces of ``secret`` long enough to look for inside any base64 text."""
    return {core for core in _b64_cores(secret.encode("utf-8")) if len(core) >= LONG}


class Redactor:
    """Knows the keys handed out in this process and removes them (in any common encoding) from text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._forms: list[str] = []
        self._pattern: re.Pattern[str] | None = None

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def add(self, secret: str) -> None:
        """Remember a key that is about to leave the process (before it is sent anywhere)."""
        if secret and secret not in self._secrets:
            self._secrets.add(secret)
            forms: set[str] = set()
            cores: set[str] = set()
            for known in self._secrets:
                forms |= encodings(known)
                cores |= b64_cores(known)
            self._forms = sorted(forms | cores, key=len, reverse=True)
            # the mark itself is matched first and kept, so redacting twice changes nothing; a base64
            # piece takes the whole base64 word around it (the rest of a Basic user:key pair)
            alternatives = [re.escape(MARK)]
            alternatives += [f"{_B64}*{re.escape(core)}{_B64}*=*" for core in sorted(cores, key=len, reverse=True)]
            alternatives += [_alternative(form) for form in sorted(forms, key=len, reverse=True)]
            self._pattern = re.compile("|".join(alternatives))

    def text(self, text: str) -> str:
        """``text`` with every known key replaced by ``[key removed]``."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(_mark, text)

    def value(self, value: Any) -> Any:
        """A JSON value with every string (keys of objects too) redacted; unchanged values are returned as is."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        return value

    def held_back(self, text: str) -> int:
        """How many characters at the end of ``text`` could be the start of a key (a stream must wait for more)."""
        longest = 0
        for form in self._forms:
            for size in range(min(len(form) - 1, len(text)), longest, -1):
                if text.endswith(form[:size]):
                    longest = size
                    break
        return longest


def _mark(_match: re.Match[str]) -> str:
    return MARK


def _alternative(form: str) -> str:
    escaped = re.escape(form)
    if len(form) >= LONG:
        return escaped
    return f"(?<![{_TOKEN}]){escaped}(?![{_TOKEN}])"


class StreamRedactor:
    """Redacts a reply that arrives in pieces: a key split across two pieces is still caught.

    It holds back the end of what came so far while that end could begin a key, and lets it go
    with the next piece or at :meth:`flush`.
    """

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._pending = ""

    def feed(self, piece: str) -> str:
        """What of the stream so far can be shown now (redacted)."""
        if not self._redactor.active:
            return piece
        text = self._redactor.text(self._pending + piece)
        keep = self._redactor.held_back(text)
        self._pending = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """The rest, at the end of the stream."""
        rest, self._pending = self._pending, ""
        return self._redactor.text(rest)

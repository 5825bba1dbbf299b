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
_WORD = re.compile(r"[A-Za-z0-9]")
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]*")
_B64_TAIL = re.compile(r"[A-Za-z0-9+/_-]*=*")
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
    """Knows the keys handed out in this process and removes them (in any common encoding) from text.

    Linear in the text: each form is looked for with ``str.find`` (most text holds none, and that
    check takes microseconds for 10 kB); only the places found are then checked and widened.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._kinds: dict[str, str] = {}
        """Each form -> 'core' (a base64 piece: the whole base64 word around it goes), 'long', 'short'."""
        self._forms: list[str] = []

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def add(self, secret: str) -> None:
        """Remember a key that is about to leave the process (before it is sent anywhere)."""
        if not secret or secret in self._secrets:
            return
        self._secrets.add(secret)
        for form in encodings(secret):
            self._kinds.setdefault(form, "long" if len(form) >= LONG else "short")
        for core in b64_cores(secret):
            self._kinds[core] = "core"
        self._forms = sorted(self._kinds, key=len, reverse=True)

    def text(self, text: str) -> str:
        """``text`` with every known key replaced by ``[key removed]``."""
        if not self._forms or not text:
            return text
        present = [form for form in self._forms if form in text]
        if not present:
            return text
        spans = []
        for form in present:
            kind = self._kinds[form]
            at = text.find(form)
            while at != -1:
                span = _span(text, at, at + len(form), kind)
                if span is not None:
                    spans.append(span)
                at = text.find(form, at + 1)
        return _replace(text, spans)

    def value(self, value: Any) -> Any:
        """A JSON value with every string (keys of objects too) redacted."""
        if not self._forms:
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


def _span(text: str, start: int, end: int, kind: str) -> tuple[int, int] | None:
    """Where a found form is to be removed: a short one only as a whole word, a base64 piece with its word."""
    if kind == "short":
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if _WORD.fullmatch(before) or _WORD.fullmatch(after):
            return None  # part of a longer word: not the key
    elif kind == "core":
        back = _B64_RUN.match(text[max(0, start - 4096) : start][::-1])
        tail = _B64_TAIL.match(text, end)
        start -= back.end() if back else 0
        end = tail.end() if tail else end
    return start, end


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the spans (merged where they overlap) replaced by the mark; marks already there stay."""
    kept = [(m.start(), m.end()) for m in re.finditer(re.escape(MARK), text)]
    spans = sorted(s for s in spans if not any(s[0] < k_end and k_start < s[1] for k_start, k_end in kept))
    if not spans:
        return text
    out: list[str] = []
    position = 0
    merged_start, merged_end = spans[0]
    for start, end in [*spans[1:], (len(text) + 1, len(text) + 1)]:
        if start <= merged_end:
            merged_end = max(merged_end, end)
            continue
        out += [text[position:merged_start], MARK]
        position = merged_end
        merged_start, merged_end = start, end
    out.append(text[position:])
    return "".join(out)


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

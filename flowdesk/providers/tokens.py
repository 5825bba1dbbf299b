"""An offline estimate of how many tokens a text costs, close to OpenAI's ``cl100k_base``.

Why an estimate: the real tokenizers (tiktoken) download their merge tables on first use, and
flowdesk must count tokens with no network (the offline provider reports usage, and the run
totals show it). Exact counts come from a real provider's own usage report; this is for the rest.

The rule, in two steps:

1. Split the text the way ``cl100k_base`` pre-splits it before BPE (the same regular expression,
   written with Python's ``re``): English contractions (``'s``, ``'ll``...); a run of letters with
   at most one leading non-letter such as the space before a word; one to three digits; a run of
   punctuation with an optional leading space; newline runs; other whitespace runs.
2. Price each piece:

   - letters: ASCII letters cost 1 token for a word of up to 7 letters, else ``ceil(n / 5)``
     (common words are single tokens; rare long words split every few letters), plus 1 per
     non-ASCII letter (CJK and similar scripts are about a token a character); at least 1;
   - digits (1-3 of them), contractions: 1;
   - punctuation: ``ceil(n / 3)`` for ASCII symbols, plus 1 per other symbol in the Basic
     Multilingual Plane and 3 per character beyond it (emoji split into byte tokens);
   - whitespace: 1 per 16 characters, at least 1.

Against known ``cl100k_base`` counts (tests/providers/test_offline.py lists them with their
sources) the estimate is within 25% on ordinary text; it is not meant for exact billing.
"""

from __future__ import annotations

import math
import re

_LETTER = r"[^\W\d_]"
_NOT_LETTER_DIGIT_NEWLINE = r"(?:[^\w\r\n]|_)"
_SYMBOL = r"(?:[^\s\w]|_)"
_PIECE = re.compile(
    r"'(?i:[sdmt]|ll|ve|re)"
    rf"|{_NOT_LETTER_DIGIT_NEWLINE}?{_LETTER}+"
    r"|\d{1,3}"
    rf"| ?{_SYMBOL}+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+"
)
_ASCII_LETTERS = re.compile(r"[A-Za-z]")
_SHORT_WORD = 7
_LETTERS_PER_TOKEN = 5
_SYMBOLS_PER_TOKEN = 3
_SPACES_PER_TOKEN = 16


def split_pieces(text: str) -> list[str]:
    """The pre-tokenizer pieces of ``text``; joined together they give ``text`` back exactly."""
    return _PIECE.findall(text)


def piece_tokens(piece: str) -> int:
    """The estimated token cost of one piece from :func:`split_pieces` (see the module's rule)."""
    if not piece:
        return 0
    if piece.isspace():
        return max(1, math.ceil(len(piece) / _SPACES_PER_TOKEN))
    if piece.isdigit() or (piece.startswith("'") and piece[1:].isalpha() and len(piece) <= 3):
        return 1
    body = piece.lstrip()
    if any(c.isalpha() for c in body):
        return _letter_tokens(body)
    return _symbol_tokens(body)


def count_tokens(text: str) -> int:
    """Estimated number of ``cl100k_base`` tokens in ``text`` (0 for the empty string)."""
    return sum(piece_tokens(piece) for piece in split_pieces(text))


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """The longest prefix of ``text`` made of whole pieces whose estimate is at most ``max_tokens``.

    A single piece longer than the whole budget (a very long word) is cut by characters, so a
    small budget still gives some text rather than none.
    """
    if max_tokens <= 0:
        return ""
    kept: list[str] = []
    used = 0
    for piece in split_pieces(text):
        cost = piece_tokens(piece)
        if used + cost > max_tokens:
            if not kept:
                kept.append(_cut_piece(piece, max_tokens))
            break
        kept.append(piece)
        used += cost
    out = "".join(kept)
    while out and count_tokens(out) > max_tokens:  # re-splitting can differ at the cut; trim to be sure
        out = out[:-1]
    return out


def _cut_piece(piece: str, max_tokens: int) -> str:
    """The longest prefix of one over-long piece whose estimate fits ``max_tokens`` (binary search)."""
    low, high = 0, len(piece)
    while low < high:
        mid = (low + high + 1) // 2
        if count_tokens(piece[:mid]) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return piece[:low]


def _letter_tokens(body: str) -> int:
    """Cost of a word: by its ASCII letters (short = 1, long = 1 per 5) plus 1 per other letter."""
    ascii_letters = len(_ASCII_LETTERS.findall(body))
    other = sum(1 for c in body if not c.isascii())
    if ascii_letters == 0:
        ascii_cost = 0
    elif ascii_letters <= _SHORT_WORD:
        ascii_cost = 1
    else:
        ascii_cost = math.ceil(ascii_letters / _LETTERS_PER_TOKEN)
    return max(1, ascii_cost + other)


def _symbol_tokens(body: str) -> int:
    """Cost of punctuation: ASCII in threes, other symbols 1 each, beyond the BMP (emoji) 3 each."""
    ascii_symbols = sum(1 for c in body if c.isascii())
    other = sum(3 if ord(c) > 0xFFFF else 1 for c in body if not c.isascii())
    return max(1, math.ceil(ascii_symbols / _SYMBOLS_PER_TOKEN) + other)

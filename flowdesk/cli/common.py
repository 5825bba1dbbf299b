"""What the library commands share: opening the library from --db/--profile, user-facing errors, tables.

The store (SQLAlchemy, SQLModel) is imported only by the commands that use it, so `flowdesk
validate`, `kinds` and `schema` start as fast as before.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from flowdesk.cli.terminal import terminal_json, terminal_text
from flowdesk.nodes.llm_contract import cost_text

if TYPE_CHECKING:
    from flowdesk.store.store import Store

EXIT_INVALID = 2


def add_executor_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        metavar="dask://HOST:PORT|local",
        help="run map items and sub-workflow calls on a Dask cluster (needs flowdesk[dask]), or 'local' here; "
        "default: the workflow's own executor setting, else this process",
    )


class CliError(Exception):
    """A problem the user can fix (a name that does not exist, a bad file): one line, then exit ``code``."""

    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.code = code


def add_library_options(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """--db and --profile: on the top-level parser, and again after a subcommand for convenience.

    On a subcommand they default to SUPPRESS, so a value given before the subcommand is kept
    unless it is given again after it.
    """
    default: Any = None if top_level else argparse.SUPPRESS
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=default,
        help="the library file to use (default: $FLOWDESK_DB, else the profile's library in the user data folder)",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        default=default,
        help="a separate library kept side by side with the default one, e.g. dev or prod ($FLOWDESK_PROFILE)",
    )


def add_live_options(parser: argparse.ArgumentParser) -> None:
    """The output options of the commands that run a workflow in the foreground."""
    parser.add_argument(
        "--json", action="store_true", help="print events as JSON lines on stderr and the result as JSON"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines, only the result")


@contextmanager
def open_library(args: argparse.Namespace) -> Iterator[Store]:
    """The library --db / FLOWDESK_DB / --profile name; a library that cannot be opened is a CliError (exit 2)."""
    from flowdesk.store.database import LibraryError
    from flowdesk.store.store import open_store

    db, profile = getattr(args, "db", None), getattr(args, "profile", None)
    if profile and not db and os.environ.get("FLOWDESK_DB"):
        print(f"flowdesk: warning: FLOWDESK_DB is set, so it is used and --profile {profile} is not", file=sys.stderr)
    try:
        store = open_store(db, profile)
    except (LibraryError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    try:
        yield store
    finally:
        store.close()


def user_error(exc: BaseException) -> tuple[str, int] | None:
    """(message, exit code) for an exception that is the user's to fix, or None for a real bug.

    Store errors carry sentences written for users (an unknown workflow or run, a run in the wrong
    state, a library that is busy, full or read-only). Their modules are looked up only in
    ``sys.modules``: if the store was never imported, the exception cannot be one of its own.
    """
    if isinstance(exc, CliError):
        return str(exc), exc.code
    user_types: list[type[BaseException]] = []
    for module, name in (
        ("flowdesk.store.database", "LibraryError"),
        ("flowdesk.store.workflows", "NotFoundError"),
        ("flowdesk.store.running", "RunStateError"),
    ):
        found = getattr(sys.modules.get(module), name, None)
        if isinstance(found, type):
            user_types.append(found)
    if isinstance(exc, tuple(user_types)):
        return str(exc), EXIT_INVALID
    return None


# ---------------------------------------------------------------- formatting
def fmt_time(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{rest:02d}s" if hours else f"{minutes}m{rest:02d}s"


def fmt_tokens(input_tokens: int, output_tokens: int) -> str:
    total = input_tokens + output_tokens
    return f"{total:,}" if total else "-"


def fmt_cost(cost: float) -> str:
    return cost_text(cost) if cost else "-"


def shorten(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO | None = None) -> None:
    """Columns padded to their widest cell; the last column is left ragged (it holds free text)."""
    out = out or sys.stdout  # a stored name may hold ESC sequences from its file: cells are escaped
    table = [[terminal_text(str(c)) for c in r] for r in [headers, *rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    for row in table:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


def print_json(value: Any) -> None:
    sys.stdout.write(terminal_json(json.dumps(value, indent=2, ensure_ascii=False, default=str)) + "\n")


def resolve_run_id(store: Store, ref: str) -> str:
    """The full id of the run ``ref`` names: an id, or a unique prefix of a top-level run's id.

    The store matches prefixes too, but a run's map items and sub-workflow runs have ids that
    start with the run's own id, so a short prefix of a run that called others always looked
    ambiguous there; here children do not count, and a truly ambiguous prefix says so.
    """
    from flowdesk.store.workflows import NotFoundError

    try:
        return store.runs.get(ref).id
    except NotFoundError:
        if len(ref) < 4:
            raise
        matches = [r.id for r in store.runs.list(limit=None) if r.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            several = ", ".join(matches[:3])
            raise CliError(f"'{ref}' is the start of several runs' ids ({several}, ...); give more of it") from None
        raise

"""Backing up and restoring the whole library from the command line: `flowdesk backup`, `restore-library`.

Both use SQLite's online backup, so they are safe while the app or a run uses the library.
Exit 0 on success, 2 with one line on stderr for anything the user can fix (a name already
taken, a file that is not a flowdesk library or comes from a newer flowdesk).
"""

from __future__ import annotations

import argparse
from typing import Any

from flowdesk.cli.common import CliError, add_library_options, open_library


def register(commands: Any) -> None:
    p = commands.add_parser(
        "backup",
        help="copy the whole library to a file (safe while flowdesk runs)",
        description="Write a consistent copy of the library (every workflow version and run) to FILE, with "
        "SQLite's online backup: the app and running workflows may go on using the library meanwhile.",
    )
    p.add_argument("file", metavar="FILE", help="the backup file to write (must not exist yet)")
    add_library_options(p)
    p.set_defaults(handler=handle_backup)

    p = commands.add_parser(
        "restore-library",
        help="make the library a backup again (the current one is kept as a dated copy)",
        description="Replace the library's content with the backup FILE (written by `flowdesk backup` or File > "
        "Back up library…). The library as it was is kept beside it as library-before-restore-<stamp>.db. A file "
        "that is not a flowdesk library, is damaged or comes from a newer flowdesk is refused.",
    )
    p.add_argument("file", metavar="FILE", help="the backup to restore")
    add_library_options(p)
    p.set_defaults(handler=handle_restore_library)


def handle_backup(args: argparse.Namespace) -> int:
    from flowdesk.store.backup import backup_library
    from flowdesk.store.database import LibraryError

    with open_library(args) as store:
        try:
            written = backup_library(store.db, args.file)
        except LibraryError as exc:
            raise CliError(str(exc)) from exc
        size = written.stat().st_size
    print(f"backed up the library {store.path} to {written} ({size / 1e6:.1f} MB)")
    return 0


def handle_restore_library(args: argparse.Namespace) -> int:
    from flowdesk.store.backup import restore_library
    from flowdesk.store.database import LibraryError
    from flowdesk.store.location import library_path

    try:
        library = library_path(getattr(args, "db", None), getattr(args, "profile", None))
        kept = restore_library(library, args.file)
    except (LibraryError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    print(f"restored the library {library} from {args.file}; the library as it was is kept as {kept}")
    return 0

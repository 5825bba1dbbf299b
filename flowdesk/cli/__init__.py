"""The `flowdesk` command line: one parser, one module per group of subcommands.

Every command prints a short, located message and exits non-zero on bad input; a traceback is
never shown to a user (unexpected errors are logged and summarised in one line).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from flowdesk import __version__
from flowdesk.cli import (
    backup,
    credentials,
    info,
    library,
    lifecycle,
    models,
    remote,
    run,
    runs,
    serve,
    show,
    stats,
    trace,
    triggers,
    validate,
)
from flowdesk.cli.common import add_library_options, user_error

log = logging.getLogger("flowdesk")

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_WAITING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowdesk",
        description="Design, run and inspect multi-step LLM workflows. Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"flowdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    add_library_options(parser, top_level=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    validate.register(commands)
    run.register(commands)
    library.register(commands)
    backup.register(commands)
    runs.register(commands)
    show.register(commands)
    info.register(commands)
    credentials.register(commands)
    models.register(commands)
    lifecycle.register(commands)
    triggers.register(commands)
    stats.register(commands)
    trace.register(commands)
    serve.register(commands)
    remote.register(commands)
    opener = commands.add_parser(
        "open",
        help="open the desktop app on a workflow",
        description="Open the desktop app on a library workflow (id or slug) or a workflow file.",
    )
    opener.add_argument("workflow", metavar="ID|SLUG|FILE")
    add_library_options(opener)
    opener.set_defaults(handler=lambda args: _open_app(parser, args, args.workflow))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command is None:
        return _open_app(parser, args)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`flowdesk show X | head`): not an error worth a word
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail again
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: one line for the user, details in the log
        log.debug("error", exc_info=True)
        known = user_error(exc)
        if known is not None:  # a sentence written for the user: an unknown name, a library that is busy
            print(f"flowdesk: {known[0]}", file=sys.stderr)
            return known[1]
        print(f"flowdesk: internal error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return EXIT_FAILED


def _open_app(parser: argparse.ArgumentParser, args: argparse.Namespace, workflow: str | None = None) -> int:
    # The layers below the window are imported before Qt is: PySide6 reads the source of every module
    # imported after it (looking for `from __feature__ import`), about 0.1 s over the store and engine.
    import flowdesk.providers.setup
    import flowdesk.store.running  # noqa: F401

    try:
        from flowdesk.ui.app import run_app
    except ImportError as exc:  # Qt's libraries missing on this machine: the commands still work
        parser.print_help(sys.stderr)
        print(f"\nflowdesk: the desktop app cannot start here ({exc}); use the commands above.", file=sys.stderr)
        return EXIT_INVALID
    return run_app([], db=args.db, profile=args.profile, open_ref=workflow)

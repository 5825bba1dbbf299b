"""A workflow's lifecycle from the command line: status, publish, tags, rename, duplicate, delete, templates.

`status` moves a workflow between draft, active and archived (only an active workflow's triggers
fire; an archived one leaves `flowdesk list` unless --all); `publish` picks the version triggers and
the API run by default, while later saves stay drafts beside it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from flowdesk.cli.common import CliError, add_library_options, open_library, print_json, print_table, shorten

STATES = ("draft", "active", "archived")


def register(commands: Any) -> None:
    p = commands.add_parser(
        "status", help="set a workflow's status", description="Set a workflow to draft, active or archived."
    )
    p.add_argument("ref", metavar="ID|SLUG")
    p.add_argument("state", choices=STATES, metavar="STATE", help="draft, active or archived")
    _finish(p, handle_status)

    p = commands.add_parser(
        "publish",
        help="make a version the one triggers and the API run",
        description="Publish a version (default: the newest): triggers and the API run it until another is "
        "published; a draft workflow becomes active.",
    )
    p.add_argument("ref", metavar="ID|SLUG")
    p.add_argument("--version", type=int, metavar="N", help="the version to publish (see `flowdesk history`)")
    _finish(p, handle_publish)

    p = commands.add_parser("tag", help="add or remove a workflow's tags", description="Add or remove tags.")
    p.add_argument("ref", metavar="ID|SLUG")
    p.add_argument("action", choices=("add", "remove"), help="add or remove")
    p.add_argument("tags", nargs="+", metavar="TAG")
    _finish(p, handle_tag)

    p = commands.add_parser(
        "rename", help="rename a workflow", description="Give a workflow a new name (its slug stays, as a handle)."
    )
    p.add_argument("ref", metavar="ID|SLUG")
    p.add_argument("name", metavar="NAME")
    _finish(p, handle_rename)

    p = commands.add_parser(
        "duplicate", help="copy a workflow", description="Save a copy of a workflow as a new draft workflow."
    )
    p.add_argument("ref", metavar="ID|SLUG")
    p.add_argument("--name", metavar="NAME", help="the copy's name (default: '<name> (copy)')")
    _finish(p, handle_duplicate)

    p = commands.add_parser(
        "delete",
        help="delete a workflow",
        description="Delete a workflow, its versions and its triggers; its runs stay, inspectable, unless --with-runs.",
    )
    p.add_argument("ref", metavar="ID|SLUG")
    p.add_argument("--with-runs", action="store_true", help="delete its runs too")
    p.add_argument("--yes", action="store_true", help="do not ask (needed when not at a terminal)")
    _finish(p, handle_delete)

    p = commands.add_parser(
        "templates",
        help="list the workflow templates",
        description="List the built-in templates and your own (saved with File > Save as template).",
    )
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=handle_templates)


def _finish(p: argparse.ArgumentParser, handler: Any) -> None:
    add_library_options(p)
    p.set_defaults(handler=handler)


def handle_status(args: argparse.Namespace) -> int:
    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        store.workflows.set_status(info.id, args.state)
    if info.status == args.state:
        print(f"{info.slug} is already {args.state}")
    else:
        print(f"{info.slug}: {info.status} -> {args.state}")
    return 0


def handle_publish(args: argparse.Namespace) -> int:
    from flowdesk.store.lifecycle import PublishRefused, publish

    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        try:
            version = publish(store.db, info.id, args.version)
        except PublishRefused as exc:
            raise CliError(str(exc)) from exc
        now = store.workflows.get(info.id)
    print(f"published version {version} of {info.slug}; triggers and the API run it ({now.status})")
    if now.status == "archived":
        print(f"note: {info.slug} is archived, so its triggers do not fire (`flowdesk status {info.slug} active`)")
    return 0


def handle_tag(args: argparse.Namespace) -> int:
    from flowdesk.store.lifecycle import change_tags

    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        if args.action == "remove":
            unknown = [t for t in args.tags if t not in info.tags]
            if unknown:
                raise CliError(f"{info.slug} has no tag {unknown[0]!r} (its tags: {', '.join(info.tags) or 'none'})")
        try:
            if args.action == "add":
                tags = change_tags(store.db, info.id, add=tuple(args.tags))
            else:
                tags = change_tags(store.db, info.id, remove=tuple(args.tags))
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    print(f"{info.slug} tags: {', '.join(tags) or '(none)'}")
    return 0


def handle_rename(args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not name:
        raise CliError("a workflow's name cannot be empty")
    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        saved = store.workflows.rename(info.id, name)
    print(f"renamed {info.slug} to {name!r} (version {saved.version}; the slug stays {info.slug})")
    return 0


def handle_duplicate(args: argparse.Namespace) -> int:
    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        saved = store.workflows.duplicate(info.id, args.name.strip() if args.name else None)
        copy = store.workflows.get(saved.workflow_id)
    print(f"duplicated {info.slug} as {copy.slug} ({copy.name!r}, a draft)")
    return 0


def handle_delete(args: argparse.Namespace) -> int:
    from flowdesk.triggers.manage import forget_secrets

    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        if not args.yes:
            if not sys.stdin.isatty():
                raise CliError(f"deleting {info.slug} needs --yes when not asked at a terminal; nothing was deleted")
            answer = input(f"delete {info.slug} ({info.name!r}, {info.current_version} version(s))? type its slug: ")
            if answer.strip() != info.slug:
                raise CliError("not confirmed; nothing was deleted", code=1)
        forget_secrets(store.db, info.id)
        runs = store.workflows.delete(info.id, with_runs=args.with_runs)
    print(f"deleted {info.slug}" + (f" and {runs} run(s)" if args.with_runs else "; its runs stay (`flowdesk runs`)"))
    return 0


def handle_templates(args: argparse.Namespace) -> int:
    from flowdesk.store.templates import list_templates

    found = list_templates()
    if args.json:
        print_json([asdict(t) | {"path": str(t.path)} for t in found])
        return 0
    rows = [[t.name, "built-in" if t.builtin else "yours", str(t.nodes), shorten(t.description, 60)] for t in found]
    print_table(["NAME", "KIND", "NODES", "DESCRIPTION"], rows)
    return 0

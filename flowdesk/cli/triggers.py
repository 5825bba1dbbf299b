"""`flowdesk triggers add|list|remove|pause|resume`: what starts a workflow's runs by itself.

The triggers are stored in the library; `flowdesk serve` fires them (only an active workflow's, and
only while not paused). A webhook's secret is printed once, when it is made.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from flowdesk.cli.common import CliError, add_library_options, fmt_time, open_library, print_json, print_table, shorten

if TYPE_CHECKING:
    from flowdesk.store.database import Database
    from flowdesk.store.triggers import TriggerInfo

DEFAULT_BASE_URL = "http://127.0.0.1:8765"  # flowdesk.triggers.manage.DEFAULT_SERVICE_URL (not imported at start)


def register(commands: Any) -> None:
    group = commands.add_parser(
        "triggers",
        help="schedules, webhooks, folders and other workflows that start runs",
        description="Manage the triggers that start a workflow's runs without a person: `flowdesk serve` fires "
        "them, for active workflows only (see `flowdesk status` and `flowdesk publish`).",
    )
    sub = group.add_subparsers(dest="triggers_command", metavar="ACTION", required=True)
    _register_add(sub)
    p = sub.add_parser("list", help="list the triggers (of one workflow)", description="List triggers, oldest first.")
    p.add_argument("workflow", nargs="?", metavar="ID|SLUG", help="only this workflow's")
    p.add_argument("--json", action="store_true", help="print as JSON")
    _finish(p, handle_list)
    for name, text in (("remove", "remove a trigger"), ("pause", "stop a trigger firing"), ("resume", "fire again")):
        p = sub.add_parser(name, help=text, description=f"{text.capitalize()} (see `flowdesk triggers list`).")
        p.add_argument("trigger", metavar="TRIGGER_ID")
        _finish(p, handle_change)


def _register_add(sub: Any) -> None:
    p = sub.add_parser(
        "add",
        help="add a trigger to a workflow",
        description="Add one trigger: a cron schedule, a fixed interval, a webhook, a folder or another workflow.",
    )
    p.add_argument("workflow", metavar="ID|SLUG", help="the workflow it starts")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--cron", metavar="EXPR", help="a cron schedule, e.g. '0 9 * * 1-5' (weekdays at 09:00)")
    kind.add_argument("--every", type=float, metavar="SECONDS", help="a fixed interval")
    kind.add_argument("--webhook", action="store_true", help="POST /hooks/ID with its secret starts a run")
    kind.add_argument("--folder", metavar="PATH", help="a file appearing in this folder starts a run")
    kind.add_argument("--after", metavar="ID|SLUG", help="this other workflow finishing starts a run")
    p.add_argument("--tz", default="UTC", metavar="ZONE", help="the cron schedule's timezone (default UTC)")
    p.add_argument(
        "--status",
        default="succeeded",
        metavar="STATUS",
        help="with --after: succeeded (default), failed, cancelled, interrupted or any",
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="INPUT=PATH",
        help="with --webhook: take this input from a dotted path of the body, e.g. repo=repository.full_name",
    )
    p.add_argument("--file-input", default="path", metavar="NAME", help="with --folder: the input given the path")
    p.add_argument(
        "--settle",
        type=float,
        metavar="SECONDS",
        help="with --folder: fire once a new file has not changed for this long (default 1)",
    )
    p.add_argument("--set", action="append", default=[], metavar="NAME=JSON", help="a fixed run input (repeatable)")
    p.add_argument(
        "--url", default=DEFAULT_BASE_URL, metavar="BASE", help="the service's address, for the webhook's URL"
    )
    p.add_argument("--json", action="store_true", help="print the trigger (with a webhook's url and secret) as JSON")
    _finish(p, handle_add)


def _finish(p: argparse.ArgumentParser, handler: Any) -> None:
    add_library_options(p)
    p.set_defaults(handler=handler)


def _pairs(items: list[str], flag: str, *, as_json: bool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CliError(f"{flag} expects NAME=VALUE, got {item!r}")
        if as_json:
            try:
                found[name.strip()] = json.loads(value)
            except ValueError:
                found[name.strip()] = value  # plain text needs no quotes
        else:
            found[name.strip()] = value.strip()
    return found


def _config(args: argparse.Namespace, db: Database) -> tuple[str, dict[str, Any]]:
    from flowdesk.triggers import manage

    fixed = _pairs(args.set, "--set", as_json=True)
    if args.cron is not None:
        return "cron", manage.cron_config(args.cron, args.tz, fixed)
    if args.every is not None:
        return "interval", manage.interval_config(args.every, fixed)
    if args.folder is not None:
        return "folder", manage.folder_config(args.folder, args.file_input, fixed, args.settle)
    if args.after is not None:
        return "after", manage.after_config(db, args.after, args.status, fixed)
    return "webhook", manage.webhook_config(_pairs(args.map, "--map", as_json=False), fixed)


def handle_add(args: argparse.Namespace) -> int:
    from flowdesk.triggers.manage import add_trigger, describe, hook_url

    with open_library(args) as store:
        info = store.workflows.get(args.workflow)
        try:
            kind, config = _config(args, store.db)
            added = add_trigger(store.db, info.id, kind, config)
        except (ValueError, OSError) as exc:
            raise CliError(str(exc)) from exc
        words = describe(added.trigger, store.db)
    trigger = added.trigger
    out: dict[str, Any] = {"id": trigger.id, "workflow": info.slug, "kind": kind, "config": config, "when": words}
    if kind == "webhook":
        out |= {"url": hook_url(trigger.id, args.url), "secret": added.secret}
    if args.json:
        print_json(out)
        return 0
    print(f"added {kind} trigger {trigger.id} to {info.slug}: {words}")
    if kind == "webhook":
        print(f"url:    {out['url']}")
        print(f"secret: {added.secret}  (shown once; send it as X-Flowdesk-Secret, or sign the body with it)")
    if info.status != "active":
        print(
            f"note: {info.slug} is {info.status}; its triggers fire once it is active (`flowdesk publish {info.slug}`)"
        )
    return 0


def handle_list(args: argparse.Namespace) -> int:
    from flowdesk.store.triggers import TriggerStore
    from flowdesk.triggers.manage import describe

    with open_library(args) as store:
        if args.workflow:
            store.workflows.get(args.workflow)  # an unknown name is an error, not an empty list
        triggers = TriggerStore(store.db).list(args.workflow)
        words = {t.id: describe(t, store.db) for t in triggers}
    if args.json:
        print_json([asdict(t) | {"when": words[t.id]} for t in triggers])
        return 0
    if not triggers:
        print("no triggers yet (add one with `flowdesk triggers add SLUG --cron|--every|--webhook|--folder|--after`)")
        return 0
    print_table(["ID", "WORKFLOW", "KIND", "STATE", "LAST FIRED", "WHEN"], [_row(t, words[t.id]) for t in triggers])
    return 0


def _row(t: TriggerInfo, words: str) -> list[str]:
    state = "paused" if t.paused else ("on" if t.workflow_status == "active" else f"off ({t.workflow_status})")
    last = fmt_time(t.last_fired_at) + (f" ({shorten(t.last_error, 50)})" if t.last_error else "")
    return [t.id, t.workflow_slug, t.kind, state, last, shorten(words, 90)]


def handle_change(args: argparse.Namespace) -> int:
    from flowdesk.store.triggers import TriggerStore
    from flowdesk.triggers.manage import remove_trigger

    action = args.triggers_command
    with open_library(args) as store:
        if action == "remove":
            try:
                gone = remove_trigger(store.db, args.trigger)
            except OSError as exc:
                raise CliError(str(exc)) from exc
            print(f"removed {gone.kind} trigger {gone.id} of {gone.workflow_slug}")
            return 0
        changed = TriggerStore(store.db).set_paused(args.trigger, action == "pause")
    print(f"{'paused' if changed.paused else 'resumed'} {changed.kind} trigger {changed.id} of {changed.workflow_slug}")
    return 0

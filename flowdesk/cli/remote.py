"""Runs from elsewhere: `flowdesk follow|cancel|pause|continue RUN` and `flowdesk inbox`.

``follow`` reads the run's journal in the library, so it follows a run of any process (the
service, the app, a foreground `flowdesk run`): 20 ms after events, up to 0.1 s between them, and
every 0.5 s once the run has been quiet for 2 s (``journal_follow.PollPace``). The actions go
through the service when it runs the run; a run owned by another process is acted on there, and
the message says so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowdesk.cli.common import (
    CliError,
    add_library_options,
    fmt_time,
    open_library,
    print_table,
    resolve_run_id,
    shorten,
)

if TYPE_CHECKING:
    from flowdesk.store.journal_follow import JournalFollower, PollPace
    from flowdesk.store.store import Store

EXIT = {"succeeded": 0, "failed": 1, "cancelled": 1, "interrupted": 1, "waiting": 3}


def register(commands: Any) -> None:
    p = commands.add_parser(
        "follow",
        help="stream a run's progress, whichever process runs it",
        description="Print a run's events as they are recorded (from the start, or only what comes with --new), "
        "until it ends. Works for runs of the service, the app or another command. Exit 0 succeeded, 1 failed, "
        "3 waiting for an approval.",
    )
    p.add_argument("run_id", metavar="RUN")
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    p.add_argument("--new", action="store_true", help="skip what was recorded before now")
    add_library_options(p)
    p.set_defaults(handler=handle_follow)
    for name, verb in (("cancel", "cancel a run"), ("pause", "pause a running run"),
                       ("continue", "continue a paused run (or resume an interrupted or failed one)")):  # fmt: skip
        p = commands.add_parser(name, help=f"{verb} that the service runs", description=f"{verb[0].upper()}{verb[1:]}"
                                " through the running `flowdesk serve`.")  # fmt: skip
        p.add_argument("run_id", metavar="RUN")
        add_library_options(p)
        p.set_defaults(handler=handle_action, action={"continue": "resume"}.get(name, name))
    p = commands.add_parser(
        "inbox",
        help="failed and waiting runs that need a person",
        description="Runs of the service that failed or were interrupted, and runs waiting for an approval, "
        "across workflows. `retry RUN` runs it again (same inputs), `resume RUN` continues it (finished nodes kept), "
        "`dismiss RUN` takes it out of the inbox.",
    )
    p.add_argument("what", nargs="?", choices=("list", "retry", "resume", "dismiss"), default="list")
    p.add_argument("run_id", nargs="?", metavar="RUN")
    p.add_argument("--json", action="store_true", help="print as JSON")
    add_library_options(p)
    p.set_defaults(handler=handle_inbox)


# ---------------------------------------------------------------- follow
def handle_follow(args: argparse.Namespace) -> int:
    from flowdesk.cli.printer import EventPrinter
    from flowdesk.store.journal_follow import JournalFollower, PollPace

    with open_library(args) as store:
        run_id = resolve_run_id(store, args.run_id)
        follower = JournalFollower(store.db, run_id)
        if args.new:
            follower.read(limit=1_000_000_000)
        printer = EventPrinter(sys.stderr, json_lines=args.json)
        if not args.json:
            print(f"following run {run_id}", file=sys.stderr)
        follow_journal(follower, printer, PollPace())
        run = store.runs.get(run_id)
        _, outputs = store.runs.run_values(run_id)
    sys.stdout.write(json.dumps(outputs, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"run {run_id} {run.status}", file=sys.stderr)
    return EXIT.get(run.status, 1)


def follow_journal(
    follower: JournalFollower, on_event: Callable[[Any], None], pace: PollPace, *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:  # fmt: skip
    """Hand each event of the run to ``on_event`` until the run ends, reading its journal at ``pace``."""
    while True:
        batch = follower.read()
        for _, event in batch.events:
            on_event(event)
        if batch.ended:
            return
        sleep(pace.next(bool(batch.events)))


# ---------------------------------------------------------------- cancel, pause, continue
def handle_action(args: argparse.Namespace) -> int:
    from flowdesk.cli.serve import call, service_for

    with open_library(args) as store:
        run_id = resolve_run_id(store, args.run_id)
        run = store.runs.get(run_id)
        service = service_for(store)
        live = run.status in ("pending", "running", "paused")
        if live and store.owner_alive(run.owner) and (service is None or run.owner != service.owner):
            raise CliError(
                f"run {run_id} is run by another flowdesk process (the app or a foreground command), not the "
                f"service; {args.action} it there"
            )
        if service is None:
            hint = " (`flowdesk resume RUN` continues it here)" if args.action == "resume" else ""
            raise CliError(f"run {run_id} is {run.status} and no flowdesk service runs on this library{hint}")
        answer = call(service, "POST", f"/api/runs/{run_id}/{args.action}")
    print(f"run {run_id}: {answer['result']}")
    return 0


# ---------------------------------------------------------------- inbox
def handle_inbox(args: argparse.Namespace) -> int:
    from flowdesk.store.queue import QueueStore

    with open_library(args) as store:
        queue = QueueStore(store.db)
        if args.what == "list":
            return _list_inbox(queue, args.json)
        if not args.run_id:
            raise CliError(f"`flowdesk inbox {args.what}` needs the run: flowdesk inbox {args.what} RUN")
        run_id = resolve_run_id(store, args.run_id)
        if args.what == "dismiss":
            if not queue.dismiss(run_id):
                raise CliError(f"run {run_id} is not a service run in the inbox")
            print(f"run {run_id} dismissed")
            return 0
        return _through_service(store, run_id, args.what)


def _list_inbox(queue: Any, as_json: bool) -> int:
    items = queue.inbox()
    if as_json:
        rows = [{"run_id": i.run.id, "workflow": i.run.workflow_name, "status": i.run.status, "trigger": i.trigger,
                 "created_at": i.run.created_at, "error": i.run.error} for i in items]  # fmt: skip
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return 0
    if not items:
        print("the inbox is empty: no failed or waiting runs")
        return 0
    print_table(
        ("RUN", "WORKFLOW", "STATUS", "TRIGGER", "CREATED", "WHY"),
        [(i.run.id, shorten(i.run.workflow_name, 30), i.run.status, i.trigger or "-", fmt_time(i.run.created_at),
          shorten(str((i.run.error or {}).get("message", "")) or _waiting_text(i.run.status), 60)) for i in items],
    )  # fmt: skip
    return 0


def _waiting_text(status: str) -> str:
    return "waiting for an approval (flowdesk approve RUN NODE)" if status == "waiting" else ""


def _through_service(store: Store, run_id: str, what: str) -> int:
    from flowdesk.cli.serve import call, require_service

    service = require_service(store, f"{what} runs from the inbox; or `flowdesk resume RUN` in the foreground")
    path = f"/api/runs/{run_id}/{'retry' if what == 'retry' else 'resume'}"
    answer = call(service, "POST", path)
    if what == "retry":
        print(answer["run_id"])
        print(f"flowdesk: run {run_id} retried as run {answer['run_id']}", file=sys.stderr)
    else:
        print(f"run {run_id}: {answer['result']}")
    return 0

"""Recorded runs from the command line: list them, and continue one (resume, approve, re-run from a node).

Continuing runs in the foreground exactly as `flowdesk run` does (same progress, result and exit
codes), because it is the same run going on, or a new one made from it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowdesk.cli.common import (
    EXIT_INVALID,
    CliError,
    add_executor_option,
    add_library_options,
    add_live_options,
    fmt_cost,
    fmt_duration,
    fmt_time,
    fmt_tokens,
    open_library,
    print_json,
    print_table,
    resolve_run_id,
    shorten,
)
from flowdesk.model.executor import chosen_executor

if TYPE_CHECKING:
    from flowdesk.engine.bus import EventBus
    from flowdesk.engine.runner import RunHandle
    from flowdesk.store.running import RunService
    from flowdesk.store.runs import RunInfo
    from flowdesk.store.store import Store


def register(commands: Any) -> None:
    p = commands.add_parser(
        "runs", help="list recorded runs", description="List recorded runs, newest first (re-runs included)."
    )
    p.add_argument("ref", nargs="?", metavar="ID|SLUG", help="only the runs of this workflow")
    p.add_argument("--status", metavar="S", help="only runs in this status (succeeded, failed, waiting, ...)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs (default 20; 0 for all)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    add_library_options(p)
    p.set_defaults(handler=handle_runs)

    p = commands.add_parser(
        "resume",
        help="continue an interrupted, failed or cancelled run",
        description="Continue a run in the foreground; nodes whose success was recorded are not run again.",
    )
    p.add_argument("run_id", metavar="RUN_ID", help="the run (a unique prefix of its id is enough)")
    _continuing(p, handle_resume)

    p = commands.add_parser(
        "approve",
        help="decide an approval a run is waiting for, and continue it",
        description="Approve (or reject) an approval node a run is waiting at, then continue the run in the "
        "foreground.",
    )
    p.add_argument("run_id", metavar="RUN_ID", help="the waiting run")
    p.add_argument("node", metavar="NODE", help="the approval node's id")
    p.add_argument("--reject", action="store_true", help="reject instead of approving")
    p.add_argument("--comment", default="", metavar="TEXT", help="a note recorded with the decision")
    _continuing(p, handle_approve)

    p = commands.add_parser(
        "rerun",
        help="run a recorded run again from one node",
        description="Start a new run, with the earlier run's inputs, of the workflow as it is now (its library's "
        "current version, or its file read again) that runs NODE and everything after it; of the nodes before, "
        "those unchanged since (with all they depend on) reuse the earlier run's results, the rest run again.",
    )
    p.add_argument("run_id", metavar="RUN_ID", help="the run to start from")
    p.add_argument("--from", dest="from_node", required=True, metavar="NODE", help="the first node to run again")
    p.add_argument(
        "--recorded", action="store_true", help="re-run the exact version the earlier run ran (for an audit)"
    )
    _continuing(p, handle_rerun)


def _continuing(p: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], int]) -> None:
    add_executor_option(p)
    add_live_options(p)
    add_library_options(p)
    p.set_defaults(handler=handler)


# ---------------------------------------------------------------- runs
def handle_runs(args: argparse.Namespace) -> int:
    from flowdesk.store.runs import RUN_STATUSES

    if args.status is not None and args.status not in RUN_STATUSES:
        raise CliError(f"--status must be one of {', '.join(RUN_STATUSES)}, not '{args.status}'")
    with open_library(args) as store:
        workflow_id = store.workflows.get(args.ref).id if args.ref else None
        found = store.runs.list(workflow_id, status=args.status, limit=args.limit or None)
    if args.json:
        print_json([r.model_dump() for r in found])
        return 0
    if not found:
        print("no runs recorded" + (" that match" if args.ref or args.status else " yet"))
        return 0
    print_table(["RUN", "WORKFLOW", "STATUS", "STARTED", "DURATION", "TOKENS", "COST"], [_run_row(r) for r in found])
    return 0


def _run_row(run: RunInfo) -> list[str]:
    what = shorten(run.workflow_name, 40)
    if run.kind == "rerun":
        what += f" (re-run of {run.parent_run_id} from {run.parent_node_id})"
    elif run.kind == "handler":
        what += f" (on-failure handler of {run.parent_run_id})"
    return [
        run.id,
        what,
        run.status,
        fmt_time(run.started_at or run.created_at),
        fmt_duration(run.duration_s) if run.finished_at else "-",
        fmt_tokens(run.input_tokens, run.output_tokens),
        fmt_cost(run.cost_usd),
    ]


# ---------------------------------------------------------------- continuing
def handle_resume(args: argparse.Namespace) -> int:
    return _continue(args, lambda service, bus, suspend: service.resume(args.run_id, bus=bus, suspend_on_wait=suspend))


def handle_approve(args: argparse.Namespace) -> int:
    comment = args.comment or ("rejected" if args.reject else "approved") + " on the command line"
    return _continue(
        args,
        lambda service, bus, suspend: service.decide(
            args.run_id, args.node, not args.reject, comment, bus=bus, suspend_on_wait=suspend
        ),
    )


def handle_rerun(args: argparse.Namespace) -> int:
    def start(service: RunService, bus: EventBus, suspend: bool) -> RunHandle:
        started = service.rerun(args.run_id, args.from_node, bus=bus, suspend_on_wait=suspend, recorded=args.recorded)
        assert started.handle is not None
        if not (args.quiet or args.json):
            print(f"flowdesk: {started.summary}", file=sys.stderr)
        return started.handle

    return _continue(args, start)


def _continue(args: argparse.Namespace, start: Callable[[RunService, EventBus, bool], RunHandle]) -> int:
    with open_library(args) as store:
        run = store.runs.get(resolve_run_id(store, args.run_id))  # an unknown run fails here, before anything starts
        args.run_id = run.id
        if args.command == "resume" and run.status == "waiting":
            status, _ = store.runs.node_results(run.id)
            node = next((n for n, s in status.items() if s == "waiting"), "NODE")
            raise CliError(f"run {run.id} is waiting for an approval; decide it: `flowdesk approve {run.id} {node}`")
        try:  # the flag, else the executor the run's workflow names ('local' forces this process)
            args.executor = chosen_executor(args.executor, store.runs.document(run.id).settings.executor)
        except ValueError as exc:
            raise CliError(f"--executor: {exc}") from None
        return asyncio.run(_follow_continued(args, store, run, start))


async def _follow_continued(
    args: argparse.Namespace, store: Store, run: RunInfo, start: Callable[[RunService, EventBus, bool], RunHandle]
) -> int:
    from flowdesk.cli.live import follow, live_options, new_bus, report_invalid, run_service
    from flowdesk.engine.runner import InvalidWorkflowError, RunInputError

    opts = live_options(args)
    async with run_service(store, executor=args.executor) as service:
        bus, events = new_bus()
        suspends = not opts.interactive  # whoever continues the run answers its approvals, or nobody can
        try:
            handle = start(service, bus, suspends)
        except (InvalidWorkflowError, RunInputError) as exc:  # e.g. a re-run of a version that needs a new input
            report_invalid(exc, f"'{run.workflow_name}'")
            return EXIT_INVALID
        return await follow(handle, events, opts, suspends=suspends)

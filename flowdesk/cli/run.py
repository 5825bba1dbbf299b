"""`flowdesk run FILE`: run a workflow file headless, with live progress, for scripts and CI.

Exit codes: 0 succeeded, 1 the run failed (or was cancelled), 2 the file or the inputs are invalid,
3 the run is waiting for an approval nobody could give, 130 interrupted with Ctrl-C (the run is
cancelled cleanly first).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flowdesk.cli.printer import EventPrinter
from flowdesk.engine.bus import EventBus
from flowdesk.engine.http import HttpxTransport
from flowdesk.engine.resolvers import FileWorkflowResolver
from flowdesk.engine.results import RunResult
from flowdesk.engine.runner import InvalidWorkflowError, RunHandle, RunInputError, start_run
from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import WorkflowFileError, read_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import default_registry
from flowdesk.nodes.tools import default_tools
from flowdesk.providers.resolver import default_providers
from flowdesk.providers.secrets import EnvironmentSecrets

EXIT = {"succeeded": 0, "failed": 1, "cancelled": 1, "waiting": 3}


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "run",
        help="run a workflow file headless",
        description="Run a workflow file with live progress; prints the run's outputs as JSON on stdout. "
        "Exit 0 succeeded, 1 failed, 2 invalid file or inputs, 3 waiting for approval, 130 interrupted.",
    )
    p.add_argument("file", metavar="FILE", help="workflow JSON file")
    p.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a run input (repeatable); converted to the input's declared type",
    )
    p.add_argument("--inputs-json", metavar="FILE", help="a JSON file with an object of run inputs")
    p.add_argument("--json", action="store_true", help="print events as JSON lines on stderr and the result as JSON")
    p.add_argument(
        "--approve",
        nargs="+",
        default=[],
        metavar="NODE",
        help="approve these approval nodes in advance ('all' for every one)",
    )
    p.add_argument("--reject", nargs="+", default=[], metavar="NODE", help="reject these approval nodes in advance")
    p.add_argument("--use-pins", action="store_true", help="use pinned outputs instead of running pinned nodes")
    p.add_argument("--files-root", metavar="DIR", help="folder the file tools may read and write")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines, only the result")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        workflow = read_workflow(args.file)
        given = _gather_inputs(args)
    except (WorkflowFileError, ValueError) as exc:
        print(f"flowdesk: {exc}", file=sys.stderr)
        return 2
    # One process, one run: everything loaded so far (modules, the workflow) lives until exit, so
    # take it out of the collector's sight; full collections during a big run then stay cheap.
    gc.collect()
    gc.freeze()
    return asyncio.run(_run(args, workflow, given))


def _gather_inputs(args: argparse.Namespace) -> dict[str, Any]:
    given: dict[str, Any] = {}
    if args.inputs_json:
        try:
            loaded = json.loads(Path(args.inputs_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{args.inputs_json}: cannot read run inputs: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.inputs_json}: expected a JSON object of inputs")
        given.update(loaded)
    for item in args.input:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--input expects NAME=VALUE, got {item!r}")
        given[name.strip()] = value
    return given


def _decisions(args: argparse.Namespace, workflow: Workflow) -> dict[str, tuple[bool, str]]:
    approval_ids = [n.id for n in workflow.nodes if n.kind == "approval"]
    decisions: dict[str, tuple[bool, str]] = {}
    for node_id in approval_ids if "all" in args.approve else args.approve:
        decisions[node_id] = (True, "approved on the command line")
    for node_id in args.reject:
        decisions[node_id] = (False, "rejected on the command line")
    unknown = sorted(set(decisions) - set(approval_ids))
    calls_others = any(n.kind in ("map", "subworkflow") for n in workflow.nodes)
    if unknown and not calls_others:  # with sub-workflows, the node may be one of theirs
        raise ValueError(
            f"'{unknown[0]}' is not an approval node of this workflow (they are: {', '.join(approval_ids) or 'none'})"
        )
    return decisions


async def _run(args: argparse.Namespace, workflow: Workflow, given: dict[str, Any]) -> int:
    registry = default_registry()
    http = HttpxTransport()
    services = EngineServices(
        providers=default_providers(),
        workflows=FileWorkflowResolver(Path(args.file).resolve().parent),
        secrets=EnvironmentSecrets(),
        tools=default_tools(),
        http=http,
        files_root=Path(args.files_root).resolve() if args.files_root else None,
    )
    interactive = sys.stdin.isatty() and not args.json
    try:
        decisions = _decisions(args, workflow)
        bus = EventBus()
        events = bus.subscribe()
        handle = start_run(
            workflow,
            registry,
            services,
            given,
            bus=bus,
            decisions=decisions,
            suspend_on_wait=not interactive,
            use_pins=args.use_pins,
            inputs_from_text=True,
        )
    except (InvalidWorkflowError, RunInputError, ValueError) as exc:
        _report_invalid(exc, args.file)
        await http.aclose()
        return 2
    interrupted = _on_ctrl_c(handle)
    printer = None if args.quiet else EventPrinter(sys.stderr, json_lines=args.json)
    try:
        await _follow(events, printer, handle, interactive)
        result = await handle.wait()
    finally:
        await http.aclose()
    _report_result(result, args.json)
    if interrupted.is_set():
        return 130
    return EXIT.get(result.status, 1)


def _on_ctrl_c(handle: RunHandle) -> asyncio.Event:
    flag = asyncio.Event()

    def cancel() -> None:
        flag.set()
        handle.cancel()

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, cancel)
    except (NotImplementedError, RuntimeError):  # not on the main thread, or Windows
        pass
    return flag


async def _follow(events: Any, printer: EventPrinter | None, handle: RunHandle, interactive: bool) -> None:
    async for event in events:
        if printer is not None:
            printer(event)
        if event.type == "node_waiting" and interactive:
            approved = await _ask(event.node_id, event.message)
            (handle.approve if approved else handle.reject)(event.node_id, "decided at the terminal")
        if event.type == "run_finished" and event.run_id == handle.run_id:
            events.close()


async def _ask(node_id: str, message: str) -> bool:
    """Ask on the terminal; the question goes to stderr so stdout stays the run's JSON result."""
    while True:
        sys.stderr.write(f"\n{message}\nApprove '{node_id}'? [y/n] ")
        sys.stderr.flush()
        answer = await asyncio.to_thread(sys.stdin.readline)
        if not answer:  # end of input: nobody can answer, so do not approve
            return False
        if answer.strip().lower() in ("y", "yes"):
            return True
        if answer.strip().lower() in ("n", "no"):
            return False


def _report_invalid(exc: Exception, file: str) -> None:
    if isinstance(exc, InvalidWorkflowError):
        print(f"flowdesk: {file} cannot run:", file=sys.stderr)
        for problem in exc.problems:
            if problem.severity == "error":
                print(f"  error: {problem.message}", file=sys.stderr)
    else:
        print(f"flowdesk: {exc}", file=sys.stderr)


def _report_result(result: RunResult, as_json: bool) -> None:
    if as_json:
        payload = {
            "run_id": result.run_id,
            "status": result.status,
            "outputs": result.outputs,
            "error": asdict(result.error) if result.error else None,
            "waiting": result.waiting,
            "usage": asdict(result.usage),
            "duration_s": result.duration_s,
            "nodes": result.node_status,
        }
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return
    sys.stdout.write(json.dumps(result.outputs, indent=2, ensure_ascii=False) + "\n")
    if result.status == "failed" and result.error:
        print(f"flowdesk: run failed: {result.error.message}", file=sys.stderr)
    elif result.status == "waiting":
        print(
            f"flowdesk: run is waiting for approval at {', '.join(result.waiting)}; "
            "run again with --approve or --reject to decide",
            file=sys.stderr,
        )
    elif result.status == "cancelled":
        print("flowdesk: run cancelled", file=sys.stderr)

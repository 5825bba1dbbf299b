"""`flowdesk run FILE|ID|SLUG`: run a workflow file or a stored workflow headless, with live progress.

Every run is recorded in the library (`flowdesk show RUN_ID` afterwards), whether it came from a
file or from the library. Exit codes: 0 succeeded, 1 the run failed (or was cancelled), 2 the
workflow or the inputs are invalid, 3 the run is waiting for an approval nobody could give (it
can be given later with `flowdesk approve`), 130 interrupted with Ctrl-C (the run is cancelled
cleanly first).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowdesk.cli.common import CliError, add_executor_option, add_library_options, add_live_options, open_library
from flowdesk.model.executor import chosen_executor
from flowdesk.model.fileformat import WorkflowFileError, read_workflow
from flowdesk.model.workflow import Workflow

if TYPE_CHECKING:
    from flowdesk.store.store import Store


@dataclass(frozen=True)
class Target:
    """What to run: the workflow, where it came from ('library' or its file's path), and a label for messages."""

    workflow: Workflow
    source: str
    version: int | None
    label: str


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "run",
        help="run a workflow file or a stored workflow headless",
        description="Run a workflow file, or a workflow of the library by id or slug, with live progress; "
        "prints the run's outputs as JSON on stdout and records the run in the library. "
        "Exit 0 succeeded, 1 failed, 2 invalid workflow or inputs, 3 waiting for approval, 130 interrupted.",
    )
    p.add_argument("target", metavar="FILE|ID|SLUG", help="a workflow JSON file, or a library workflow's id or slug")
    p.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a run input (repeatable); converted to the input's declared type",
    )
    p.add_argument("--inputs-json", metavar="FILE", help="a JSON file with an object of run inputs")
    p.add_argument("--version", type=int, metavar="N", help="a library workflow's version (default: the newest)")
    p.add_argument(
        "--approve",
        nargs="+",
        default=[],
        metavar="NODE",
        help="approve these approval nodes in advance ('all' for every one)",
    )
    p.add_argument("--reject", nargs="+", default=[], metavar="NODE", help="reject these approval nodes in advance")
    p.add_argument("--use-pins", action="store_true", help="use pinned outputs instead of running pinned nodes")
    p.add_argument(
        "--breakpoints",
        action="store_true",
        help="stop at the workflow's breakpoints (asked at a terminal); without it they are passed",
    )
    p.add_argument("--files-root", metavar="DIR", help="folder the file tools may read and write")
    add_executor_option(p)
    p.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="if a run with this key was started before, report that run instead of starting another",
    )
    p.add_argument(
        "--detach",
        action="store_true",
        help="hand the run to the running `flowdesk serve` and print its id (a file is saved into the library first)",
    )
    add_live_options(p)
    add_library_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.detach:
        from flowdesk.cli.serve import submit_detached

        return submit_detached(args)
    try:
        given = _gather_inputs(args)
        from_file = _read_file_target(args.target)
    except (WorkflowFileError, ValueError) as exc:
        print(f"flowdesk: {exc}", file=sys.stderr)
        return 2
    with open_library(args) as store:
        if from_file is not None and args.version is not None:
            print(f"flowdesk: --version is for a library workflow; {args.target} is a file", file=sys.stderr)
            return 2
        target = from_file or _stored_target(store, args.target, args.version)
        problem = files_root_problem(target.workflow, args.files_root)
        if problem is not None:
            print(f"flowdesk: {problem}", file=sys.stderr)
            return 2
        try:  # the flag, else the workflow's own setting; 'local' forces this process
            args.executor = chosen_executor(args.executor, target.workflow.settings.executor)
        except ValueError as exc:
            print(f"flowdesk: --executor: {exc}", file=sys.stderr)
            return 2
        # One process, one run: everything loaded so far (modules, the workflow) lives until exit, so
        # take it out of the collector's sight; full collections during a big run then stay cheap.
        gc.collect()
        gc.freeze()
        return asyncio.run(_run(args, store, target, given))


FILE_TOOLS = ("file_read", "file_write")


def files_root_problem(workflow: Workflow, files_root: str | None) -> str | None:
    """Why the run cannot start with this ``--files-root`` (or without one), before any node runs.

    Without the flag a file tool fails on every attempt of its node (and its retries), so say so at
    once, naming the flag. With it, the folder must exist and must not be inside flowdesk's own
    resources: the examples' data folder is part of the installation, and a run writing its report
    there changes what every later user (and test) of the examples sees."""
    from flowdesk.paths import resources_dir

    if files_root is None:
        for node in workflow.nodes:
            tool = node.config.get("tool") if node.kind == "tool" else None
            if tool in FILE_TOOLS:
                return (
                    f"node '{node.id}' uses {tool}, which only works inside a folder you choose: "
                    "give it with --files-root DIR"
                )
        return None
    root = Path(files_root).resolve()
    if not root.is_dir():
        return f"--files-root {files_root}: there is no such folder"
    resources = resources_dir().resolve()
    if root == resources or resources in root.parents:
        return (
            f"--files-root {files_root} is inside flowdesk's installed resources, which a run must not write "
            "into; copy the files the workflow needs to a folder of your own and name that folder"
        )
    return None


def _looks_like_path(text: str) -> bool:
    return text.endswith(".json") or "/" in text or os.sep in text or Path(text).exists()


def _read_file_target(text: str) -> Target | None:
    """The file ``text`` names, if it names one (a missing or bad file is a WorkflowFileError)."""
    if not _looks_like_path(text):
        return None
    path = Path(text)
    workflow = read_workflow(path)
    # the absolute path: sub-workflows resolve beside it, now and when the run is resumed later
    return Target(workflow, str(path.resolve()), None, text)


def _stored_target(store: Store, ref: str, version: int | None = None) -> Target:
    from flowdesk.store.workflows import NotFoundError

    try:
        info = store.workflows.get(ref)
    except NotFoundError as exc:
        raise CliError(
            f"there is no workflow file or library workflow '{ref}' (see `flowdesk list`, or give a path)"
        ) from exc
    if version is not None and version < 1:
        raise CliError(f"--version {version}: versions are numbered from 1 (see `flowdesk history {info.slug}`)")
    number = version or info.current_version
    workflow = store.workflows.load(info.id, number)  # an unknown version: NotFoundError says which there are
    return Target(workflow, "library", number, f"'{info.slug}'" + (f" version {number}" if version else ""))


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


async def _run(args: argparse.Namespace, store: Store, target: Target, given: dict[str, Any]) -> int:
    from flowdesk.cli.live import follow, live_options, new_bus, report_invalid, report_recorded, run_service
    from flowdesk.engine.runner import InvalidWorkflowError, RunInputError

    opts = live_options(args)
    async with run_service(store, args.files_root, executor=args.executor) as service:
        try:
            bus, events = new_bus()
            started = service.start(
                target.workflow,
                given,
                source=target.source,
                workflow_version=target.version,
                idempotency_key=args.idempotency_key or None,
                bus=bus,
                decisions=_decisions(args, target.workflow),
                suspend_on_wait=not opts.interactive,
                use_pins=args.use_pins,
                inputs_from_text=True,
            )
        except (InvalidWorkflowError, RunInputError, ValueError) as exc:
            report_invalid(exc, target.label)
            return 2
        if started.handle is None:
            assert started.existing is not None
            return report_recorded(store, started.existing, opts)
        return await follow(started.handle, events, opts, suspends=not opts.interactive)

"""`flowdesk validate FILE...`: check workflow files without running them."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from typing import Any

from flowdesk.model.fileformat import WorkflowFileError, read_workflow
from flowdesk.model.validation import Problem, validate
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import default_registry


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "validate",
        help="check workflow files",
        description="Check workflow files: format, graph, config, and the templates and expressions in them "
        "(syntax, and the run inputs, nodes and ports they name). "
        "Exit 0 when every file is valid (warnings allowed), 1 otherwise.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="workflow JSON files")
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.set_defaults(handler=handle)


def problems_of(workflow: Workflow, sources: Any = None) -> list[Problem]:
    """Everything `flowdesk validate` finds in a workflow: what `flowdesk import` refuses is what this calls an error.

    ``sources`` (a ``SourceReader``) is shared between files; one is made when not given."""
    from flowdesk.engine.source_reader import SourceReader  # Jinja: only for the commands that need it

    return validate(workflow, default_registry(), for_run=True, sources=sources or SourceReader())


def handle(args: argparse.Namespace) -> int:
    from flowdesk.engine.on_failure import handler_problems
    from flowdesk.engine.source_reader import SourceReader  # Jinja: only for the command that needs it

    sources = SourceReader()
    report: list[dict[str, Any]] = []
    failed = False
    for path in args.files:
        entry: dict[str, Any] = {"file": path, "valid": True, "problems": []}
        try:
            workflow = read_workflow(path)
        except WorkflowFileError as exc:
            entry.update(valid=False, error=str(exc))
            failed = True
            report.append(entry)
            continue
        problems = problems_of(workflow, sources)
        problems += handler_problems(workflow, functools.partial(_handler_file, source=path), default_registry())
        bad = [p for p in problems if p.severity == "error" or args.strict]
        entry["valid"] = not bad
        entry["problems"] = [p.to_json() for p in problems]
        failed = failed or bool(bad)
        report.append(entry)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_report(report)
    return 1 if failed else 0


def _handler_file(ref: str, *, source: str) -> Any:
    """A file's on-failure handler: a file beside it, as a run of that file finds it."""
    from flowdesk.engine.on_failure import read_handler_file

    return read_handler_file(ref, source)[1]


def _print_report(report: list[dict[str, Any]]) -> None:
    for entry in report:
        if "error" in entry:
            print(f"{entry['error']}", file=sys.stderr)
            continue
        problems = entry["problems"]
        errors = sum(1 for p in problems if p["severity"] == "error")
        warnings = len(problems) - errors
        verdict = "ok" if entry["valid"] else "invalid"
        summary = f"{entry['file']}: {verdict}"
        if problems:
            summary += f" ({errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)})"
        print(summary)
        for p in problems:
            where = p.get("node_id") or p.get("edge_id") or ""
            field = f" {p['field']}" if p.get("field") else ""
            print(f"  {p['severity']}: [{where}{field}] {p['message']}")

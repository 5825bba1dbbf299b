"""The workflow library from the command line: import, export, list, history, restore.

A stored workflow is named by its id or its slug (the readable handle `flowdesk list` shows).
Exit 0 on success, 2 for anything the user can fix (a bad file, an unknown workflow or version,
a library that cannot be opened), each with one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowdesk.cli.common import CliError, add_library_options, fmt_time, open_library, print_json, print_table, shorten
from flowdesk.model.fileformat import WorkflowFileError, read_workflow

if TYPE_CHECKING:
    from flowdesk.store.store import Store
    from flowdesk.store.workflows import WorkflowInfo


def register(commands: Any) -> None:
    p = commands.add_parser(
        "import",
        help="add a workflow file to the library (or save it as a new version)",
        description="Read and validate a workflow file and save it in the library. A workflow already there "
        "(same id) gets a new version if the file changed; --as-new keeps it apart as a new workflow.",
    )
    p.add_argument("file", metavar="FILE", help="workflow JSON file")
    p.add_argument("--as-new", action="store_true", help="save as a new workflow even if its id is in the library")
    p.add_argument(
        "--keep-invalid",
        action="store_true",
        help="store it even if `flowdesk validate` finds errors in it (it says how many)",
    )
    _finish(p, handle_import)

    p = commands.add_parser(
        "export",
        help="write a stored workflow as a file",
        description="Print a stored workflow as a workflow file on stdout, or write it to FILE.",
    )
    p.add_argument("ref", metavar="ID|SLUG", help="the workflow's id or slug")
    p.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")
    p.add_argument("--version", type=int, metavar="N", help="an older version (default: the current one)")
    _finish(p, handle_export)

    p = commands.add_parser(
        "list",
        help="list the workflows in the library",
        description="List the library's workflows, most recently changed first.",
    )
    p.add_argument("search", nargs="?", default="", metavar="SEARCH", help="only those whose name, slug, "
                   "description or tags contain this text")  # fmt: skip
    p.add_argument("--all", action="store_true", help="include archived workflows")
    p.add_argument("--json", action="store_true", help="print as JSON")
    _finish(p, handle_list)

    p = commands.add_parser(
        "history", help="list a workflow's saved versions", description="List every saved version, newest first."
    )
    p.add_argument("ref", metavar="ID|SLUG", help="the workflow's id or slug")
    p.add_argument("--json", action="store_true", help="print as JSON")
    _finish(p, handle_history)

    p = commands.add_parser(
        "restore",
        help="make an older version current again",
        description="Save an older version again as the newest one (history is never rewritten).",
    )
    p.add_argument("ref", metavar="ID|SLUG", help="the workflow's id or slug")
    p.add_argument("version", type=int, metavar="VERSION", help="the version to restore (see `flowdesk history`)")
    _finish(p, handle_restore)


def _finish(p: argparse.ArgumentParser, handler: Any) -> None:
    add_library_options(p)
    p.set_defaults(handler=handler)


def _errors_in(path: str) -> list[str]:
    """What `flowdesk validate` calls an error in the file, one line each (where: what)."""
    from flowdesk.cli.validate import problems_of

    try:
        workflow = read_workflow(path)
    except WorkflowFileError as exc:
        raise CliError(str(exc)) from exc
    problems = problems_of(workflow)
    return [f"{p.node_id or p.edge_id or 'workflow'}: {p.message}" for p in problems if p.severity == "error"]


def handle_import(args: argparse.Namespace) -> int:
    errors = _errors_in(args.file)
    if errors and not args.keep_invalid:
        raise CliError(
            f"{args.file} was not imported: it has {len(errors)} error(s), the first {errors[0]} (see `flowdesk "
            f"validate {args.file}`; --keep-invalid stores it anyway)"
        )
    with open_library(args) as store:
        try:
            if not args.keep_invalid:
                _refuse_invalid_references(store, args.file)
            saved = store.workflows.import_file(args.file, as_new=args.as_new)
            also = store.workflows.import_references(store.workflows.load(saved.workflow_id), Path(args.file).parent)
        except WorkflowFileError as exc:
            raise CliError(str(exc)) from exc
        info = store.workflows.get(saved.workflow_id)
        for name in also:
            print(f"imported {name} too: '{info.name}' calls it")
        stored = store.workflows.load(saved.workflow_id)
        uses = _credential_uses(stored) + _code_uses(stored, Path(args.file).parent)
    if errors:
        print(f"note: '{info.name}' is stored with {len(errors)} error(s) (see `flowdesk validate {args.file}`)")
    if saved.created:
        print(f"imported '{info.name}' as {info.slug} (version {saved.version})")
    else:
        print(f"'{info.name}' ({info.slug}) is unchanged: still version {saved.version}, nothing imported")
    for line in uses:
        print(line)
    return 0


def _refuse_invalid_references(store: Store, file: str) -> None:
    """The files an import brings along (the workflows its nodes call by file) are checked as it is."""
    for name, path in store.workflows.references_to_import(read_workflow(file), Path(file).parent):
        errors = _errors_in(str(path))
        if errors:
            raise CliError(
                f"{file} was not imported: {name}, which it calls and which would be imported with it, has "
                f"{len(errors)} error(s), the first {errors[0]} (see `flowdesk validate {path}`; --keep-invalid "
                f"stores them anyway)"
            )


def _credential_uses(workflow: Any) -> list[str]:
    """What the workflow would do with this machine's credentials (nothing when the settings cannot be read)."""
    from flowdesk.providers.credential_uses import credential_uses
    from flowdesk.providers.settings import SettingsError, load_settings

    try:
        return credential_uses(workflow, load_settings())
    except SettingsError as exc:
        return [f"(which credentials it uses could not be checked: {exc})"]


def _code_uses(workflow: Any, folder: Path) -> list[str]:
    """The nodes that would run code on this machine, its own and those of the files it calls (imported
    with it); the app asks before such a workflow first runs."""
    from flowdesk.nodes.registry import default_registry
    from flowdesk.providers.import_review import code_uses_deep, files_beside

    uses = code_uses_deep(workflow, default_registry(), files_beside(folder))
    return [f"{line} (it runs code on this machine)" for line in uses]


def handle_export(args: argparse.Namespace) -> int:
    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        try:
            text = store.workflows.export(info.id, args.output, version=args.version)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    if args.output:
        print(f"exported {info.slug} (version {args.version or info.current_version}) to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def handle_list(args: argparse.Namespace) -> int:
    with open_library(args) as store:
        workflows = store.workflows.list(args.search, include_archived=args.all)
    if args.json:
        print_json([asdict(w) for w in workflows])
        return 0
    if not workflows:
        what = f"no workflow matches '{args.search}'" if args.search else "the library has no workflows yet"
        print(f"{what} (add one with `flowdesk import FILE`)")
        return 0
    rows = [_workflow_row(w) for w in workflows]
    print_table(["SLUG", "NAME", "VERSION", "STATUS", "LAST RUN", "UPDATED"], rows)
    return 0


def _workflow_row(w: WorkflowInfo) -> list[str]:
    last_run = w.last_run_status or "-"
    return [w.slug, shorten(w.name, 40), str(w.current_version), w.status, last_run, fmt_time(w.updated_at)]


def handle_history(args: argparse.Namespace) -> int:
    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        versions = store.workflows.history(info.id)
    if args.json:
        print_json([asdict(v) for v in versions])
        return 0
    print(f"{info.name} ({info.slug})")
    rows = [
        [f"{v.version}{' *' if v.current else ''}", fmt_time(v.created_at), v.author or "-", shorten(v.summary or "-")]
        for v in versions
    ]
    print_table(["VERSION", "SAVED", "AUTHOR", "SUMMARY"], rows)
    return 0


def handle_restore(args: argparse.Namespace) -> int:
    with open_library(args) as store:
        info = store.workflows.get(args.ref)
        saved = store.workflows.restore(info.id, args.version)
    if saved.created:
        print(f"restored version {args.version} of {info.slug} as version {saved.version}")
    else:
        print(f"version {args.version} of {info.slug} is the same as the current one; nothing changed")
    return 0

"""What F5 does: check the workflow, ask for its inputs, save it, choose where it runs, start it.

Where: the workflow's own executor setting, else Settings > Execution (``cluster_runs.py``). On
this computer the run starts at once; on a Dask cluster it starts once the connection is made, off
the UI thread, with the status bar saying where it is going meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowdesk.model.validation import validate
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import LibraryError
from flowdesk.store.running import RunService
from flowdesk.store.workflows import NotFoundError
from flowdesk.ui.runs.cluster_runs import cluster_problem
from flowdesk.ui.runs.controller import RunStartError
from flowdesk.ui.runs.inputs_dialog import RunInputsDialog, example_files_folder, uses_files

if TYPE_CHECKING:
    from flowdesk.ui.runs.workbench import RunWorkbench

log = logging.getLogger(__name__)

Start = Callable[[RunService | None, str], str]
"""Starts a run (with this run service, None: the window's; where in words) and returns its id."""


def run_workflow(bench: RunWorkbench) -> None:
    """F5: a run of the open workflow, recorded in the library, shown as it goes."""
    window = bench.window
    if bench.document is None:
        return
    workflow = bench.document.workflow
    sources = window.problems.sources
    errors = [p for p in validate(workflow, bench.registry, for_run=True, sources=sources) if p.severity == "error"]
    if errors:
        first = errors[0]
        more = f" ({len(errors) - 1} more problems)" if len(errors) > 1 else ""
        window.say(f"Cannot run: {first.message}{more}")
        if first.node_id:
            bench.select_node(first.node_id)
        return
    if not window.import_guard.may_run(workflow):
        return
    asked = _ask_inputs(bench, workflow)
    if asked is None:
        return
    values, files_root = asked
    if (window.dirty or not bench.store.workflows.exists(workflow.id)) and not window.save():
        return
    workflow = bench.document.workflow  # saving may have stamped a new version on it
    try:
        version = bench.store.workflows.get(workflow.id).current_version
        executor = bench.clusters.executor_for(workflow)
    except (LibraryError, ValueError) as exc:
        window.say(f"Cannot run: {exc}")
        return

    def start(service: RunService | None, where: str) -> str:
        return bench.controller.start(
            workflow, values, version=version, files_root=files_root, validated=True, service=service, where=where
        )

    start_on(bench, executor, start, "Cannot run")


def resume_run(bench: RunWorkbench, run_id: str) -> None:
    """Continue a stopped run where its workflow's executor (else Settings > Execution) says."""
    try:
        executor = bench.clusters.executor_for(bench.store.runs.document(run_id))
    except (NotFoundError, LibraryError, ValueError) as exc:
        bench.window.say(f"Cannot resume: {exc}")
        return

    def start(service: RunService | None, where: str) -> str:
        return bench.controller.resume(run_id, service=service, where=where)

    start_on(bench, executor, start, "Cannot resume")


def decide_run(bench: RunWorkbench, run_id: str, node_id: str, approved: bool, comment: str = "") -> None:
    """Approve or reject ``node_id``: in a run this window follows, at once; a recorded waiting run
    continues where its workflow's executor (else Settings > Execution) says, as Resume does."""
    verdict = "Approved" if approved else "Rejected"

    def start(service: RunService | None, where: str) -> str:
        bench.controller.decide(run_id, node_id, approved, comment, service=service, where=where)
        bench.window.say(f"{verdict} '{node_id}'")
        return run_id

    if bench.controller.handle(run_id) is not None:  # followed here: the run itself takes the decision
        try:
            start(None, "")
        except RunStartError as exc:
            bench.window.say(f"Cannot decide: {exc}")
        return
    try:
        executor = bench.clusters.executor_for(bench.store.runs.document(run_id))
    except (NotFoundError, LibraryError, ValueError) as exc:
        bench.window.say(f"Cannot decide: {exc}")
        return
    start_on(bench, executor, start, "Cannot decide")


def rerun_run(bench: RunWorkbench, run_id: str, node_id: str, workflow: Workflow) -> None:
    """Re-run ``workflow`` (the canvas's) from ``node_id``, where its executor says."""
    try:
        executor = bench.clusters.executor_for(workflow)
    except ValueError as exc:
        bench.window.say(f"Cannot re-run: {exc}")
        return

    def start(service: RunService | None, where: str) -> str:
        return bench.controller.rerun(run_id, node_id, service=service, where=where)

    start_on(bench, executor, start, "Cannot re-run")


def start_on(bench: RunWorkbench, executor: str | None, start: Start, failed: str) -> None:
    """``start`` the run here at once, or on the cluster at ``executor`` once connected (off the UI thread).

    ``start`` gets the run service to use (None: the window's) and where in words; ``failed`` begins
    the sentence a RunStartError is told with."""
    where = bench.clusters.where(executor)

    def started(service: RunService | None) -> asyncio.Future[Any] | None:
        try:
            run_id = start(service, where)
        except RunStartError as exc:
            bench.window.say(f"{failed}: {exc}")
            return None
        return bench.controller.live[run_id].handle.task

    if executor is None:
        started(None)
        return
    bench.window.say(f"Connecting to {where}…")
    bench.status_line.show_where(f"{where} (connecting)")
    bench.connecting = asyncio.ensure_future(_on_cluster(bench, executor, started))


def _ask_inputs(bench: RunWorkbench, workflow: Workflow) -> tuple[dict[str, Any], str | None] | None:
    """The run's inputs and files folder (asked only when it has any); None when the person cancelled."""
    if not (workflow.inputs or uses_files(workflow)):
        return {}, None
    folder = ""
    if uses_files(workflow):
        try:
            folder = example_files_folder(workflow, bench.store.path.parent)
        except OSError as exc:
            log.info("no example data folder: %s", exc)
    dialog = RunInputsDialog(workflow, bench.window.settings, bench.window, default_folder=folder)
    if not dialog.exec():
        return None
    return dialog.values, dialog.files_root


async def _on_cluster(
    bench: RunWorkbench, executor: str, start: Callable[[RunService | None], asyncio.Future[Any] | None]
) -> None:
    """Connect (off the UI thread), then start the run with services that send child runs there."""
    try:
        service = await bench.clusters.service_on(executor)
    except Exception as exc:  # whatever the connection raised is one sentence for the person who pressed F5
        log.info("cannot connect to %s", executor, exc_info=True)
        bench.status_line.show_where(None)
        bench.window.say(cluster_problem(exc))
        return
    task = start(service)
    if task is None:
        bench.clusters.done(executor)
    else:
        task.add_done_callback(lambda _task: bench.clusters.done(executor))

"""A child run (map item, sub-workflow call) made on a cluster instead of in this process.

The child is checked here first (a bad workflow or input fails the node with the same sentence as
a local child, before anything is sent), then runs on a worker, and its events come back and are
emitted through the parent's outlet: the journal records them and the bus shows them as if the
child had run here. Only this process writes the library.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flowdesk.engine.events import NodeLog, Usage, event_from_json
from flowdesk.engine.plan import PlanNode
from flowdesk.engine.remote import ChildJob, ChildOutcome, RemoteChildren, RemoteError
from flowdesk.engine.results import InvalidWorkflowError, RunInputError
from flowdesk.engine.run_inputs import prepare_inputs
from flowdesk.engine.services import WorkflowResolver
from flowdesk.model.validation import has_errors, validate
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.context import NodeFailure

CALLING_KINDS = ("map", "subworkflow")
"""Node kinds whose config names another workflow (its ``workflow`` field)."""


def nested_workflows(workflow: Workflow, resolver: WorkflowResolver | None) -> dict[str, Workflow]:
    """Every workflow ``workflow`` calls, and those call in turn, by reference (resolved here, once)."""
    found: dict[str, Workflow] = {}
    todo = [workflow]
    while todo:
        for node in todo.pop().nodes:
            ref = node.config.get("workflow") if node.kind in CALLING_KINDS else None
            if not isinstance(ref, str) or not ref or ref in found or resolver is None:
                continue
            try:
                found[ref] = resolver.resolve(ref)
            except (KeyError, LookupError, OSError, ValueError):
                continue  # the worker says which reference is missing, when that node runs
            todo.append(found[ref])
    return found


async def run_remote_child(
    parent: Any, pn: PlanNode, iteration: int, job: ChildJob, ref: str, label: str, remote: RemoteChildren,
    spent: Callable[[Usage], None],
) -> dict[str, Any]:  # fmt: skip
    """Run ``job`` on the cluster and return its outputs (NodeFailure when it did not succeed).

    ``spent`` hears the child's usage whether it succeeded or not, as for a local child.
    """
    _check(parent, job.workflow, job.inputs, ref)
    try:
        outcome = await remote.run(job)
    except RemoteError as exc:
        raise NodeFailure(f"{label}: {exc}") from None
    spent(_replay(parent, job.run_id, outcome))
    _say(parent, pn, iteration, f"{label} {_where(outcome)}")
    if parent.journal is not None:  # the child is on record before the node goes on: a resume reuses it
        await parent.journal.commit()
    if outcome.status == "waiting":
        raise NodeFailure(f"{label}: workflow '{ref}' stopped at an approval; approvals are never run on a worker")
    if outcome.status != "succeeded" or outcome.outputs is None:
        raise NodeFailure(f"{label}: workflow '{ref}' {outcome.status}: {outcome.error or outcome.status}")
    return outcome.outputs


def _check(parent: Any, workflow: Workflow, inputs: dict[str, Any], ref: str) -> None:
    """Validate ``workflow`` once per run (a map sends the same one per item), and the inputs per item."""
    checked = parent.checked_children
    try:
        if checked.get(id(workflow)) is not workflow:
            problems = validate(workflow, parent.catalog, for_run=True)
            if has_errors(problems):
                raise InvalidWorkflowError(problems)
            checked[id(workflow)] = workflow  # held here, so its id cannot be reused by another
        prepare_inputs(workflow, inputs)
    except (InvalidWorkflowError, RunInputError) as exc:
        raise NodeFailure(f"workflow '{ref}' cannot run: {exc}") from exc


def _replay(parent: Any, child_id: str, outcome: ChildOutcome) -> Usage:
    """Emit the child's events here, marking where it ran; returns the child run's usage."""
    usage = Usage()
    for data in outcome.events:
        event = event_from_json(data)
        if event.run_id == child_id and event.type == "run_started":
            lost = list(outcome.lost_workers)
            event = dataclasses.replace(event, worker=outcome.worker, attempt=1 + len(lost), lost_workers=lost)
        elif event.run_id == child_id and event.type == "run_finished":
            usage = event.usage
        parent.outlet.emit(event)
    return usage


def _where(outcome: ChildOutcome) -> str:
    """Where the child ran, and the workers lost on the way: each loss is one more attempt, not a failure."""
    lost = outcome.lost_workers
    if not lost:
        return f"ran on worker {outcome.worker}"
    gone = "; ".join(f"worker {worker} was lost" for worker in lost)
    return f"ran on worker {outcome.worker} as attempt {1 + len(lost)} ({gone}; Dask ran it again)"


def _say(parent: Any, pn: PlanNode, iteration: int, message: str) -> None:
    if parent.outlet.listening:
        parent.outlet.emit(
            NodeLog(
                run_id=parent.run_id, ts=parent.services.clock.wall(), node_id=pn.id, iteration=iteration,
                message=message,
            )
        )  # fmt: skip

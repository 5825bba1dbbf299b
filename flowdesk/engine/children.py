"""Workflows run from inside a node: a subworkflow node's one run, a map node's run per item.

A child run is a run of its own (own id, own events, own record) that names its parent run and
node, shares the parent's services, bus and journal, and is cancelled with its parent. Its id is
made from its parent's, so when the parent is continued (a resume) the same child has the same id:
a child that had finished is reused from the record instead of run (and paid for) again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from flowdesk.engine.events import NodeLog, Usage
from flowdesk.engine.inline_bodies import INLINE_BODY
from flowdesk.engine.plan import PlanNode
from flowdesk.engine.remote import ChildJob
from flowdesk.engine.remote_children import nested_workflows, run_remote_child
from flowdesk.engine.results import InvalidWorkflowError, RunInputError
from flowdesk.engine.reuse import EarlierChild
from flowdesk.engine.run_inputs import prepare_inputs
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.context import NodeFailure
from flowdesk.nodes.runners.bodies import INDEX_INPUT

StartRun = Callable[..., Any]
"""``runner.start_run``, handed in by the runner (this module sits below it: no import circle)."""


async def run_child_workflow(
    parent: Any, pn: PlanNode, iteration: int, attempt: int, ref: str, inputs: dict[str, Any], label: str,
    spent: Callable[[Usage], None], *, start_run: StartRun, key: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run ``ref`` as a child of ``pn`` (a node of ``parent``, the executor's ``Run``) and return its
    outputs; its tokens and cost go to ``spent``.

    ``spent`` hears the child's usage whether it succeeded or not (a failed child's tokens were
    paid for all the same), so the calling node, and through it the parent run, count them.
    """
    services = parent.services
    depth = parent.options.depth + 1
    if depth > services.max_depth:
        raise NodeFailure(f"workflows nest more than {services.max_depth} deep (does '{ref}' call itself?)")
    inline = ref == INLINE_BODY
    workflow = parent.plan.bodies[pn.id] if inline else _resolve(services, ref)
    what = "the loop body" if inline else f"workflow '{ref}'"
    child_id = child_run_id(parent.run_id, pn.id, iteration, attempt, key or label)
    earlier = _earlier(services, workflow, child_id, inputs)
    if earlier is not None and earlier.outputs is not None:
        _say_reused(parent, pn, iteration, f"{label}: reused the finished run {child_id} of {what}")
        spent(earlier.usage)
        return dict(earlier.outputs)
    if services.remote is not None:
        workflows = nested_workflows(workflow, services.workflows)
        if services.remote.takes(workflow, workflows):
            await parent.until_unpaused()  # a paused run sends nothing new; what is on a worker finishes
            root = str(services.files_root) if services.files_root else None
            job = ChildJob(child_id, parent.run_id, pn.id, depth, workflow, dict(inputs), workflows, root)
            return await run_remote_child(parent, pn, iteration, job, ref, label, services.remote, spent)
    handle = _start_local_child(parent, pn, workflow, inputs, child_id, depth, earlier, inline, what, start_run)
    result = await _wait_for_child(parent, child_id, handle)
    spent(result.usage)
    return _outputs_of(result, label, what)


def _start_local_child(
    parent: Any, pn: PlanNode, workflow: Workflow, inputs: dict[str, Any], child_id: str, depth: int,
    earlier: Any, inline: bool, what: str, start_run: StartRun,
) -> Any:  # fmt: skip
    """Start the child here, on the parent's bus and journal; a workflow that cannot run fails the node."""
    try:
        return start_run(
            workflow,
            parent.catalog,
            parent.services,
            inputs,
            run_id=child_id,
            bus=parent.bus,
            journal=parent.journal,
            parent_run_id=parent.run_id,
            parent_node_id=pn.id,
            depth=depth,
            use_pins=False,
            prior=earlier.prior if earlier is not None else None,
            decisions=parent.options.decisions,
            # a child waits for approvals as its parent does: the parent's handle answers them
            # (decide() routes there); a suspending parent's child stops as 'waiting' instead
            suspend_on_wait=parent.options.suspend_on_wait,
            validated=inline,  # a body was validated with the file that holds it
            split_bodies=not inline,
            loop_index=int(inputs.get(INDEX_INPUT, 0)) if inline else 0,  # loop.index0 in a body: the item's
        )
    except (InvalidWorkflowError, RunInputError) as exc:
        raise NodeFailure(f"{what} cannot run: {exc}") from exc


async def _wait_for_child(parent: Any, child_id: str, handle: Any) -> Any:
    """The child's result; it pauses with its parent, and goes when the parent node is cancelled."""
    parent.children[child_id] = handle
    if parent.is_paused:
        handle.pause()
    try:
        return await handle.wait()
    except asyncio.CancelledError:  # the parent node was cancelled (or timed out): the child goes too
        handle.cancel()
        await asyncio.gather(handle.task, return_exceptions=True)
        raise
    finally:
        parent.children.pop(child_id, None)


def _outputs_of(result: Any, label: str, what: str) -> dict[str, Any]:
    """A finished child's outputs, or the node's failure in words (a waiting child cannot be kept)."""
    if result.status == "waiting":
        raise NodeFailure(
            f"{label}: {what} stopped at approval node(s) {', '.join(result.waiting)}; a run that "
            "suspends cannot keep a sub-workflow waiting, so decide them in advance (`flowdesk run --approve NODE`)"
        )
    if result.status != "succeeded":
        reason = result.error.message if result.error else result.status
        raise NodeFailure(f"{label}: {what} {result.status}: {reason}")
    return result.outputs


def _resolve(services: EngineServices, ref: str) -> Workflow:
    if services.workflows is None:
        raise NodeFailure(f"cannot find workflow '{ref}': no workflow library or folder is available to this run")
    try:
        return services.workflows.resolve(ref)
    except (KeyError, LookupError, OSError, ValueError) as exc:
        raise NodeFailure(f"cannot load workflow '{ref}': {exc}") from exc


def _earlier(
    services: EngineServices, workflow: Workflow, child_id: str, inputs: dict[str, Any]
) -> EarlierChild | None:
    """The record of this very child run from before its parent was continued, if it ran these inputs."""
    if services.earlier_children is None:
        return None
    try:
        prepared = prepare_inputs(workflow, inputs)
    except RunInputError:
        return None  # start_run says why, below
    return services.earlier_children.earlier(child_id, prepared)


def _say_reused(parent: Any, pn: PlanNode, iteration: int, message: str) -> None:
    if parent.outlet.listening:
        parent.outlet.emit(
            NodeLog(
                run_id=parent.run_id, ts=parent.services.clock.wall(), node_id=pn.id, iteration=iteration,
                message=message,
            )
        )  # fmt: skip


def child_run_id(run_id: str, node_id: str, iteration: int, attempt: int, key: str) -> str:
    """The id of the run a node starts: stable across a resume (the same item of the same attempt gets the
    same id), which is how a continued run finds the item runs that had finished."""
    return f"{run_id}.{node_id}.{iteration}.{attempt}.{key.replace(' ', '_')}"


def child_key(child_id: str) -> str:
    """The key a child run was started under, read back from its id (see :func:`child_run_id`)."""
    return child_id.rsplit(".", 1)[-1].replace("_", " ")

"""What a failed run hands its on-failure handler: the inputs a handler workflow may declare.

A workflow's ``settings.on_failure`` names another workflow that runs when a run of it fails (not
when it is cancelled). The handler is a workflow like any other; it reads the failure through run
inputs with the names below, declaring only those it uses (the others are not passed), so an
existing workflow can serve as a handler and a handler can be run by hand to try it. Starting and
recording the handler's run is the store's part (``store/failure_handler.py``): it is a run of its
own, linked to the failed one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdesk.engine.results import RunResult
from flowdesk.model.fileformat import WorkflowFileError, read_workflow
from flowdesk.model.kinds import Catalog
from flowdesk.model.problems import Problem
from flowdesk.model.types import ValueType
from flowdesk.model.validation import has_errors, validate
from flowdesk.model.workflow import Workflow

PROBLEM_CODE = "on-failure-handler"
"""The code of the problem a handler that cannot run makes (field ``settings.on_failure``)."""

HANDLER_INPUTS: dict[str, tuple[ValueType, str]] = {
    "failed_run_id": (ValueType.STRING, "the id of the run that failed"),
    "workflow_id": (ValueType.STRING, "the failed workflow's id"),
    "workflow_name": (ValueType.STRING, "the failed workflow's name"),
    "workflow_slug": (ValueType.STRING, "its library slug, or its file's path when it ran from a file"),
    "workflow_version": (ValueType.INTEGER, "the library version that ran (not given for a file: its default)"),
    "error_message": (ValueType.STRING, "why the run failed, as the run says it"),
    "error_class": (ValueType.STRING, "the error class: timeout, network, server, rate_limit, circuit_open, ..."),
    "failed_node_id": (ValueType.STRING, "the node that failed ('' when the run failed as a whole)"),
    "failed_node_name": (ValueType.STRING, "that node's title ('' likewise)"),
    "failed_node_inputs": (ValueType.OBJECT, "the values that node was given, by input port"),
    "run_inputs": (ValueType.OBJECT, "the failed run's own inputs"),
}
"""Every input a failed run gives its handler: name -> (type, meaning). The README lists them too."""


@dataclass(frozen=True)
class Failure:
    """A failed run, as its handler learns of it."""

    run_id: str
    workflow: Workflow
    slug: str
    version: int | None
    result: RunResult
    run_inputs: Mapping[str, Any] = field(default_factory=dict)
    node_inputs: Mapping[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """Every value of :data:`HANDLER_INPUTS`, by name."""
        error = self.result.error
        node_id = error.node_id if error is not None else None
        node = self.workflow.node(node_id) if node_id else None
        return {
            "failed_run_id": self.run_id,
            "workflow_id": self.workflow.id,
            "workflow_name": self.workflow.name,
            "workflow_slug": self.slug,
            "workflow_version": self.version,
            "error_message": error.message if error is not None else "the run failed",
            "error_class": error.error_class if error is not None else "node",
            "failed_node_id": node_id or "",
            "failed_node_name": node.title if node is not None else "",
            "failed_node_inputs": dict(self.node_inputs),
            "run_inputs": dict(self.run_inputs),
        }


def handler_inputs(handler: Workflow, failure: Failure) -> dict[str, Any]:
    """The failure's values the handler declares as run inputs (undeclared ones are not passed)."""
    values = failure.values()
    return {i.name: values[i.name] for i in handler.inputs if values.get(i.name) is not None}


def handler_input_problem(handler: Workflow) -> str | None:
    """Why a failed run could not start this handler (a required input it will never be given), or None."""
    for declared in handler.inputs:
        given = HANDLER_INPUTS.get(declared.name)
        if given is None:
            if declared.required and declared.default is None:
                names = ", ".join(HANDLER_INPUTS)
                return f"it requires the input '{declared.name}', which a failed run does not give (it gives: {names})"
        elif declared.type not in (given[0], ValueType.ANY):
            return (
                f"its input '{declared.name}' is declared {declared.type.value}, but a failed run gives "
                f"{given[0].value} there"
            )
    return None


@dataclass(frozen=True)
class HandledBy:
    """What became of a failed run's handler: its run (None when it could not start) and how it ended."""

    run_id: str | None
    status: str
    workflow: str
    """The handler as ``settings.on_failure`` names it."""
    message: str = ""
    """Why it could not start, or why it failed itself."""


@dataclass(frozen=True)
class HandledRunResult(RunResult):
    """A failed run's result, with its handler's."""

    handled_by: HandledBy | None = None


class HandlerError(ValueError):
    """The handler a workflow names cannot be found or cannot run; the message says which and why."""


def handler_path(ref: str, source: str) -> Path:
    """The file a workflow file's ``on_failure`` names: relative to its folder, '.json' optional."""
    path = (Path(source).parent / ref).expanduser()
    return (path if path.suffix else path.with_suffix(".json")).resolve()


def read_handler_file(ref: str, source: str) -> tuple[Path, Workflow]:
    path = handler_path(ref, source)
    if not path.is_file():
        raise HandlerError(f"there is no workflow file {path}")
    try:
        return path, read_workflow(path)
    except WorkflowFileError as exc:
        raise HandlerError(f"its file cannot be read: {exc}") from None


def handler_problems(workflow: Workflow, find: Callable[[str], Workflow], catalog: Catalog) -> list[Problem]:
    """What stops ``workflow``'s on-failure handler from running (``find`` looks it up, raising
    HandlerError), as a problem located on ``settings.on_failure``; none when it can run."""
    ref = workflow.settings.on_failure
    if not ref:
        return []
    try:
        handler = find(ref)
        errors = [p for p in validate(handler, catalog, for_run=True) if p.severity == "error"]
        if has_errors(errors):
            raise HandlerError(errors[0].message.rstrip("."))
        why = handler_input_problem(handler)
        if why is not None:
            raise HandlerError(why)
    except HandlerError as exc:
        message = f"The on-failure handler '{ref}' (settings.on_failure) cannot run: {exc}."
        return [Problem("error", PROBLEM_CODE, message, field="settings.on_failure")]
    return []

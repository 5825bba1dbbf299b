"""From what a trigger received (a webhook's JSON body, a file's path, a finished run's outputs) to
the run's inputs, checked against the inputs the workflow declares, every problem located."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.engine.results import RunInputError
from flowdesk.engine.run_inputs import prepare_inputs
from flowdesk.model.workflow import Workflow
from flowdesk.triggers.submit import TriggerRefused

_MISSING = object()


def _pick(body: Any, path: str) -> Any:
    """The value at a dotted path ('repository.full_name', 'commits.0.id'), or _MISSING."""
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def body_inputs(
    workflow: Workflow, body: Any, mapping: Mapping[str, str] | None = None, fixed: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A webhook's JSON body as the run's inputs; TriggerRefused lists every problem, each at its place.

    Without ``mapping`` the body is an object of input name -> value, and a name that is not a
    declared input is refused (a typo would otherwise be dropped unseen). With ``mapping`` (input
    name -> dotted path in the body, for payloads another program shapes, e.g. GitHub's) only the
    mapped paths are read and the rest of the body is ignored. ``fixed`` (the trigger's own inputs)
    fill in what the body does not give.
    """
    if not isinstance(body, dict):
        raise TriggerRefused([("body", f"expected a JSON object of run inputs, got {type(body).__name__}")])
    declared = {i.name for i in workflow.inputs}
    problems: list[tuple[str, str]] = []
    given: dict[str, Any] = {}
    if mapping:
        for name, path in mapping.items():
            value = _pick(body, path)
            if value is _MISSING:
                problems.append((f"body.{path}", f"missing (mapped to input '{name}')"))
            else:
                given[name] = value
    else:
        for name in sorted(set(body) - declared):
            problems.append(
                (f"body.{name}", f"not an input of this workflow (its inputs: {', '.join(sorted(declared)) or 'none'})")
            )
        given = {k: v for k, v in body.items() if k in declared}
    given = {**(fixed or {}), **given}
    problems += _value_problems(workflow, given, prefix="body.")
    if problems:
        raise TriggerRefused(problems)
    return given


def matching_inputs(workflow: Workflow, values: Mapping[str, Any]) -> dict[str, Any]:
    """Those of ``values`` (a finished run's outputs) whose names the workflow declares as inputs."""
    declared = {i.name for i in workflow.inputs}
    return {k: v for k, v in values.items() if k in declared}


def check_inputs(workflow: Workflow, given: Mapping[str, Any], where: str = "inputs.") -> None:
    """TriggerRefused when ``given`` cannot start a run of ``workflow`` (wrong types, required ones missing)."""
    problems = _value_problems(workflow, given, prefix=where)
    if problems:
        raise TriggerRefused(problems)


def _value_problems(workflow: Workflow, given: Mapping[str, Any], *, prefix: str) -> list[tuple[str, str]]:
    """Each declared input checked alone by the runner's own rules, so every bad one is reported at once."""
    problems = []
    for spec in workflow.inputs:
        alone = workflow.model_copy(update={"inputs": [spec]})
        try:
            prepare_inputs(alone, {spec.name: given[spec.name]} if spec.name in given else {})
        except RunInputError as exc:
            problems.append((f"{prefix}{spec.name}", str(exc)))
    return problems

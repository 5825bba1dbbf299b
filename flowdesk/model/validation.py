"""Validation of a workflow: every problem found, each located on a node, edge or field.

It runs before every run (``for_run=True``: what cannot run is an error) and live while editing
(``for_run=False``: a missing plugin is only a warning, since the file still loads and saves
unchanged). It never stops at the first problem, because the canvas badges every invalid node at
once, and it never raises on a bad graph: problems are data, exceptions are bugs.

The model layer cannot import the node kinds, so the caller passes a :class:`Catalog` (the
nodes layer's registry) to look kinds up in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from flowdesk.model.bodies import body_problems
from flowdesk.model.kinds import Catalog
from flowdesk.model.problems import Problem, Severity, has_errors, sort_key
from flowdesk.model.validation_config import config_problems
from flowdesk.model.validation_context import ValidationContext
from flowdesk.model.validation_graph import graph_problems
from flowdesk.model.validation_refs import SourceReader, reference_problems
from flowdesk.model.validation_rules import (
    duplicate_ids,
    edge_problems,
    multiple_feeds,
    remote_problems,
    required_inputs,
    run_shape,
    singletons,
    unknown_kinds,
)
from flowdesk.model.workflow import Workflow

__all__ = ["CODES", "Problem", "Severity", "has_errors", "validate"]

CODES: dict[str, str] = {
    "duplicate-node-id": "two or more nodes share an id",
    "duplicate-edge-id": "two or more edges share an id",
    "unknown-kind": "the node's kind is not installed (a placeholder); an error only for a run",
    "invalid-config": "a node's config does not pass its kind's config model",
    "body-not-closed": "a for_each's body does not end in exactly one collect node (or a collect has no for_each)",
    "body-leaks": "an edge crosses a for_each's body other than through the for_each and its collect",
    "dangling-edge": "an edge's source or target node does not exist",
    "unknown-port": "an edge names a port its node does not have",
    "port-direction": "an edge starts at an input port or ends at an output port",
    "type-mismatch": "the source port's value type cannot feed the target port's",
    "multiple-feeds": "an input port is fed by more than one forward edge",
    "required-input": "a required input port has no forward edge into it",
    "cycle": "forward edges form a cycle",
    "loop-self-edge": "a loop edge leads from a node to itself",
    "loop-not-back-edge": "a loop edge's target is not an ancestor of its source",
    "unreachable": "a node is not reached from the Start node along forward edges (warning)",
    "duplicate-singleton": "a second node of a one-per-workflow kind (Start)",
    "nothing-to-run": "a run of a workflow with no runnable nodes",
    "no-output": "a run of a workflow without an Output node (warning)",
    "inputs-without-start": "run inputs are declared but there is no Start node (warning)",
    "duplicate-input-name": "two run inputs share a name",
    "duplicate-output-name": "two Output nodes share an output name",
    "source-syntax": "a template or expression has a syntax error (with its line and column)",
    "undeclared-run-input": "a template or expression reads run.inputs.X, and X is not a declared run input",
    "unknown-node-reference": "a template or expression reads nodes.X, and there is no node X",
    "unknown-port-reference": "a template or expression reads a port its node (or the node it names) does not have",
    "unknown-name": "a template or expression reads a name that is not defined there",
    "remote-not-allowed": "a node says remote: true, and its kind cannot run on a cluster worker (start, output, "
    "approval, merge, map...)",
    "body-node-reference": "a template or expression reads nodes.X from outside the for_each body X runs in "
    "(once per item); read the collect's results instead",
    "on-failure-handler": "the workflow settings.on_failure names cannot be found, cannot run, or wants inputs a "
    "failed run does not give (checked where the handler can be found: a file run's folder, the library)",
}
"""Every problem code validation can report, with what it means: the stable contract for tools."""

Rule = Callable[[ValidationContext], Iterator[Problem]]
RULES: tuple[Rule, ...] = (
    body_problems,
    duplicate_ids,
    unknown_kinds,
    config_problems,
    edge_problems,
    multiple_feeds,
    required_inputs,
    singletons,
    remote_problems,
    run_shape,
    graph_problems,
    reference_problems,
)


def validate(
    workflow: Workflow, catalog: Catalog, *, for_run: bool = True, sources: SourceReader | None = None
) -> list[Problem]:
    """All problems of ``workflow``, errors first, then by node id, edge id and code.

    With ``sources`` (the engine's ``SourceReader``) templates and expressions are read too: their
    syntax, and the run inputs, nodes and ports they name.
    """
    ctx = ValidationContext(workflow, catalog, for_run=for_run, sources=sources)
    return sorted_problems(problem for rule in RULES for problem in rule(ctx))


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=sort_key)

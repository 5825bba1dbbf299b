"""Workflows for the on-failure handler's tests: one that fails (dividing by zero) and a handler that
outputs every input it was given."""

from __future__ import annotations

from flowdesk.engine.on_failure import HANDLER_INPUTS
from flowdesk.model.types import ValueType
from flowdesk.model.workflow import Edge, RunInput, Settings, Workflow
from support.wfbuild import node


def edge_of(source: str, sport: str, target: str, tport: str) -> Edge:
    return Edge(id=f"e_{source}_{target}", source=source, source_port=sport, target=target, target_port=tport)


def failing(
    wf_id: str = "nightly", *, on_failure: str | None = "notify", expression: str = "10 // inputs.input.n"
) -> Workflow:
    """start -> boom (divides by the input n, 0 by default) -> out."""
    return Workflow(
        id=wf_id,
        name="Nightly import",
        inputs=(RunInput(name="n", type=ValueType.INTEGER, required=False, default=0),),
        settings=Settings(on_failure=on_failure),
        nodes=(
            node("start", "start"),
            node("boom", "transform", expression=expression).model_copy(update={"name": "Divide"}),
            node("out", "output", name="result"),
        ),
        edges=(edge_of("start", "inputs", "boom", "input"), edge_of("boom", "output", "out", "value")),
    )


def handler(wf_id: str = "notify", *, inputs: tuple[str, ...] = tuple(HANDLER_INPUTS), fail: bool = False,
            on_failure: str | None = None) -> Workflow:  # fmt: skip
    """start -> out: the handler's run outputs every input it was given (``fail``: it fails itself)."""
    declared = tuple(RunInput(name=n, type=HANDLER_INPUTS[n][0], required=False) for n in inputs)
    seen = node("seen", "transform", expression="inputs.input.missing.deeper" if fail else "inputs.input")
    return Workflow(
        id=wf_id,
        name="Notify the team",
        inputs=declared,
        settings=Settings(on_failure=on_failure),
        nodes=(node("start", "start"), seen, node("out", "output", name="seen")),
        edges=(edge_of("start", "inputs", "seen", "input"), edge_of("seen", "output", "out", "value")),
    )

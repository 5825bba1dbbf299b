"""Run functions of the kinds that move and shape values: start, output, transform, routing, delay."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from flowdesk.nodes.context import SUB_WORKFLOW_LABEL, NodeContext, NodeFailure

Outputs = dict[str, Any]


async def run_start(ctx: NodeContext, inputs: dict[str, Any], config: BaseModel) -> Outputs:
    return {"inputs": dict(ctx.run_inputs)}


async def run_output(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> Outputs:
    restore_output(ctx, inputs, config)
    return {}


def restore_output(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> None:
    """The output node's effect, redone when its recorded result is reused: a run's outputs are
    recorded only when it ends, so a resumed run would otherwise lose the values put in before."""
    ctx.set_run_output(config.name, inputs.get("value"))


async def run_transform(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> Outputs:
    if config.mode == "template":
        return {"output": ctx.render(config.expression, inputs, field="template")}
    return {"output": ctx.evaluate(config.expression, inputs, field="expression")}


async def run_condition(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> Outputs:
    verdict = bool(ctx.evaluate(config.expression, inputs, field="condition"))
    return {"true" if verdict else "false": inputs.get("value")}


async def run_switch(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> Outputs:
    key = ctx.evaluate(config.expression, inputs, field="switch expression")
    port = str(key) if key is not None and str(key) in config.cases else "default"
    return {port: inputs.get("value")}


async def run_merge(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> Outputs:
    """'all': the values that arrived, in port order; 'first': the one that arrived first; 'count':
    the first ``count`` to arrive, in arrival order.

    ``inputs`` keeps arrival order (the engine fills it as values arrive, and stops filling it once
    a racing merge has fired, docs/architecture.md §3).
    """
    if config.mode == "first":
        return {"output": next(iter(inputs.values()))} if inputs else {}
    if config.mode == "count":
        return {"output": list(inputs.values())[: config.count]}
    ordered = [inputs[f"in_{i}"] for i in range(1, config.inputs + 1) if f"in_{i}" in inputs]
    return {"output": ordered}


async def run_delay(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> Outputs:
    await ctx.sleep(config.seconds)
    return {"value": inputs.get("value")}


async def run_approval(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> Outputs:
    message = ctx.render(config.message, inputs, field="message")
    approved, comment = await ctx.wait_for_approval(message)
    ctx.log(("approved" if approved else "rejected") + (f": {comment}" if comment else ""))
    return {"approved" if approved else "rejected": inputs.get("value")}


async def run_subworkflow(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> Outputs:
    given = inputs.get("inputs") or {}
    if not isinstance(given, dict):
        raise NodeFailure(f"'inputs' must be an object of run inputs, got {type(given).__name__}")
    return {"outputs": await ctx.run_workflow(config.workflow, given, label=SUB_WORKFLOW_LABEL)}

"""Run functions of for_each and collect, which bracket an inline loop body.

Each runs in two places (engine/inline_bodies.py): in the run that holds the loop, for_each runs
the body once per item and collect passes the list of results on; inside each item's body run,
for_each hands the item in and collect sets the item's result. Which one is told by the inputs: in
the outer run the list arrives on ports the file does not hold (``results``, ``items``).
"""

from __future__ import annotations

from typing import Any

from flowdesk.nodes.context import NodeContext, NodeFailure
from flowdesk.nodes.runners.mapping import each_item, item_names

BODY_RESULT = "value"
"""The output of an item's body run that holds the item's result (set by collect)."""
RESULTS_PORT = "results"
"""for_each's output in the outer run: the list of results, handed to its collect."""
COLLECTED_PORT = "items"
"""collect's input in the outer run, on which that list arrives."""
ITEM_INPUT = "for_each_item"
INDEX_INPUT = "for_each_index"
"""Run inputs of an item's body run, besides the outer run's own: the item and its index."""


async def run_for_each(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    if "items" not in inputs:  # inside an item's body run: hand the item in
        return {"item": ctx.run_inputs.get(ITEM_INPUT)}
    items = inputs["items"]
    if not isinstance(items, list):
        raise NodeFailure(f"'items' must be a list, got {type(items).__name__}")
    if len(items) > config.max_items:
        ctx.report_limit(
            f"the list has {len(items)} items, more than max_items ({config.max_items}):"
            f" only the first {config.max_items} ran"
        )
        items = items[: config.max_items]
    return {RESULTS_PORT: await _each(ctx, items, config)}


async def _each(ctx: NodeContext, items: list[Any], config: Any) -> list[Any]:
    """One body run per item, ``concurrency`` at a time, results in item order (as a map's); an item
    whose body does not reach the collect (a condition sent it elsewhere) leaves no result."""

    async def one(index: int, item: Any) -> tuple[bool, Any]:
        outputs = await ctx.run_body({ITEM_INPUT: item, INDEX_INPUT: index}, **item_names(index))
        return BODY_RESULT in outputs, outputs.get(BODY_RESULT)

    return await each_item(ctx, items, config, one)


async def run_collect(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    if COLLECTED_PORT in inputs:  # the outer run: the for_each's list of results
        return {"results": inputs[COLLECTED_PORT]}
    restore_collect(ctx, inputs, config)
    return {}


def restore_collect(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> None:
    """Inside a body run: the item's result is the body run's output (redone when a resume reuses it)."""
    if COLLECTED_PORT not in inputs:
        ctx.set_run_output(BODY_RESULT, inputs.get("value"))

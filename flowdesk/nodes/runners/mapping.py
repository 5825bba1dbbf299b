"""The map node: one run of a workflow per list item, a bounded number at a time, results in order."""

from __future__ import annotations

import asyncio
from typing import Any

from flowdesk.nodes.context import NodeContext, NodeFailure


async def run_map(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    items = inputs.get("items")
    if not isinstance(items, list):
        raise NodeFailure(f"'items' must be a list, got {type(items).__name__}")
    limit = asyncio.Semaphore(config.concurrency)
    results: list[Any] = [None] * len(items)
    done = 0

    async def one(index: int, item: Any) -> None:
        nonlocal done
        async with limit:
            try:
                results[index] = await ctx.run_workflow(
                    config.workflow, {config.item_input: item}, label=f"item {index}"
                )
            except NodeFailure as exc:
                if config.item_errors == "fail":
                    raise NodeFailure(f"item {index} failed: {exc}") from exc
                results[index] = {"error": str(exc)}
        done += 1
        ctx.progress(done, len(items))

    ctx.progress(0, len(items))
    tasks = [asyncio.ensure_future(one(index, item)) for index, item in enumerate(items)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # the first failure (or a cancel of the node) stops the other items, and says which item failed
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return {"results": results}

"""The map node: one run of a workflow per list item, a bounded number at a time, results in order.

``each_item`` is the part a for_each shares (``bodies.py``): the items, ``concurrency`` at a time,
progress, results in item order, and what a failed item does (``item_errors``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from flowdesk.nodes.context import NodeContext, NodeFailure

RunItem = Callable[[int, Any], Awaitable[tuple[bool, Any]]]
"""Runs one item (its index, the item): (whether it gave a result, the result)."""


async def run_map(ctx: NodeContext, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
    items = inputs.get("items")
    if not isinstance(items, list):
        raise NodeFailure(f"'items' must be a list, got {type(items).__name__}")

    async def one(index: int, item: Any) -> tuple[bool, Any]:
        return True, await ctx.run_workflow(config.workflow, {config.item_input: item}, **item_names(index))

    return {"results": await each_item(ctx, items, config, one)}


async def each_item(ctx: NodeContext, items: list[Any], config: Any, run_item: RunItem) -> list[Any]:
    """``run_item`` for every item, ``config.concurrency`` at a time; the results in item order, those
    that gave none left out. A failed item fails the node (``item_errors: fail``, the other items
    stopped) or holds the error in its slot (``include``)."""
    limit = asyncio.Semaphore(config.concurrency)
    results: list[tuple[bool, Any]] = [(False, None)] * len(items)
    done = 0

    async def one(index: int, item: Any) -> None:
        nonlocal done
        async with limit:
            try:
                results[index] = await run_item(index, item)
            except NodeFailure as exc:
                if config.item_errors == "fail":
                    raise NodeFailure(f"item {index + 1} failed: {_unlabelled(exc, index)}") from exc
                results[index] = (True, {"error": str(exc)})
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
    return [value for gave, value in results if gave]


def item_names(index: int) -> dict[str, str]:
    """The ``label`` and ``key`` of the run of the item at ``index``: people count items from 1 (as Run data
    pages them), the key counts from 0, as it always did (a continued run finds finished items by it)."""
    return {"label": f"item {index + 1}", "key": f"item {index}"}


def _unlabelled(exc: NodeFailure, index: int) -> str:
    """The item's failure without its own "item N: " label, which the node's sentence already says."""
    return str(exc).removeprefix(f"item {index + 1}: ")

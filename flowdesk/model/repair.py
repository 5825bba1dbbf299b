"""Making a stored workflow openable again when its ids collide (two nodes, or two edges, with one id).

Such a workflow can be in a library (imported before import checked what it stores, or written
by another tool); the editor's document refuses it, so it is opened as a copy whose later
duplicates get fresh ids, and the person is told what was renamed. Edges keep naming the first
node of an id, which is the one every other reference meant as well.
"""

from __future__ import annotations

from typing import Any

from flowdesk.model.workflow import Workflow

MAX_ID = 64


def _fresh(base: str, taken: set[str]) -> str:
    n = 2
    while True:
        suffix = f"_{n}"
        candidate = base[: MAX_ID - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def with_unique_ids(workflow: Workflow) -> tuple[Workflow, list[str]]:
    """``workflow`` with every node id and edge id unique, and a line per renamed one ('a' -> 'a_2')."""
    renamed: list[str] = []
    changes: dict[str, tuple[Any, ...]] = {}
    for field in ("nodes", "edges"):
        items = getattr(workflow, field)
        taken = {item.id for item in items}
        seen: set[str] = set()
        fixed: list[Any] = []
        for item in items:
            kept = item
            if item.id in seen:
                new_id = _fresh(item.id, taken)
                taken.add(new_id)
                renamed.append(f"{field[:-1]} '{item.id}' -> '{new_id}'")
                kept = item.model_copy(update={"id": new_id})
            seen.add(kept.id)
            fixed.append(kept)
        if any(a is not b for a, b in zip(fixed, items, strict=True)):
            changes[field] = tuple(fixed)
    if not renamed:
        return workflow, []
    return workflow.model_copy(update=changes), renamed

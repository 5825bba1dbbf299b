"""A continued run reuses its finished map item and sub-workflow runs instead of running them again (issue 22.3)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import RunInput
from flowdesk.store.running import RecordedChildren, RunService
from flowdesk.store.store import Store, open_store

Calls = list[tuple[str, int, int]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


def _item(seconds: float) -> Any:
    wf = workflow(
        [node("start", "start"), node("work", "t.sleep", seconds=seconds), node("out", "output", name="done")],
        ["start.inputs -> work.input", "work.output -> out.value"],
        inputs=[RunInput(name="n", type="integer")],
    )
    return wf.model_copy(update={"id": "wf_item", "name": "item"})


def _mapping(items: list[int]) -> Any:
    wf = workflow(
        [node("xs", "transform", expression=repr(items)), node("m", "map", workflow="wf_item", item_input="n",
         concurrency=1), node("out", "output", name="results")],
        ["xs.output -> m.items", "m.results -> out.value"],
    )  # fmt: skip
    return wf.model_copy(update={"id": "wf_map", "name": "map"})


async def _cancel_when_item_runs(service: RunService, wf: Any, item: int) -> str:
    """Start ``wf`` and cancel it once map item ``item`` has started (the ones before it have finished)."""
    started = service.start(wf)
    while not any(c.id.endswith(f".item_{item}") for c in service.store.runs.list(parent_run_id=started.run_id)):
        await asyncio.sleep(0.01)
    started.handle.cancel()
    await started.handle.wait()
    return started.run_id


def test_resume_reuses_finished_map_items_and_continues_the_rest(store: Store) -> None:
    calls: Calls = []
    service = RunService(store, catalog_with(calls), EngineServices())
    store.workflows.save(_item(0.2))
    store.workflows.save(_mapping([0, 1, 2]))
    run_id = asyncio.run(_cancel_when_item_runs(service, store.workflows.load("wf_map"), 2))
    assert store.runs.get(run_id).status == "cancelled"
    finished = [c.id for c in store.runs.list(parent_run_id=run_id) if c.status == "succeeded"]
    assert len(finished) == 2
    calls.clear()

    async def resume() -> Any:
        return await service.resume(run_id).wait()

    result = asyncio.run(resume())
    assert result.status == "succeeded", result.error
    assert result.outputs == {"results": [{"done": {"n": n}} for n in range(3)]}
    assert [c[0] for c in calls] == ["work"]  # item 2 only: items 0 and 1 are not paid for twice
    for child_id in finished:
        assert {s.segment for s in store.runs.steps(child_id)} == {0}
    messages = [log.message for log in store.runs.logs(run_id) if log.node_id == "m"]
    assert sum("reused the finished run" in m for m in messages) == 2


def test_a_child_run_is_reused_only_for_the_very_inputs_it_ran(store: Store) -> None:
    """Child runs are found by place (node, pass, attempt, item number): a different value there runs anew."""
    calls: Calls = []
    service = RunService(store, catalog_with(calls), EngineServices())
    store.workflows.save(_item(0.2))
    store.workflows.save(_mapping([5, 6, 7]))
    run_id = asyncio.run(_cancel_when_item_runs(service, store.workflows.load("wf_map"), 1))
    children = RecordedChildren(store, count_usage=False)
    child_id = f"{run_id}.m.0.1.item_0"
    assert children.earlier(child_id, {"n": 5}) is not None and children.earlier(child_id, {"n": 5}).outputs
    assert children.earlier(child_id, {"n": 6}) is None
    assert children.earlier(f"{run_id}.m.0.1.item_9", {"n": 5}) is None

"""A continued run reuses the for_each items whose body had finished (issue 16.5): each item is a
sub-run named by its index, so the resumed run finds it in the record instead of running it again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store

Calls = list[tuple[str, int, int]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


def _loop() -> Any:
    wf = workflow(
        [
            node("xs", "transform", expression="[0, 1, 2]"),
            node("fe", "for_each", concurrency=1),
            node("work", "t.sleep", seconds=0.2),
            node("double", "transform", expression="inputs.input * 2"),
            node("c", "collect"),
            node("out", "output", name="results"),
        ],
        ["xs.output -> fe.items", "fe.item -> work.input", "work.output -> double.input", "double.output -> c.value",
         "c.results -> out.value"],
    )  # fmt: skip
    return wf.model_copy(update={"id": "wf_loop", "name": "loop"})


def test_resume_reuses_the_items_that_finished_and_runs_the_rest(store: Store) -> None:
    calls: Calls = []
    service = RunService(store, catalog_with(calls), EngineServices())
    wf = _loop()
    store.workflows.save(wf)

    async def cancel_when_item_2_runs() -> str:
        started = service.start(wf)
        while not any(c.id.endswith(".item_2") for c in store.runs.list(parent_run_id=started.run_id)):
            await asyncio.sleep(0.01)
        started.handle.cancel()
        await started.handle.wait()
        return started.run_id

    run_id = asyncio.run(cancel_when_item_2_runs())
    finished = [c.id for c in store.runs.list(parent_run_id=run_id) if c.status == "succeeded"]
    assert sorted(c.rsplit(".", 1)[-1] for c in finished) == ["item_0", "item_1"]
    steps = {s.node_id for c in finished for s in store.runs.steps(c)}
    assert {"work", "double", "c"} <= steps  # each item's body steps are journaled under its sub-run
    calls.clear()

    async def resume() -> Any:
        return await service.resume(run_id).wait()

    result = asyncio.run(resume())
    assert result.status == "succeeded", result.error
    assert result.outputs == {"results": [0, 2, 4]}
    assert [c[0] for c in calls] == ["work"]  # item 2 only
    messages = [log.message for log in store.runs.logs(run_id) if log.node_id == "fe"]
    assert sum("reused the finished run" in m for m in messages) == 2


def _loop_labelled(label: str) -> Any:
    wf = workflow(
        [
            node("xs", "transform", expression="[1, 2]"),
            node("fe", "for_each"),
            node("work", "t.noop", label=label),
            node("c", "collect"),
            node("after", "t.noop"),
            node("out", "output", name="results"),
        ],
        ["xs.output -> fe.items", "fe.item -> work.input", "work.output -> c.value", "c.results -> after.input",
         "after.output -> out.value"],
    )  # fmt: skip
    return wf.model_copy(update={"id": "wf_loop", "name": "loop"})


def test_a_rerun_after_editing_the_body_runs_the_loop_again(store: Store) -> None:
    calls: Calls = []
    service = RunService(store, catalog_with(calls), EngineServices())
    store.workflows.save(_loop_labelled("first"))

    async def go(start: Any) -> tuple[str, Any]:
        started = start()
        return started.run_id, await started.handle.wait()

    run_id, _ = asyncio.run(go(lambda: service.start(_loop_labelled("first"))))
    store.workflows.save(_loop_labelled("edited"))  # a body node changed: the loop's results are stale
    calls.clear()
    _, result = asyncio.run(go(lambda: service.rerun(run_id, "after")))
    assert result.status == "succeeded"
    assert sorted(c[0] for c in calls) == ["after", "work", "work"]
    calls.clear()
    _, again = asyncio.run(go(lambda: service.rerun(run_id, "work")))  # from a body node: the whole loop
    assert again.status == "succeeded"
    assert sorted(c[0] for c in calls) == ["after", "work", "work"]

"""`flowdesk show` of a run with a race: it succeeded, the branches that lost are 'cancelled' with
the reason, not failed (issue 16.4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.wfbuild import catalog_with, node, workflow

from flowdesk.cli import main
from flowdesk.engine.services import EngineServices
from flowdesk.store.running import RunService
from flowdesk.store.store import open_store


def _row(shown: str, node_id: str) -> str:
    return next(line for line in shown.splitlines() if line.split()[:1] == [node_id])


def test_show_names_the_lost_race(private_library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wf = workflow(
        [
            node("fast", "t.sleep", seconds=0.01),
            node("slow", "t.sleep", seconds=30),
            node("m", "merge", inputs=2, mode="first"),
            node("out", "output", name="won"),
        ],
        ["fast.output -> m.in_1", "slow.output -> m.in_2", "m.output -> out.value"],
    )
    store = open_store(private_library)

    async def go() -> str:
        store.workflows.save(wf)
        started = RunService(store, catalog_with([]), EngineServices()).start(wf)
        assert started.handle is not None
        result = await asyncio.wait_for(started.handle.wait(), 20)  # never the 30 s of the slow branch
        assert result.status == "succeeded"
        return started.run_id

    try:
        run_id = asyncio.run(go())
    finally:
        store.close()
    capsys.readouterr()
    assert main(["show", run_id]) == 0
    shown = capsys.readouterr().out
    assert "succeeded" in _row(shown, "fast") and "succeeded" in _row(shown, "m")
    assert "cancelled" in _row(shown, "slow") and "lost the race" in _row(shown, "slow")
    assert "failed" not in shown


def test_show_says_a_loop_stopped_at_its_limit(private_library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wf = workflow(
        [
            node("src", "transform", expression="[1, 2, 3]"),
            node("fe", "for_each", max_items=2),
            node("b0", "t.noop"),
            node("c", "collect"),
            node("out", "output", name="r"),
        ],
        ["src.output -> fe.items", "fe.item -> b0.input", "b0.output -> c.value", "c.results -> out.value"],
    )
    store = open_store(private_library)

    async def go() -> str:
        store.workflows.save(wf)
        started = RunService(store, catalog_with([]), EngineServices()).start(wf)
        assert started.handle is not None
        assert (await started.handle.wait()).outputs == {"r": [1, 2]}
        return started.run_id

    try:
        run_id = asyncio.run(go())
    finally:
        store.close()
    capsys.readouterr()
    assert main(["show", run_id]) == 0
    header = capsys.readouterr().out.split("\n\n")[0]
    assert "warning    'fe': the list has 3 items, more than max_items (2): only the first 2 ran" in header

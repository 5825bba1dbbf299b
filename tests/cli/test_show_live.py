"""`flowdesk show` of a run still going shows what is going on: the node that runs is 'running'."""

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


def test_show_of_a_live_run_shows_the_running_node_as_running(
    private_library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, int, int]] = []
    wf = workflow(
        [node("a", "t.noop"), node("slow", "t.sleep", seconds=30), node("after", "t.noop")],
        ["a.output -> slow.input", "slow.output -> after.input"],
    )
    store = open_store(private_library)

    async def go() -> tuple[str, str]:
        store.workflows.save(wf)
        started = RunService(store, catalog_with(calls), EngineServices()).start(wf)
        assert started.handle is not None
        while ("slow", 0, 1) not in calls:
            await asyncio.sleep(0.01)
        shown = ""
        for _ in range(300):  # the journal catches up with a node that started without a commit after it
            capsys.readouterr()
            assert main(["show", started.run_id]) == 0
            shown = capsys.readouterr().out
            if "running" in _row(shown, "slow"):
                break
            await asyncio.sleep(0.02)
        started.handle.cancel()
        await started.handle.wait()
        capsys.readouterr()
        main(["show", started.run_id])
        return shown, capsys.readouterr().out

    try:
        live, ended = asyncio.run(go())
    finally:
        store.close()
    assert "running" in _row(live, "slow")
    assert "succeeded" in _row(live, "a")
    assert "not started" in _row(live, "after")
    assert "cancelled" in _row(ended, "slow") and "not run" in _row(ended, "after")

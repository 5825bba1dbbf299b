"""Odd text never costs a run: a value holding a lone surrogate is stored losslessly and read back equal.

A response with a lone surrogate (``'\\ud800'``, as a JSON ``\\ud800`` escape decodes to) cannot be
encoded as UTF-8, and the run failed with "the run record could not be saved: 'utf-8' codec can't
encode ...". Such values are stored escaped (still JSON, decoding to the same string).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import RunInput
from flowdesk.store.running import RunService
from flowdesk.store.store import open_store

ODD = "before \ud800 between \udfff after é"


def test_a_lone_surrogate_in_a_run_value_is_kept_and_the_run_goes_on(tmp_path: Path) -> None:
    store = open_store(tmp_path / "library.db")
    try:
        wf = workflow(
            [node("start", "start"), node("a", "t.noop"), node("b", "t.noop")],
            ["start.inputs -> a.input", "a.output -> b.input"],
            inputs=[RunInput(name="text", type="string")],
        )
        service = RunService(store, catalog_with([]), EngineServices())

        async def run() -> tuple[str, str]:
            started = service.start(wf, {"text": ODD}, source=str(tmp_path / "wf.json"))
            assert started.handle is not None
            return started.run_id, (await started.handle.wait()).status

        run_id, status = asyncio.run(run())
        assert status == "succeeded"
        steps = {s.node_id: s for s in store.runs.steps(run_id)}
        assert store.runs.step_values(steps["b"].id) == ({"input": {"text": ODD}}, {"output": {"text": ODD}})
        assert store.runs.run_values(run_id)[0] == {"text": ODD}
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "library.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

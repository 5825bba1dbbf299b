"""Resuming a recorded run that was inside a loop: the loop goes on where it stopped.

The process running the loop is killed (SIGKILL) while pass 3 of 5 sleeps; the library then
shows the run interrupted, and ``resume`` finishes it. Completed passes are not redone (their
nodes do not execute again, as seen in a file every execution appends to), the journal's
iteration numbers go on from 2, ``max_iterations`` counts the passes before and after the kill,
and the run's outputs are those of a run that was never interrupted.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from store_child import LOOP_ID, Child, catalog, loop_workflow
from support.wfbuild import catalog_with

from flowdesk.engine.services import EngineServices
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store

PASSES = 5


def _kill_during_pass_three(library: Path, exec_log: Path) -> str:
    child = Child("loop-run", library, exec_log)
    try:
        child.expect("ready")
        child.go()
        run_id = child.expect("started").split()[1]
        deadline = time.monotonic() + 20
        while ("child", "slow") not in _executions(exec_log, iteration=2):
            assert time.monotonic() < deadline, f"pass 3 never began; stderr:\n{child.stderr}"
            time.sleep(0.002)  # polling the file the child appends to
        child.kill()
        assert child.finish() == -9, f"the child ended by itself:\n{child.stderr}"
    finally:
        if child.proc.poll() is None:
            child.kill()
            child.finish()
    return run_id


def _executions(exec_log: Path, *, iteration: int) -> list[tuple[str, str]]:
    """(tag, node) of each execution of pass ``iteration`` so far."""
    if not exec_log.exists():
        return []
    return [(tag, node) for tag, node, it in _tagged(exec_log) if it == iteration]


def _succeeded_steps(store: Store, run_id: str) -> Counter[tuple[str, int]]:
    return Counter((s.node_id, s.iteration) for s in store.runs.steps(run_id) if s.status == "succeeded")


def test_a_loop_killed_in_pass_three_resumes_in_pass_three(tmp_path: Path) -> None:
    library, exec_log = tmp_path / "library.db", tmp_path / "executions.log"
    run_id = _kill_during_pass_three(library, exec_log)
    store = open_store(library)
    try:
        assert store.runs.get(run_id).status == "interrupted"
        before = _succeeded_steps(store, run_id)
        assert {("count", 2), ("slow", 1)} <= set(before) and ("slow", 2) not in before
        finished = {(s.node_id, s.iteration) for s in store.runs.steps(run_id) if s.status in ("succeeded", "skipped")}

        service = RunService(store, catalog(exec_log, "resume"), EngineServices())

        async def resume() -> Any:
            return await asyncio.wait_for(service.resume(run_id).wait(), 20)

        result = asyncio.run(resume())
        assert result.status == "succeeded", result.error
        assert result.outputs == {"n": PASSES}, "not the outputs of an uninterrupted run"
        assert result.iterations["count"] == PASSES - 1

        resumed = [(node, it) for tag, node, it in _tagged(exec_log) if tag == "resume"]
        assert resumed == [("slow", 2), ("again", 2), ("slow", 3), ("again", 3), ("slow", 4), ("again", 4)]
        steps = store.runs.steps(run_id)
        assert {s.iteration for s in steps if s.segment == 1} == {2, 3, 4}, "the resume numbered its passes anew"
        again = {(s.node_id, s.iteration) for s in steps if s.segment == 1} & finished
        assert not again, f"results recorded before the kill were recorded again: {sorted(again)}"
        done = _succeeded_steps(store, run_id)
        assert set(done.values()) == {1}, f"a node succeeded twice in one pass: {done}"
        assert {it for node, it in done if node == "count"} == set(range(PASSES)), "more passes than max_iterations"
        passes = [log.iteration for log in store.runs.logs(run_id) if log.kind == "loop_iterated"]
        assert passes == list(range(1, PASSES)), f"loop passes logged: {passes}"
        assert store.runs.get(run_id).status == "succeeded"
        _, outputs = store.runs.run_values(run_id)
        assert outputs == {"n": PASSES}
    finally:
        store.close()


def _tagged(exec_log: Path) -> list[tuple[str, str, int]]:
    rows = [line.split() for line in exec_log.read_text().splitlines()]
    return [(r[0], r[1], int(r[2])) for r in rows]


def test_a_rerun_from_after_a_loop_reuses_every_pass(tmp_path: Path) -> None:
    store = open_store(tmp_path / "library.db")
    calls: list[tuple[str, int, int]] = []
    service = RunService(store, catalog_with(calls), EngineServices())
    store.workflows.save(loop_workflow(slow_s=0.0))

    async def run(start: Any) -> Any:
        started = start()
        return started.run_id, await started.handle.wait()

    try:
        first_id, first = asyncio.run(run(lambda: service.start(store.workflows.load(LOOP_ID))))
        assert first.ok and len(calls) == 2 * PASSES
        calls.clear()
        rerun_id, rerun = asyncio.run(run(lambda: service.rerun(first_id, "out")))
        assert rerun.ok and rerun.outputs == first.outputs
        assert calls == [], "the loop before the re-run node ran again"
        restored = {(s.node_id, s.iteration) for s in store.runs.steps(rerun_id) if s.source == "restored"}
        assert {("count", it) for it in range(PASSES)} <= restored
    finally:
        store.close()

"""Kill -9 a process in the middle of a map over 12 items; resuming never runs a finished item again (issue 22.3).

Each trial starts ``store_child.py map-run`` (a real flowdesk process) running a map node over 12
items, three at a time, each item a child run of a small workflow with one sleeping probe node, and
SIGKILLs it a random moment after the run started. Then, in this process: the run shows ``interrupted``; ``resume``
finishes it with the right outputs; every item run that had succeeded before the resume is untouched
(no step of a later segment, still succeeded), and the probe ran in the resume exactly once per item
whose probe had not succeeded before: counted both in the journal and in a file every probe execution
appends to (which no code under test writes).

FLOWDESK_CRASH_SEED=N reuses a failing trial's kill delays (printed in every failure message).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest
from store_child import MAP_ITEMS, Child, catalog, expected_map_outputs, read_exec_log

from flowdesk.engine.services import EngineServices
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store

TRIALS = 30
AHEAD = 2


def _item_runs(store: Store, run_id: str) -> dict[str, tuple[str, bool]]:
    """Each map item run: its status, and whether its probe ('work') had succeeded."""
    items = {}
    for child in store.runs.list(parent_run_id=run_id):
        status, _ = store.runs.node_results(child.id)
        items[child.id] = (child.status, status.get("work") == "succeeded")
    return items


def _check_trial(store: Store, child: Child, trial: int, exec_log: Path, tally: dict[str, int]) -> None:
    run = store.runs.find_by_key(f"map-{trial}")
    if run is None:
        tally["no_run"] += 1
        return
    if run.status == "succeeded":
        tally["finished"] += 1
        return
    assert run.status == "interrupted", f"after recovery the run is {run.status}"
    before = _item_runs(store, run.id)
    finished = {cid for cid, (status, _) in before.items() if status == "succeeded"}
    probed = sum(1 for _, done in before.values() if done)
    if 0 < len(finished) < MAP_ITEMS:
        tally["mid_map"] += 1

    service = RunService(store, catalog(exec_log, f"resume{trial}"), EngineServices())

    async def resume() -> object:
        return await asyncio.wait_for(service.resume(run.id).wait(), 60)

    result = asyncio.run(resume())
    assert result.status == "succeeded", f"resume ended {result.status}: {result.error}"
    assert result.outputs == expected_map_outputs()

    redone = [cid for cid in finished if any(s.segment >= 1 for s in store.runs.steps(cid))]
    redone += [cid for cid in finished if store.runs.get(cid).status != "succeeded"]
    tally["reruns"] += len(redone)
    assert not redone, f"finished item runs ran again: {sorted(redone)}"
    ran_in_resume = [node for tag, node in read_exec_log(exec_log) if tag == f"resume{trial}" and node == "work"]
    assert len(ran_in_resume) == MAP_ITEMS - probed, (
        f"{len(ran_in_resume)} probe runs in the resume; {MAP_ITEMS - probed} items had not run theirs"
    )
    tally["resumed"] += 1


@pytest.mark.slow
def test_kill_9_mid_map_and_resume_never_runs_a_finished_item_again(tmp_path: Path) -> None:
    seed = int(os.environ.get("FLOWDESK_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    library = tmp_path / "library.db"
    exec_log = tmp_path / "executions.log"
    tally = dict.fromkeys(("no_run", "finished", "mid_map", "resumed", "reruns"), 0)
    started = time.monotonic()
    spawned: list[Child] = []

    def spawn(trial: int) -> Child:
        spawned.append(Child("map-run", library, trial, exec_log))
        return spawned[-1]

    ahead = [spawn(t) for t in range(min(AHEAD, TRIALS))]  # they import meanwhile
    try:
        for trial in range(TRIALS):
            delay = rng.uniform(0.0, 0.5)
            where = f"[seed {seed} (FLOWDESK_CRASH_SEED), trial {trial}, kill after {delay:.3f} s]"
            dead = ahead.pop(0)
            try:
                dead.expect("ready")
                dead.go()
                dead.expect("started")  # the run has its row; the map takes about 0.4 s from here
                time.sleep(delay)  # the random moment of the kill: the point of the test, not a wait for something
                dead.kill()
                code = dead.finish()
                assert code in (-9, 0), f"the child failed by itself (exit {code}):\n{dead.stderr}"
                if trial + AHEAD < TRIALS:
                    ahead.append(spawn(trial + AHEAD))
                store = open_store(library)
                try:
                    _check_trial(store, dead, trial, exec_log, tally)
                finally:
                    store.close()
            except Exception as exc:
                raise AssertionError(f"{where} {type(exc).__name__}: {exc}\nchild said: {dead.lines[-5:]}") from exc
    finally:
        for child in spawned:
            if child.proc.poll() is None:
                child.kill()
            child.finish()
    summary = f"seed {seed}: {tally}, {time.monotonic() - started:.1f} s"
    print(summary)
    assert tally["reruns"] == 0
    assert tally["mid_map"] >= 8, f"too few kills landed mid-map: {summary}"

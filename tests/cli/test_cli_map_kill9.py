"""`flowdesk run` of a workflow file killed with SIGKILL mid-map, then `flowdesk resume`: no item runs twice (22.3).

The map workflow is a file whose map node names its item workflow by file (``item.json`` beside it),
as a user's folder of workflows does: the path resolved through the file's folder, not the library.
Each trial starts a real `flowdesk run` process, SIGKILLs it a random moment after it announced its
run, then resumes the run with `flowdesk resume` (another real process). Every item's ``wait`` node
must have run to success exactly once over the kill and the resume together: a finished item run
that the resume ran again would show a second success, i.e. a paid call made twice.

FLOWDESK_CRASH_SEED=N reuses a failing soak's kill delays (printed in every failure message).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.wfbuild import node, workflow

from flowdesk.model.fileformat import write_workflow
from flowdesk.model.workflow import RunInput
from flowdesk.store.store import open_store

TRIALS = 30
ITEMS = 12


def _write_workflows(folder: Path) -> Path:
    item = workflow(
        [node("start", "start"), node("wait", "delay", seconds=0.25), node("out", "output", name="done")],
        ["start.inputs -> wait.value", "wait.value -> out.value"],
        inputs=[RunInput(name="n", type="integer")],
    ).model_copy(update={"id": "map_item", "name": "map item"})
    outer = workflow(
        [node("start", "start"), node("xs", "transform", expression="inputs.input.xs"),
         node("m", "map", workflow="item.json", item_input="n", concurrency=3), node("out", "output", name="results")],
        ["start.inputs -> xs.input", "xs.output -> m.items", "m.results -> out.value"],
        inputs=[RunInput(name="xs", type="array")],
    ).model_copy(update={"id": "map_outer", "name": "map over a file"})  # fmt: skip
    write_workflow(item, folder / "item.json")
    write_workflow(outer, folder / "map.json")
    return folder / "map.json"


def _flowdesk(library: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "flowdesk", "--db", str(library), *args]


def _run_and_kill(library: Path, wf: Path, delay_s: float) -> str | None:
    """Start `flowdesk run`, SIGKILL it ``delay_s`` after it announced its run; its run id, if it got that far."""
    xs = json.dumps(list(range(ITEMS)))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        _flowdesk(library, "run", str(wf), "-i", f"xs={xs}"),
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    run_id = None
    try:
        deadline = time.monotonic() + 120
        while run_id is None and time.monotonic() < deadline:
            line = proc.stderr.readline() if proc.stderr else ""
            if not line:
                break
            words = line.split()
            if len(words) == 2 and words[0] == "run":
                run_id = words[1]
        time.sleep(delay_s)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    return run_id


def _waits_that_ran(library: Path, run_id: str) -> tuple[str, int, int]:
    """(run status, item runs, successes of an item's ``wait`` that ran rather than being reused)."""
    store = open_store(library)
    try:
        run = store.runs.get(run_id)
        items = store.runs.list(parent_run_id=run_id, limit=None, include_children=True)
        ran = sum(
            1
            for item in items
            for step in store.runs.steps(item.id)
            if step.node_id == "wait" and step.status == "succeeded" and step.source == "run"
        )
        return run.status, len(items), ran
    finally:
        store.close()


@pytest.mark.slow
def test_flowdesk_resume_after_kill_9_mid_map_never_runs_a_finished_item_again(tmp_path: Path) -> None:
    seed = int(os.environ.get("FLOWDESK_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    wf = _write_workflows(tmp_path)
    library = tmp_path / "library.db"
    tally = {"finished_before_kill": 0, "resumed": 0, "reruns": 0}
    for trial in range(TRIALS):
        where = f"trial {trial} (FLOWDESK_CRASH_SEED={seed})"
        run_id = _run_and_kill(library, wf, rng.uniform(0.0, 1.0))  # the run takes ~1 s: 4 waves of 0.25 s
        assert run_id is not None, f"{where}: `flowdesk run` never announced its run"
        status, _, _ = _waits_that_ran(library, run_id)
        if status == "succeeded":
            tally["finished_before_kill"] += 1
            continue
        resumed = subprocess.run(_flowdesk(library, "resume", run_id), capture_output=True, text=True, timeout=180)
        assert resumed.returncode == 0, f"{where}: resume failed\n{resumed.stderr}"
        assert json.loads(resumed.stdout) == {"results": [{"done": {"n": n}} for n in range(ITEMS)]}, where
        status, items, ran = _waits_that_ran(library, run_id)
        assert status == "succeeded", where
        tally["resumed"] += 1
        tally["reruns"] += ran - ITEMS
        assert ran == ITEMS, f"{where}: the items' waits ran {ran} times for {ITEMS} items ({items} item runs)"
    assert tally["reruns"] == 0
    assert tally["resumed"] >= TRIALS // 3, f"too few kills landed mid-run to prove anything: {tally} (seed {seed})"

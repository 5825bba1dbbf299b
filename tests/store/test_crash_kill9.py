"""Kill -9 the process using the library at random moments; nothing saved or finished may be lost.

Each trial starts ``store_child.py`` (a real flowdesk process), lets it open the library and
either run a 29-node workflow through RunService (28 commit points: a fan-out of four chains of
sleeping nodes) or save 60 KB versions in a loop, and SIGKILLs it after a random delay. Then,
in this process: the library opens, SQLite's integrity check passes, every version ever saved
(by this or any earlier trial) loads and is the document that was saved, the run shows
``interrupted`` (or ``succeeded``, when the kill came late), and ``resume`` finishes it without
running again any node whose success had been recorded: the nodes that run in the resume are
exactly the ones without a recorded success, as seen both in the journal (segment-1 step rows)
and in a file every node execution appends to (which no code under test writes).

The RNG seed is printed in every failure message; FLOWDESK_CRASH_SEED=N reuses its kill delays
(the moments they land on still vary with the machine).
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
from store_child import (
    CRASH_ID,
    Child,
    catalog,
    expected_document,
    expected_outputs,
    read_exec_log,
    run_version,
)

from flowdesk.engine.services import EngineServices
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store
from flowdesk.store.values import text_hash
from flowdesk.store.workflows import content_hash

TRIALS = 24
AHEAD = 2  # children started ahead of their trial, so their start-up overlaps the checks
SAVE_TRIALS = {3, 9, 15, 21}
PROBES = {n.id for n in run_version(0).nodes if n.kind == "t.sleep"}
ALL_NODES = {n.id for n in run_version(0).nodes}


class Tally:
    def __init__(self) -> None:
        self.no_run = 0  # killed before the run had a row
        self.finished = 0  # killed after the run had finished
        self.partial = 0  # killed mid-run with some, not all, nodes recorded as done
        self.resumed = 0
        self.saves_killed = 0  # save trials killed after at least one save


def _check_library(store: Store) -> None:
    raw = store.db.raw()
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert raw.execute("PRAGMA foreign_key_check").fetchall() == []


@functools.cache
def _expected_hash(description: str) -> str:
    return content_hash(expected_document(description))


def _check_versions(
    store: Store, known: dict[int, str], reported: list[tuple[int, str]], *, full: bool = False
) -> None:
    """Every version is the document saved as it; none known before is gone; all reported are there.

    Versions seen in an earlier trial are checked byte for byte against their stored hashes (the
    document's text still hashes to its key, the content hash is unchanged); new ones, and all of
    them when ``full``, are loaded through the library and compared with the document saved.
    """
    raw = store.db.raw()
    rows = raw.execute(
        "SELECT v.version, v.content_hash, v.document_hash, b.data FROM workflow_version v"
        " LEFT JOIN blob b ON b.hash = v.document_hash WHERE v.workflow_id = ? ORDER BY v.version",
        (CRASH_ID,),
    ).fetchall()
    numbers = [r[0] for r in rows]
    assert numbers == list(range(1, len(rows) + 1)), f"versions are not 1..n: {numbers}"
    if rows:
        assert store.workflows.get(CRASH_ID).current_version == len(rows), "the current version is not the newest"
    missing = sorted(set(known) - set(numbers))
    assert not missing, f"versions saved before this kill are gone: {missing}"
    for version, stored_hash, document_hash, data in rows:
        assert data is not None and text_hash(data) == document_hash, f"the document of version {version} is damaged"
        if version in known and not full:
            assert stored_hash == _expected_hash(known[version]), f"version {version} changed"
            continue
        wf = store.workflows.load(CRASH_ID, version)
        assert content_hash(wf) == _expected_hash(wf.description) == stored_hash, (
            f"version {version} is not the document saved"
        )
        assert known.setdefault(version, wf.description) == wf.description, f"version {version} changed"
    for version, description in reported:
        assert known.get(version) == description, f"version {version} was reported saved as {description!r}"


async def _resume(store: Store, run_id: str, exec_log: Path, trial: int) -> Any:
    handle = RunService(store, catalog(exec_log, f"resume{trial}"), EngineServices()).resume(run_id)
    return await asyncio.wait_for(handle.wait(), 30)


def _check_run(store: Store, child: Child, trial: int, exec_log: Path, tally: Tally) -> None:
    run = store.runs.find_by_key(f"trial-{trial}")
    if run is None:
        assert not child.said("started"), "the child started a run the library does not have"
        tally.no_run += 1
        return
    assert run.status in ("interrupted", "succeeded"), f"after recovery the run is {run.status}"
    if child.said("finished"):
        assert run.status == "succeeded", "a run that finished shows as unfinished"
    if run.status == "succeeded":
        tally.finished += 1
        _check_finished(store, run.id, trial)
        return
    assert any(log.kind == "run_interrupted" for log in store.runs.logs(run.id)), "no record of the interruption"
    before = store.runs.steps(run.id)
    assert {s.segment for s in before} <= {0}, "steps of a later segment before any resume"
    assert not [s for s in before if s.status == "running"], "steps left 'running' after recovery"
    done = {s.node_id for s in before if s.status == "succeeded"}
    ran_in_child = {node for tag, node in read_exec_log(exec_log) if tag == f"child{trial}"}
    assert done & PROBES <= ran_in_child, f"recorded as done but never ran: {sorted(done & PROBES - ran_in_child)}"
    if done and done != ALL_NODES:
        tally.partial += 1

    result = asyncio.run(_resume(store, run.id, exec_log, trial))
    assert result.status == "succeeded", f"resume ended {result.status}: {result.error}"
    assert result.outputs == expected_outputs(trial)
    tally.resumed += 1

    rerun_in_journal = {s.node_id for s in store.runs.steps(run.id) if s.segment >= 1}
    ran_in_resume = {node for tag, node in read_exec_log(exec_log) if tag == f"resume{trial}"}
    assert not rerun_in_journal & done, f"nodes recorded as done ran again (journal): {sorted(rerun_in_journal & done)}"
    assert not ran_in_resume & done, f"nodes recorded as done ran again (executions): {sorted(ran_in_resume & done)}"
    assert ran_in_resume == PROBES - done, (
        f"the resume did not run exactly the unfinished nodes: {sorted(ran_in_resume)}"
    )
    _check_finished(store, run.id, trial)


def _check_finished(store: Store, run_id: str, trial: int) -> None:
    assert store.runs.get(run_id).status == "succeeded"
    status, _ = store.runs.node_results(run_id)
    assert status == dict.fromkeys(ALL_NODES, "succeeded")
    _, outputs = store.runs.run_values(run_id)
    assert outputs == expected_outputs(trial)


def _spawn(trial: int, library: Path, exec_log: Path) -> Child:
    if trial in SAVE_TRIALS:
        return Child("crash-save", library, trial)
    return Child("crash-run", library, trial, exec_log)


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing_and_resume_reruns_only_unfinished_nodes(tmp_path: Path) -> None:
    seed = int(os.environ.get("FLOWDESK_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    library = tmp_path / "library.db"
    exec_log = tmp_path / "executions.log"
    known: dict[int, str] = {}
    tally = Tally()
    started = time.monotonic()
    spawned: list[Child] = []

    def spawn(trial: int) -> Child:
        spawned.append(_spawn(trial, library, exec_log))
        return spawned[-1]

    ahead = [spawn(t) for t in range(min(AHEAD, TRIALS))]  # they import meanwhile
    try:
        for trial in range(TRIALS):
            saving = trial in SAVE_TRIALS
            delay = rng.uniform(0.05, 0.3) if saving else rng.uniform(0.0, 0.4)
            where = f"[seed {seed} (FLOWDESK_CRASH_SEED), trial {trial}, {'save' if saving else 'run'}, kill after {delay:.3f} s]"
            dead = ahead.pop(0)
            try:
                dead.expect("ready")
                dead.go()
                time.sleep(delay)  # the random moment of the kill: the point of the test, not a wait for something
                dead.kill()
                code = dead.finish()
                assert code in (-9, 0), f"the child failed by itself (exit {code}):\n{dead.stderr}"
                if trial + AHEAD < TRIALS:
                    ahead.append(spawn(trial + AHEAD))
                saved = [int(v) for v in dead.said("saved")]
                if saving:
                    reported = [(v, f"trial {trial} save {i}") for i, v in enumerate(saved)]
                    tally.saves_killed += bool(saved)
                else:
                    reported = [(v, f"trial {trial} run") for v in saved]
                store = open_store(library)
                try:
                    _check_library(store)
                    _check_versions(store, known, reported)
                    if not saving:
                        _check_run(store, dead, trial, exec_log, tally)
                    _check_library(store)
                finally:
                    store.close()
            except Exception as exc:
                raise AssertionError(f"{where} {type(exc).__name__}: {exc}\nchild said: {dead.lines[-5:]}") from exc
        store = open_store(library)
        try:
            _check_versions(store, known, [], full=True)
        except AssertionError as exc:
            raise AssertionError(f"[seed {seed}, after all trials] {exc}") from exc
        finally:
            store.close()
    finally:
        for child in spawned:
            if child.proc.poll() is None:
                child.kill()
            child.finish()
    elapsed = time.monotonic() - started
    summary = f"seed {seed}: {vars(tally)}, {len(known)} versions, {elapsed:.1f} s"
    print(summary)
    # The kills must have landed where it matters, or this test proved little.
    assert tally.partial >= 3, f"too few kills landed mid-run: {summary}"
    assert tally.saves_killed >= 3, f"too few kills landed among saves: {summary}"

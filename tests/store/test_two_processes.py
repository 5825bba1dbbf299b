"""Several flowdesk processes using one library at once (the GUI and the CLI, two CLIs): no lost
writes, and no "database is locked" reaching the user.

Each process is a real ``store_child.py``; they are started, wait until all have imported, and
are released together, so their library work overlaps.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from store_child import Child, many_workflow, read_exec_log

from flowdesk.store.migrations import APPLICATION_ID, LATEST
from flowdesk.store.store import open_store

NODES = 400  # per workflow: 400 quick nodes, as many small commits
RUNS = 3  # per runner
SAVES = 150


def _release_together(children: list[Child]) -> None:
    for child in children:
        child.expect("ready")
    for child in children:
        child.go()


def _finish_cleanly(children: list[Child], timeout: float = 120.0) -> None:
    for child in children:
        code = child.finish(timeout)
        assert code == 0, f"{child.args} exited {code}:\n{child.stderr}"
        lowered = child.stderr.lower()
        for bad in ("locked", "busy", "traceback", "error"):
            assert bad not in lowered, f"{child.args} printed {bad!r}:\n{child.stderr}"


def test_processes_creating_a_new_library_at_the_same_moment_all_open_it(tmp_path: Path) -> None:
    """Two flowdesk programs started at once on first use: all open the library, one schema is made.

    (Before the fix in database.py, 2 of 3 processes failed here nearly every time: "table blob
    already exists", "not a flowdesk library", or "database is locked" while switching to WAL.)
    """
    libraries = [tmp_path / f"new{attempt}" / "library.db" for attempt in range(3)]
    groups = [[Child("open", library) for _ in range(3)] for library in libraries]  # all import at once
    try:
        for group in groups:
            _release_together(group)
            _finish_cleanly(group)
    finally:
        for child in (c for group in groups for c in group):
            if child.proc.poll() is None:
                child.kill()
                child.finish()
    for library, group in zip(libraries, groups, strict=True):
        assert [child.said("opened") for child in group] == [["0"]] * len(group)
        conn = sqlite3.connect(library)
        try:
            assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
        assert not list(library.parent.glob("*.bak")), "a new library was 'upgraded' with a backup"


def test_two_runners_and_a_saver_at_once_lose_no_write_and_show_no_lock_error(tmp_path: Path) -> None:
    library = tmp_path / "library.db"
    exec_log = tmp_path / "executions.log"
    store = open_store(library)
    for wf_id in ("wf_runner_a", "wf_runner_b"):
        store.workflows.save(many_workflow(wf_id, NODES))
    store.close()

    children = [
        Child("run-many", library, "wf_runner_a", RUNS, exec_log),
        Child("run-many", library, "wf_runner_b", RUNS, exec_log),
        Child("save-many", library, "wf_saver", SAVES),
    ]
    try:
        _release_together(children)
        _finish_cleanly(children)
    finally:
        for child in children:
            if child.proc.poll() is None:
                child.kill()
                child.finish()
    assert children[0].said("finished") == ["succeeded"] * RUNS
    assert children[1].said("finished") == ["succeeded"] * RUNS
    assert children[2].said("saved") == [str(v) for v in range(1, SAVES + 1)]

    executions = read_exec_log(exec_log)
    store = open_store(library)
    try:
        # every save is there, each the document saved
        history = store.workflows.history("wf_saver")
        assert sorted(v.version for v in history) == list(range(1, SAVES + 1))
        for version in (1, SAVES // 2, SAVES):
            assert store.workflows.load("wf_saver", version).description == f"save {version - 1}"
        # every run and every step is there
        saves_at = sorted(v.created_at for v in history)
        overlapped = 0
        for wf_id in ("wf_runner_a", "wf_runner_b"):
            runs = store.runs.list(wf_id, limit=None)
            assert [r.status for r in runs] == ["succeeded"] * RUNS
            for run in runs:
                steps = store.runs.steps(run.id)
                assert len(steps) == NODES + 1, f"run {run.id} has {len(steps)} steps, not {NODES + 1}"
                assert {s.status for s in steps} == {"succeeded"}
                assert len({s.node_id for s in steps}) == NODES + 1
                assert run.started_at is not None and run.finished_at is not None
                overlapped += sum(run.started_at < t < run.finished_at for t in saves_at)
            ran = [node for tag, node in executions if tag == wf_id]
            assert len(ran) == NODES * RUNS, "a node ran more or less often than the runs say"
        # the processes really did write at the same time
        assert overlapped > 0, "no version was saved while a run was being journaled: the test proved nothing"
        raw = store.db.raw()
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        store.close()


def test_a_save_waits_for_another_process_holding_the_write_lock_instead_of_failing(tmp_path: Path) -> None:
    """A long write elsewhere (an import, a big run commit) makes a save wait, not fail with 'locked'."""
    library = tmp_path / "library.db"
    store = open_store(library)
    child = Child("save-many", library, "wf_waiting", 1)
    try:
        child.expect("ready")
        with store.db.write() as conn:
            conn.exec_driver_sql("UPDATE workflow SET name = name")  # hold the write lock from here
            child.go()
            time.sleep(1.5)  # hold it for a while: the child's save must wait this out
        child.expect("saved", timeout=30)
        _finish_cleanly([child])
    finally:
        if child.proc.poll() is None:
            child.kill()
            child.finish()
        store.close()
    store = open_store(library)
    try:
        assert [v.version for v in store.workflows.history("wf_waiting")] == [1]
    finally:
        store.close()

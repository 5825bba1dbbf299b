"""A full disk or a read-only library: a clear message, nothing half-written, the work kept.

Disk full is made two ways. In-process, SQLite's ``PRAGMA max_page_count`` on the store's own
connection gives a real SQLITE_FULL at a chosen moment. Under the command line, a real ENOSPC:
the library sits on a small tmpfs, filled up but for a little room, in a private mount
namespace (``unshare``), so nothing outside the test is mounted.

Read-only is made two honest ways as well (the tests run as root, so permissions stop nothing):
the library file made immutable (``chattr +i``; the kernel refuses every write, root's
included), and the library's folder bind-mounted read-only in a private mount namespace.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from store_child import catalog, many_workflow, padding, read_exec_log
from support.wfbuild import node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import write_workflow
from flowdesk.model.workflow import RunInput, Workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.store.database import LibraryError
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store
from flowdesk.store.workflows import content_hash

UNLIMITED = 1_073_741_823  # SQLite's default max_page_count
RUN_NODES = 400


# ---------------------------------------------------------------- helpers
def _pages(store: Store) -> int:
    return int(store.db.raw().execute("PRAGMA page_count").fetchone()[0])


def _limit(store: Store, headroom_pages: int) -> None:
    """Make the disk 'full' this many pages from now (on the store's own connection, between transactions)."""
    raw = store.db.raw()
    assert not raw.in_transaction
    wanted = _pages(store) + headroom_pages
    assert raw.execute(f"PRAGMA max_page_count = {wanted}").fetchone()[0] == wanted


def _unlimit(store: Store) -> None:
    store.db.raw().execute(f"PRAGMA max_page_count = {UNLIMITED}")


def _check_whole(store: Store) -> None:
    """Nothing half-written: the file is sound, every value a row names exists, every workflow has all its versions."""
    raw = store.db.raw()
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    dangling = raw.execute(
        "SELECT count(*) FROM ("
        " SELECT value AS h FROM step, json_each(step.inputs) UNION ALL SELECT value FROM step, json_each(step.outputs)"
        " UNION ALL SELECT value FROM run, json_each(run.inputs) UNION ALL SELECT value FROM run, json_each(run.outputs)"
        " UNION ALL SELECT document_hash FROM run WHERE document_hash IS NOT NULL"
        " UNION ALL SELECT document_hash FROM workflow_version"
        ") WHERE h NOT IN (SELECT hash FROM blob)"
    ).fetchone()[0]
    assert dangling == 0, f"{dangling} values named by rows are missing"
    partial = raw.execute(
        "SELECT w.id FROM workflow w WHERE w.current_version < 1"
        " OR w.current_version != (SELECT count(*) FROM workflow_version v WHERE v.workflow_id = w.id)"
    ).fetchall()
    assert partial == [], f"workflows without all their versions: {partial}"


def _big_workflow(workflow_id: str, description: str, size: int = 400_000) -> Workflow:
    nodes = [node(f"n{i}", "t.noop", label=padding(f"{description} {i}", size // 20)) for i in range(20)]
    return workflow(nodes).model_copy(update={"id": workflow_id, "name": workflow_id, "description": description})


def _small_workflow(workflow_id: str, description: str) -> Workflow:
    return workflow([node("a", "t.noop")]).model_copy(
        update={"id": workflow_id, "name": workflow_id, "description": description}
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- disk full, in-process
def test_saving_when_the_disk_is_full_fails_cleanly_and_keeps_every_earlier_version(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    store = open_store(path)
    try:
        for i in range(3):
            store.workflows.save(_small_workflow("wf_kept", f"version {i + 1}"))
        store.workflows.save(_small_workflow("wf_other", "other"))
        blobs = store.db.raw().execute("SELECT count(*) FROM blob").fetchone()[0]
        _limit(store, 8)  # 32 KB of room; the new versions need about 400 KB

        with pytest.raises(LibraryError) as caught:
            store.workflows.save(_big_workflow("wf_kept", "version 4"))
        message = str(caught.value)
        assert "full" in message and str(path) in message and "nothing was written" in message
        with pytest.raises(LibraryError, match="full"):
            store.workflows.save(_big_workflow("wf_new", "first version"))  # a new workflow: no row without a version

        assert [v.version for v in store.workflows.history("wf_kept")] == [3, 2, 1]
        assert store.workflows.get("wf_kept").current_version == 3
        for version in (1, 2, 3):
            assert store.workflows.load("wf_kept", version).description == f"version {version}"
        assert store.workflows.load("wf_other").description == "other"
        assert not store.workflows.exists("wf_new")
        assert store.db.raw().execute("SELECT count(*) FROM blob").fetchone()[0] == blobs, "a value was left behind"
        _check_whole(store)

        _unlimit(store)  # space freed: the same save now works, in the same process
        assert store.workflows.save(_big_workflow("wf_kept", "version 4")).version == 4
        assert store.workflows.load("wf_kept").description == "version 4"
        _check_whole(store)
    finally:
        store.close()
    store = open_store(path)  # and a restart finds it all
    try:
        assert [v.version for v in store.workflows.history("wf_kept")] == [4, 3, 2, 1]
        _check_whole(store)
    finally:
        store.close()


def test_starting_a_run_when_the_disk_is_full_fails_cleanly(tmp_path: Path) -> None:
    store = open_store(tmp_path / "library.db")
    try:
        wf = many_workflow("wf_run", 8).model_copy(update={"inputs": (RunInput(name="x", type="string"),)})
        store.workflows.save(wf)
        service = RunService(store, catalog(tmp_path / "executions.log", "run"), EngineServices())
        _limit(store, 2)

        async def start() -> None:
            big = padding("a big run input", 300_000)
            service.start(wf, {"x": big}, workflow_version=1, idempotency_key="big")

        with pytest.raises(LibraryError, match="full"):
            asyncio.run(start())
        assert store.runs.list(limit=None) == []
        assert store.runs.find_by_key("big") is None
        assert not (tmp_path / "executions.log").exists(), "a node ran although the run could not be recorded"
        _check_whole(store)
    finally:
        store.close()


async def _run_until_done(service: RunService, wf: Workflow, store: Store, headroom: int) -> tuple[str, Any]:
    started = service.start(wf, {"x": 7}, workflow_version=1)
    assert started.handle is not None
    _limit(store, headroom)  # before the run's first commit: the start only inserted its row
    result = await asyncio.wait_for(started.handle.wait(), 30)  # a bound: a full disk must not hang a run
    return started.run_id, result


@pytest.mark.parametrize("headroom", [0, 4])
def test_a_run_whose_journal_fills_the_disk_fails_with_a_clear_message_and_resumes_later(
    tmp_path: Path, headroom: int, caplog: pytest.LogCaptureFixture
) -> None:
    exec_log = tmp_path / "executions.log"
    store = open_store(tmp_path / "library.db")
    try:
        wf = many_workflow("wf_run", RUN_NODES)
        store.workflows.save(wf)
        service = RunService(store, catalog(exec_log, "first"), EngineServices())
        with caplog.at_level(logging.CRITICAL):  # the engine logs the failure; what the user gets is the result
            run_id, result = asyncio.run(_run_until_done(service, wf, store, headroom))

        assert result.status == "failed"
        assert result.error is not None
        assert "the run record could not be saved" in result.error.message
        assert "full" in result.error.message and str(store.path) in result.error.message
        run = store.runs.get(run_id)
        assert run.status == "failed", "the library does not show the run as failed"
        assert run.error is not None and "could not be saved" in run.error["message"]
        _check_whole(store)

        before = store.runs.steps(run_id)
        done = {s.node_id for s in before if s.status == "succeeded"}
        assert 0 < len(done) < RUN_NODES, f"the disk filled at an unhelpful moment: {len(done)} nodes done"
        first = {n for tag, n in read_exec_log(exec_log) if tag == "first"}
        assert done - {"start"} <= first
    finally:
        store.close()

    # space freed, flowdesk started again: resume finishes the run, no recorded node runs again
    store = open_store(tmp_path / "library.db")
    try:
        service = RunService(store, catalog(exec_log, "resume"), EngineServices())

        async def resume() -> Any:
            return await asyncio.wait_for(service.resume(run_id).wait(), 30)

        resumed = asyncio.run(resume())
        assert resumed.status == "succeeded", resumed.error
        rerun = {s.node_id for s in store.runs.steps(run_id) if s.segment >= 1}
        assert not rerun & done, f"recorded nodes ran again: {sorted(rerun & done)[:5]}"
        again = {n for tag, n in read_exec_log(exec_log) if tag == "resume"}
        assert not again & done
        status, _ = store.runs.node_results(run_id)
        assert set(status.values()) == {"succeeded"} and len(status) == RUN_NODES + 1
        _check_whole(store)
    finally:
        store.close()


# ---------------------------------------------------------------- a real full disk, under the command line
@functools.cache
def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    return probe.returncode == 0


needs_mount_namespace = pytest.mark.skipif(
    not _can_unshare(), reason="needs `unshare --mount` (root or user namespaces) to mount a tmpfs or a read-only bind"
)


def _chain_workflow(n: int) -> Workflow:
    """start -> n transforms (each adds 1) -> output: builtin kinds only, so the CLI can run it."""
    nodes = [node("start", "start"), node("n0", "transform", expression="inputs.input.x")]
    edges = ["start.inputs -> n0.input"]
    for i in range(1, n):
        nodes.append(node(f"n{i}", "transform", expression="inputs.input + 1"))
        edges.append(f"n{i - 1}.output -> n{i}.input")
    nodes.append(node("out", "output", name="result"))
    edges.append(f"n{n - 1}.output -> out.value")
    wf = workflow(nodes, edges, inputs=[RunInput(name="x", type="integer")])
    return wf.model_copy(update={"id": "wf_chain", "name": "chain"})


_FULL_DISK_SCRIPT = """
set -e
mount -t tmpfs -o size=2m flowdesk-test "$MNT"
cp "$SRC" "$MNT/library.db"
dd if=/dev/zero of="$MNT/filler" bs=4096 2>/dev/null || true
set +e
"$PY" -m flowdesk --db "$MNT/library.db" list >"$OUT/full_stdout" 2>"$OUT/full_stderr"
echo $? >"$OUT/full_exit"
cp "$MNT/library.db" "$OUT/full_library.db"
ls -A "$MNT" >"$OUT/full_files"
truncate -s -"$ROOM" "$MNT/filler"
"$PY" -m flowdesk --db "$MNT/library.db" run wf_chain -i x=1 -q >"$OUT/stdout" 2>"$OUT/stderr"
echo $? >"$OUT/exit"
rm -f "$MNT/filler"
cp "$MNT/library.db" "$MNT/library.db-wal" "$OUT/"
"""


@dataclass
class FullDiskRun:
    exit_code: int
    stderr: str
    library: Path
    source: Path
    """The library as it was put on the disk."""
    out: Path
    """Files the script wrote: full_exit, full_stderr, full_library.db, full_files of the phase with no room at all."""


@pytest.fixture(scope="module")
def full_disk_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullDiskRun]:
    """A library on a 2 MB tmpfs: `flowdesk list` with no room at all, then `flowdesk run` of a 300-node
    chain with 400 KB left, where the journal fills the disk mid-run."""
    if not _can_unshare():
        pytest.skip("needs `unshare --mount`")
    base = tmp_path_factory.mktemp("full_disk")
    source, mnt, out = base / "library.db", base / "mnt", base / "out"
    mnt.mkdir()
    out.mkdir()
    store = open_store(source)
    store.workflows.save(_chain_workflow(300))
    store.close()
    env = {"MNT": str(mnt), "SRC": str(source), "OUT": str(out), "ROOM": "400k", "PY": sys.executable}
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", _FULL_DISK_SCRIPT],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    yield FullDiskRun(int((out / "exit").read_text()), (out / "stderr").read_text(), out / "library.db", source, out)


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("FLOWDESK_DB", "FLOWDESK_PROFILE")}


@needs_mount_namespace
def test_a_library_on_a_disk_with_no_room_at_all_is_refused_with_a_clear_message(full_disk_run: FullDiskRun) -> None:
    """SQLite cannot even make the -shm file; before the fix in database.py this said "disk I/O error"."""
    out = full_disk_run.out
    stderr = (out / "full_stderr").read_text()
    assert int((out / "full_exit").read_text()) != 0
    assert "Traceback" not in stderr, stderr
    assert "is full" in stderr and "library.db" in stderr, stderr
    assert _digest(out / "full_library.db") == _digest(full_disk_run.source), "the library changed"


@needs_mount_namespace
def test_a_real_full_disk_fails_the_cli_run_with_a_clear_message_and_the_run_resumes(
    full_disk_run: FullDiskRun,
) -> None:
    assert full_disk_run.exit_code == 1, full_disk_run.stderr
    last = full_disk_run.stderr.strip().splitlines()[-1]
    assert last.startswith("flowdesk: run failed: the run record could not be saved"), last
    assert "is full" in last, last

    store = open_store(full_disk_run.library)  # copied off the full disk: flowdesk started again elsewhere
    try:
        _check_whole(store)
        [run] = store.runs.list(limit=None)
        assert run.status in ("interrupted", "failed"), run.status
        before = store.runs.steps(run.id)
        done = {s.node_id for s in before if s.status == "succeeded"}
        assert 0 < len(done) < 300, f"the disk filled at an unhelpful moment: {len(done)} nodes done"
        service = RunService(store, builtin_registry(), EngineServices())

        async def resume() -> Any:
            return await asyncio.wait_for(service.resume(run.id).wait(), 60)

        result = asyncio.run(resume())
        assert result.status == "succeeded", result.error
        assert result.outputs == {"result": 300}
        rerun = {s.node_id for s in store.runs.steps(run.id) if s.segment >= 1}
        assert not rerun & done, f"recorded nodes ran again: {sorted(rerun & done)[:5]}"
        _check_whole(store)
    finally:
        store.close()


@needs_mount_namespace
def test_a_real_full_disk_shows_the_cli_user_no_traceback(full_disk_run: FullDiskRun) -> None:
    assert "Traceback" not in full_disk_run.stderr, full_disk_run.stderr


# ---------------------------------------------------------------- read-only
@functools.cache
def _can_make_immutable(folder: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    probe = folder / "immutable-probe"
    probe.write_text("x")
    try:
        if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
            return False
        try:
            with probe.open("a") as fh:
                fh.write("y")
        except OSError:
            return True
        return False
    finally:
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
        probe.unlink()


@contextmanager
def _immutable(path: Path) -> Iterator[None]:
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_an_immutable_library_can_be_read_but_every_write_fails_with_a_clear_message(tmp_path: Path) -> None:
    if not _can_make_immutable(tmp_path):
        pytest.skip("the filesystem of the test folder has no immutable attribute (chattr +i)")
    path = tmp_path / "library.db"
    store = open_store(path)
    wf = many_workflow("wf_ro", 8)
    store.workflows.save(wf)
    service = RunService(store, catalog(tmp_path / "executions.log", "ro"), EngineServices())

    async def run_once() -> None:
        started = service.start(wf, {"x": 1}, workflow_version=1)
        assert started.handle is not None
        assert (await started.handle.wait()).status == "succeeded"

    asyncio.run(run_once())
    store.close()
    digest = _digest(path)

    with _immutable(path):
        store = open_store(path)
        try:
            assert [w.id for w in store.workflows.list()] == ["wf_ro"]  # the work can still be looked at
            assert content_hash(store.workflows.load("wf_ro")) == content_hash(wf)
            [run] = store.runs.list()
            assert run.status == "succeeded" and len(store.runs.steps(run.id)) == 9

            with pytest.raises(LibraryError) as caught:
                store.workflows.save(wf.model_copy(update={"description": "changed"}))
            assert "read-only" in str(caught.value) and str(path) in str(caught.value)
            with pytest.raises(LibraryError, match="read-only"):
                RunService(store, catalog(tmp_path / "executions.log", "ro"), EngineServices()).start(
                    wf, {"x": 2}, workflow_version=1
                )
            assert [v.version for v in store.workflows.history("wf_ro")] == [1]
        finally:
            store.close()
        assert _digest(path) == digest
    store = open_store(path)
    try:
        assert len(store.runs.list()) == 1
        _check_whole(store)
    finally:
        store.close()


def test_an_immutable_library_holding_a_dead_processs_run_still_opens_so_its_work_can_be_exported(
    tmp_path: Path,
) -> None:
    """Crash recovery needs a write; a read-only library must still open (the work in it is not lost)."""
    if not _can_make_immutable(tmp_path):
        pytest.skip("the filesystem of the test folder has no immutable attribute (chattr +i)")
    path = tmp_path / "library.db"
    store = open_store(path)
    wf = many_workflow("wf_ro", 8)
    store.workflows.save(wf)
    with (
        store.db.write() as conn
    ):  # the row a run leaves when its process is killed (test_crash_kill9 does it for real)
        conn.exec_driver_sql(
            "INSERT INTO run (id, workflow_id, workflow_version, workflow_name, status, created_at, owner)"
            " VALUES ('deadrun', 'wf_ro', 1, 'wf_ro', 'running', 1.0, 'no_such_process')"
        )
    store.close()
    digest = _digest(path)

    with _immutable(path):
        store = open_store(path)  # before the fix in store.py: LibraryError "read-only" from the recovery
        try:
            assert store.runs.get("deadrun").status == "running"  # it cannot be marked here
            exported = tmp_path / "exported.json"
            store.workflows.export("wf_ro", exported)
            assert exported.exists()
            assert content_hash(store.workflows.load("wf_ro")) == content_hash(wf)
        finally:
            store.close()
        assert _digest(path) == digest
    store = open_store(path)  # writable again: the recovery happens now
    try:
        assert store.runs.get("deadrun").status == "interrupted"
    finally:
        store.close()


_READ_ONLY_SCRIPT = """
set -e
mount --bind "$DIR" "$DIR"
mount -o remount,bind,ro "$DIR"
set +e
"$PY" "$@"
"""
_OPEN_AND_REPORT = """
import sys
from pathlib import Path
from flowdesk.store.database import LibraryError
from flowdesk.store.store import open_store
try:
    open_store(Path(sys.argv[1])).close()
    print("opened")
except LibraryError as exc:
    print("LibraryError:", exc)
"""


@needs_mount_namespace
def test_a_library_on_a_read_only_disk_can_be_listed_and_refuses_writes_leaving_it_as_it_was(tmp_path: Path) -> None:
    """Read-only media (a mounted backup, a CD): the work in it can be seen; every write says why it cannot be."""
    folder = tmp_path / "media"
    folder.mkdir()
    path = folder / "library.db"
    store = open_store(path)
    store.workflows.save(many_workflow("wf_ro", 8))
    store.close()
    before = {p.name: _digest(p) for p in folder.iterdir() if p.is_file()}

    env = {**_base_env(), "DIR": str(folder), "PY": sys.executable}
    in_read_only_namespace = ["unshare", "--mount", "--propagation", "private", "sh", "-c", _READ_ONLY_SCRIPT, "sh"]
    done = subprocess.run(
        [*in_read_only_namespace, "-c", _OPEN_AND_REPORT, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "opened", done.stdout

    listed = subprocess.run(
        [*in_read_only_namespace, "-m", "flowdesk", "--db", str(path), "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "wf_ro" in listed.stdout or "wf-ro" in listed.stdout, listed.stdout
    written = subprocess.run(
        [*in_read_only_namespace, "-m", "flowdesk", "--db", str(path), "import", str(_a_workflow_file(tmp_path))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert written.returncode != 0
    assert "Traceback" not in written.stderr, written.stderr
    assert "read-only" in written.stderr and str(path) in written.stderr, written.stderr
    assert {p.name: _digest(p) for p in folder.iterdir() if p.is_file()} == before


def _a_workflow_file(folder: Path) -> Path:
    path = folder / "another.json"
    write_workflow(many_workflow("wf_other", 2), path)
    return path

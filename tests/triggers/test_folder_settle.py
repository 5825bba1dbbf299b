"""Folder triggers fire on complete files: a file written slowly fires once, after its last write;
a file renamed or moved into the folder fires once under its final name; partial and hidden names
never fire. Driven on real folders, by the trigger service and by the real service (uvicorn)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.service_thread import ServiceThread
from triggers.conftest import RecordingSubmit

from flowdesk.store.store import Store
from flowdesk.store.triggers import TriggerStore
from flowdesk.triggers.folders import SettlingFiles, is_partial_name
from flowdesk.triggers.manage import folder_config
from flowdesk.triggers.service import TriggerService

CHUNK = b"x" * 65_536
CHUNKS = 6


class SizeAtSubmit(RecordingSubmit):
    """Records, beside each call, the size of the file it names at the moment the run is submitted."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    async def __call__(self, workflow_id: str, inputs: dict[str, Any], **kwargs: Any) -> str:
        self.sizes.append(Path(inputs["text"]).stat().st_size)
        return await super().__call__(workflow_id, inputs, **kwargs)


async def write_slowly(path: Path, pause_s: float = 0.2) -> None:
    """A file that takes longer than the settle time to write: created empty, then a chunk every pause."""
    with path.open("wb") as out:
        for _ in range(CHUNKS):
            await asyncio.sleep(pause_s)
            out.write(CHUNK)
            out.flush()


def watch(store: Store, echo: str, inbox: Path, submit: RecordingSubmit, body: Any, settle_s: float = 1.0) -> None:
    """Run the trigger service on ``inbox`` while ``body()`` acts on it, then long enough for files to settle."""
    TriggerStore(store.db).add(echo, "folder", folder_config(inbox, "text", settle_s=settle_s))
    service = TriggerService(store, submit, poll_s=0.1)

    async def scenario() -> None:
        await service.start()
        await asyncio.sleep(0.5)  # the watch is set up
        await body()
        await asyncio.sleep(settle_s + 1.5)  # everything settles and fires (once)
        await service.stop()

    asyncio.run(scenario())


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_a_file_written_slowly_fires_once_whole(store: Store, echo: str, inbox: Path) -> None:
    submit = SizeAtSubmit()
    watch(store, echo, inbox, submit, lambda: write_slowly(inbox / "big.bin"))
    assert [c["inputs"] for c in submit.calls] == [{"text": str(inbox / "big.bin")}]
    assert submit.sizes == [CHUNKS * len(CHUNK)]  # not the empty or half-written file


def test_a_file_renamed_into_place_fires_once_under_its_final_name(
    store: Store, echo: str, inbox: Path, tmp_path: Path
) -> None:
    submit = SizeAtSubmit()
    outside = tmp_path / "made-elsewhere.csv"
    outside.write_bytes(b"a,b\n1,2\n")

    async def body() -> None:
        await write_slowly(inbox / "report.csv.part")  # a download: a partial name, then renamed
        (inbox / "report.csv.part").rename(inbox / "report.csv")
        os.replace(outside, inbox / "moved.csv")  # and one moved in whole from another folder

    watch(store, echo, inbox, submit, body)
    called = sorted(c["inputs"]["text"] for c in submit.calls)
    assert called == [str(inbox / "moved.csv"), str(inbox / "report.csv")]
    assert sorted(submit.sizes) == [8, CHUNKS * len(CHUNK)]


def test_partial_and_hidden_names_never_fire(store: Store, echo: str, inbox: Path) -> None:
    submit = SizeAtSubmit()

    async def body() -> None:
        for name in (".hidden", "notes.txt~", "data.tmp", "film.crdownload", "x.part"):
            (inbox / name).write_text("partial")

    watch(store, echo, inbox, submit, body, settle_s=0.3)
    assert submit.calls == []


def test_a_change_restarts_the_settle_wait(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("a")
    files = SettlingFiles(1.0)
    files.saw(path, new=True)
    t0 = time.monotonic()
    assert files.settled(t0 + 0.5) == []
    path.write_text("ab")  # written again (size changed) before it settled
    assert files.settled(t0 + 1.2) == []  # seen changed: waits a full settle time again from here
    assert files.settled(t0 + 2.0) == []
    assert files.settled(t0 + 2.3) == [path]
    assert files.settled(t0 + 9.0) == []  # reported once
    files.saw(path, new=False)  # a later change to a reported file is not a new file
    assert not files


def test_partial_names() -> None:
    assert all(map(is_partial_name, [".x", "a~", "a.PART", "b.tmp", "c.crdownload", ".report.csv.1a2b.tmp"]))
    assert not any(map(is_partial_name, ["report.csv", "a.partition", "tmp.csv", "data"]))


def test_the_settle_time_is_checked_and_kept(inbox: Path) -> None:
    assert folder_config(inbox, "text", settle_s=2.5)["settle_s"] == 2.5
    assert "settle_s" not in folder_config(inbox)
    with pytest.raises(ValueError, match="--settle -1: a file's settle time is between 0 and 3600 seconds"):
        folder_config(inbox, settle_s=-1)


def test_the_service_runs_a_slowly_written_file_once_after_its_last_write(store: Store, echo: str, inbox: Path) -> None:
    TriggerStore(store.db).add(echo, "folder", folder_config(inbox, "text", settle_s=0.8))
    with ServiceThread(store.path, limit=2) as service, service.client() as api:
        time.sleep(0.8)  # the service's first tick set up the watch
        asyncio.run(write_slowly(inbox / "upload.bin"))
        finished_writing = (inbox / "upload.bin").stat().st_mtime
        runs = wait_for_runs(api, 1)
        time.sleep(1.5)  # nothing more comes
        runs = wait_for_runs(api, 1)
    assert len(runs) == 1
    assert runs[0]["created_at"] >= finished_writing + 0.5  # after the file settled, not at its creation
    run = store.runs.get(runs[0]["id"])
    assert store.runs.run_values(run.id)[0] == {"text": str(inbox / "upload.bin"), "count": 1}


def wait_for_runs(api: httpx.Client, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        runs = api.get("/api/runs", params={"workflow": "wf_echo"}).json()["runs"]
        if len(runs) >= count or time.monotonic() > deadline:
            return runs
        time.sleep(0.1)

"""The app's process killed with SIGKILL right after a save, at random moments: every save is there.

``app_child.py`` runs the real main window (offscreen) over a library, with a file dialog open on
the library's folder, saving workflows in a loop; after a random number of saves it is killed.
In every third trial another process lists the library (opening and closing it, as `flowdesk
list` does) while the app is saving: had the app lost its locks, that process would delete the
-wal under it and the saves after it would be gone with the kill. After all trials the library passes SQLite's integrity check and holds every workflow a
child reported saved.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from flowdesk.store.store import open_store

TRIALS = 30
CHILD = Path(__file__).with_name("app_child.py")


def _start(library: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(library)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return child


def _list(library: Path) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "flowdesk", "--db", str(library), "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr


def _kill_after_saves(
    child: subprocess.Popen[str], saves: int, rng: random.Random, *, list_between: Path | None
) -> list[str]:
    assert child.stdin is not None and child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    child.stdin.write("go\n")
    child.stdin.flush()
    saved: list[str] = []
    try:
        while len(saved) < saves:
            line = child.stdout.readline()
            assert line, f"the app stopped by itself after {len(saved)} saves"
            saved.append(line.split()[1])
            if list_between is not None and len(saved) == 1:
                _list(list_between)  # another process opens and closes the library while the app saves
        time.sleep(rng.uniform(0, 0.05))  # a random moment: mid-save, between saves, in the dialog
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    return saved


def test_killing_the_app_right_after_saves_loses_no_saved_workflow(tmp_path: Path) -> None:
    seed = int(os.environ.get("FLOWDESK_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    library = tmp_path / "library.db"
    every: list[str] = []
    waiting = _start(library)
    for trial in range(TRIALS):
        child, waiting = waiting, (_start(library) if trial + 1 < TRIALS else None)  # started while this one runs
        every += _kill_after_saves(child, rng.randint(2, 6), rng, list_between=library if trial % 3 == 0 else None)
    store = open_store(library)
    try:
        assert store.db.raw().execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"seed {seed}"
        kept = {w.id for w in store.workflows.list()}
    finally:
        store.close()
    missing = [wf for wf in every if wf not in kept]
    assert not missing, f"seed {seed}: {len(missing)} of {len(every)} saved workflows are gone: {missing[:5]}"

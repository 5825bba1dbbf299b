"""`flowdesk backup FILE` and `flowdesk restore-library FILE`: a person's whole library, kept and brought back.

The backup is taken while another flowdesk process holds the library open and writes to it (as
the app would), with SQLite's online backup; the restore keeps the library as it was as a dated
copy, and refuses a file that is not a flowdesk library, a damaged one, or one from a newer
flowdesk, leaving everything as it was.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from test_library_cli import example, flowdesk, ok

from flowdesk.model.workflow import Workflow
from flowdesk.store.migrations import LATEST
from flowdesk.store.store import open_store


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ids(library: Path) -> set[str]:
    store = open_store(library)
    try:
        return {w.id for w in store.workflows.list(include_archived=True)}
    finally:
        store.close()


def test_a_backup_taken_while_another_process_writes_restores_the_library_as_it_was(tmp_path: Path) -> None:
    library = tmp_path / "library.db"
    app = open_store(library)  # the app, holding the library open
    try:
        app.workflows.save(Workflow(id="wf_kept", name="kept"))
        ok("--db", str(library), "run", example("ask_llm"), "-i", "question=why?", "-q")
        done = ok("--db", str(library), "backup", str(tmp_path / "monday.db"))
        assert "monday.db" in done.stdout
        app.workflows.save(Workflow(id="wf_later", name="saved after the backup"))
        assert (library.with_name("library.db-wal")).exists()  # the backup did not take the library from the app
    finally:
        app.close()
    assert _ids(tmp_path / "monday.db") == {"wf_kept"}
    runs = sqlite3.connect(tmp_path / "monday.db").execute("SELECT count(*) FROM run").fetchone()[0]
    assert runs == 1

    done = ok("--db", str(library), "restore-library", str(tmp_path / "monday.db"))
    kept = [p for p in tmp_path.glob("library-before-restore-*.db")]
    assert len(kept) == 1 and kept[0].name in done.stdout
    assert _ids(library) == {"wf_kept"}
    assert _ids(kept[0]) == {"wf_kept", "wf_later"}, "the library as it was is not in the dated copy"
    assert "Ask an LLM  succeeded" in ok("--db", str(library), "runs").stdout  # the run came back too


def test_backup_never_overwrites_a_file_or_the_library(tmp_path: Path) -> None:
    library = tmp_path / "library.db"
    ok("--db", str(library), "import", example("ask_llm"))
    taken = tmp_path / "taken.db"
    taken.write_text("my notes")
    for target in (taken, library):
        done = flowdesk("--db", str(library), "backup", str(target))
        assert done.returncode == 2 and str(target) in done.stderr, done.stderr
    assert taken.read_text() == "my notes"


def _newer_backup(path: Path) -> None:
    store = open_store(path)
    store.workflows.save(Workflow(id="wf_future", name="future"))
    store.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.commit()
    conn.close()


def test_restore_refuses_a_foreign_damaged_or_newer_file_and_changes_nothing(tmp_path: Path) -> None:
    library = tmp_path / "library.db"
    ok("--db", str(library), "import", example("ask_llm"))
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE bookmark (url TEXT)")
    conn.commit()
    conn.close()
    text = tmp_path / "notes.txt"
    text.write_text("not a library")
    newer = tmp_path / "newer" / "library.db"
    newer.parent.mkdir()
    _newer_backup(newer)
    damaged = tmp_path / "damaged.db"
    store = open_store(damaged)
    store.close()
    conn = sqlite3.connect(damaged)
    conn.execute("DROP TABLE log")
    conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, note TEXT)")
    conn.commit()
    conn.close()
    before = _ids(library)
    for backup, says in ((other, "not a flowdesk library"), (text, "not a flowdesk library"),
                         (newer, "newer flowdesk"), (damaged, "damaged"), (tmp_path / "none.db", "no file")):  # fmt: skip
        digest = _digest(backup) if backup.exists() else None
        done = flowdesk("--db", str(library), "restore-library", str(backup))
        assert done.returncode == 2, done.stdout
        assert says in done.stderr and str(backup) in done.stderr, done.stderr
        assert digest is None or _digest(backup) == digest
    assert _ids(library) == before
    assert not list(tmp_path.glob("library-before-restore-*")), "a copy was made though nothing was restored"


def test_the_commands_have_help() -> None:
    for command in ("backup", "restore-library"):
        assert "--db" in ok(command, "--help").stdout


def test_import_refuses_a_file_validate_calls_invalid_or_stores_it_saying_so(tmp_path: Path) -> None:
    """A file with a node id used twice imported fine and then stopped the app (DuplicateIdError)."""
    import json

    data = json.loads(Path(example("ask_llm")).read_text(encoding="utf-8"))
    data["nodes"].append(dict(data["nodes"][0]))
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps(data), encoding="utf-8")
    assert flowdesk("validate", str(twice)).returncode == 1
    library = tmp_path / "library.db"
    ok("--db", str(library), "import", example("summarise_document"))
    digest = _digest(library)
    done = flowdesk("--db", str(library), "import", str(twice))
    assert done.returncode == 2 and str(twice) in done.stderr and "not imported" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert _digest(library) == digest and _ids(library) == {"summarise_document"}
    kept = ok("--db", str(library), "import", str(twice), "--keep-invalid")
    assert "error(s)" in kept.stdout and "imported" in kept.stdout
    assert data["id"] in _ids(library)


def test_a_library_flowdesk_cannot_open_is_restored_and_kept_as_it_was(tmp_path: Path) -> None:
    """A damaged library is when a restore is needed most: it must not be refused because the library is damaged."""
    library = tmp_path / "library.db"
    ok("--db", str(library), "import", example("ask_llm"))
    ok("--db", str(library), "backup", str(tmp_path / "good.db"))
    library.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)  # damaged since
    damaged = _digest(library)
    done = ok("--db", str(library), "restore-library", str(tmp_path / "good.db"))
    [kept] = tmp_path.glob("library-before-restore-*.db")
    assert kept.name in done.stdout and _digest(kept) == damaged
    assert _ids(library) == {"ask_llm"}

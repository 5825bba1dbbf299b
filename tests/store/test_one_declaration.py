"""Each table is declared once, in its SQLModel class (issue 14.3).

What lists show of a run or a step (``RunInfo``, ``StepInfo``) and the rows the recorder writes are
made from the table classes' columns, not written again beside them; and adding a column to the
runs list is a change to the table class and one migration (and the panel that shows it), nothing
else: a copy of the package with exactly those two changes records, upgrades and shows the column.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import flowdesk
from flowdesk.paths import examples_dir
from flowdesk.store import recorder
from flowdesk.store.runs import RunInfo, StepInfo
from flowdesk.store.store import open_store
from flowdesk.store.tables import RunRow, StepRow

JSON_TEXT = {"inputs", "outputs"}
"""Columns the reader leaves to ``run_values``/``step_values`` (values by hash, fetched for one run or step)."""


def _columns(cls: type) -> set[str]:
    return {c.name for c in cls.__table__.columns}  # type: ignore[attr-defined]


def test_what_lists_show_and_what_the_recorder_writes_are_the_table_columns() -> None:
    assert set(RunInfo.model_fields) == _columns(RunRow) - JSON_TEXT
    assert set(StepInfo.model_fields) == _columns(StepRow) - JSON_TEXT
    assert set(recorder._NEW_STEP) == _columns(StepRow) - {"id"}


def _with_a_priority_column(copy: Path) -> None:
    """The package as a developer adding a 'priority' to the runs list leaves it: the class and one migration."""
    tables = copy / "store" / "tables.py"
    text = tables.read_text(encoding="utf-8")
    anchor = "\n\nclass RunRow(RunColumns, table=True):"
    assert text.count(anchor) == 1
    tables.write_text(text.replace(anchor, "    priority: int = 0\n" + anchor), encoding="utf-8")
    migrations = copy / "store" / "migrations.py"
    text = migrations.read_text(encoding="utf-8")
    anchor = "\nLATEST = MIGRATIONS[-1].version"
    assert text.count(anchor) == 1
    added = (
        '\nMIGRATIONS = (*MIGRATIONS, Migration(MIGRATIONS[-1].version + 1, "a priority for each run",'
        ' ("ALTER TABLE run ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",)))'
    )
    migrations.write_text(text.replace(anchor, added + anchor), encoding="utf-8")


def _flowdesk(copy_root: Path, library: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy_root), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "--db", str(library), *args],
        capture_output=True, text=True, env=env, timeout=120, cwd=copy_root,
    )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done


def test_a_column_added_to_the_table_class_and_one_migration_is_recorded_upgraded_and_listed(tmp_path: Path) -> None:
    copy_root = tmp_path / "checkout"
    shutil.copytree(
        Path(flowdesk.__file__).parent, copy_root / "flowdesk", ignore=shutil.ignore_patterns("__pycache__")
    )
    _with_a_priority_column(copy_root / "flowdesk")
    example = str(examples_dir() / "ask_llm.json")

    old = tmp_path / "old.db"  # a library made by the code as it is
    store = open_store(old)
    store.close()
    _flowdesk(copy_root, old, "runs")  # the changed code opens it: upgraded, with a backup beside it
    assert list(tmp_path.glob("old.db.schema*.bak")), "the upgrade made no backup"

    library = tmp_path / "new.db"
    ran = _flowdesk(copy_root, library, "run", example)
    run_id = next(line.split()[1] for line in ran.stderr.splitlines() if line.startswith("run "))
    [listed] = json.loads(_flowdesk(copy_root, library, "runs", "--json").stdout)
    assert listed["id"] == run_id and listed["priority"] == 0
    shown = json.loads(_flowdesk(copy_root, library, "show", run_id, "--json").stdout)
    assert shown["run"]["priority"] == 0 and shown["run"]["status"] == "succeeded"
    _flowdesk(copy_root, library, "runs")  # reopened: the schema check agrees with the changed class

"""`flowdesk stats`: the figures of a library with known runs, in the terminal and as JSON; bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.insights_library import RunSpec, StepSpec, add_workflow, document, insert_runs

from flowdesk.cli import main
from flowdesk.store.store import open_store

DAY = 86_400


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "lib.db"
    store = open_store(path)
    docs = {
        "wf_a": add_workflow(store.db, "wf_a", "Daily digest", document("wf_a", {"ask": "openai:gpt-4o-mini"}, ["ask"]))
    }
    now = time.time()
    runs = []
    for i in range(6):
        start = now - 3600 - i * 60
        status = "failed" if i == 5 else "succeeded"
        step = StepSpec("ask", start, start + 2.0, "failed" if i == 5 else "succeeded", tokens=(10, 5), cost=0.25,
                        error_class="timeout" if i == 5 else None)  # fmt: skip
        error = ("timeout", "ask", "no reply in 30 s") if i == 5 else None
        runs.append(RunSpec(f"run{i}", "wf_a", start, 2.0, status, [step], error))
    old = now - 40 * DAY
    runs.append(RunSpec("old", "wf_a", old, 1.0, steps=[StepSpec("ask", old, old + 1.0, cost=1.0)]))
    insert_runs(store.db, runs, docs)
    store.close()
    return path


def test_stats_prints_the_weeks_figures(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "wf-a", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Daily digest: 7d")
    assert "runs 6 (5 succeeded, 1 failed); success 83.3%" in out
    assert "p50 2.0" in out and "cost $1.50" in out
    assert "openai:gpt-4o-mini" in out and "no reply in 30 s" in out


def test_stats_json_has_every_figure(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--since", "all", "--json", "--db", str(db)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"] == 7 and data["by_status"] == {"succeeded": 6, "failed": 1}
    assert data["cost_usd"] == pytest.approx(2.5)
    assert data["models"][0]["calls"] == 7
    assert data["failures"][0]["error_class"] == "timeout"
    assert data["names"] == {"wf_a": "Daily digest"}


def test_bad_input_gets_one_clear_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--since", "soon", "--db", str(db)]) == 2
    assert "--since takes a span such as 24h" in capsys.readouterr().err
    assert main(["stats", "nope", "--db", str(db)]) == 2
    assert "there is no workflow 'nope'" in capsys.readouterr().err

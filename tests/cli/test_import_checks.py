"""`flowdesk import` refuses exactly what `flowdesk validate` calls an error (issue 22.4).

The attacks imported hundreds of mutated files that validate rejected. Here each mutation of an
example is checked both ways: validate says invalid (exit 1), so import refuses it (exit 2, one line
naming the file and the first error) and the library is left as it was; ``--keep-invalid`` stores it,
saying how many errors it has.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowdesk.paths import examples_dir

Mutation = Callable[[dict[str, Any]], None]


def _prompt(text: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        next(n for n in data["nodes"] if n["kind"] == "llm")["config"]["prompt"] = text

    return mutate


def _edge_to(target: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["edges"][0]["target"] = target

    return mutate


MUTATIONS: dict[str, Mutation] = {
    "a template that does not parse": _prompt("{{ run.inputs.question "),
    "a template reading a run input that is not declared": _prompt("{{ run.inputs.nosuch }}"),
    "a template reading a node that is not there": _prompt("{{ nodes.ghost.text }}"),
    "a node id used twice": lambda data: data["nodes"].append(dict(data["nodes"][0])),
    "an edge to a node that is not there": _edge_to("ghost"),
    "a node of a kind that does not exist": lambda data: data["nodes"][0].__setitem__("kind", "no.such.kind"),
}


def _flowdesk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "flowdesk", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_import_refuses_every_file_validate_calls_invalid(tmp_path: Path, mutation: str) -> None:
    data = json.loads((examples_dir() / "ask_llm.json").read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    MUTATIONS[mutation](bad)
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    assert _flowdesk("validate", str(path)).returncode == 1, f"validate accepted {mutation}"
    library = tmp_path / "library.db"
    done = _flowdesk("--db", str(library), "import", str(path))
    assert done.returncode == 2, f"{mutation} was imported:\n{done.stdout}{done.stderr}"
    assert "not imported" in done.stderr and str(path) in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    listed = _flowdesk("--db", str(library), "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], "the refused file is in the library"


def test_import_refuses_a_workflow_file_it_would_bring_along_that_validate_calls_invalid(tmp_path: Path) -> None:
    """Importing a workflow imports the files its map and sub-workflow nodes name; they are checked as it is."""
    item = json.loads((examples_dir() / "ask_llm.json").read_text(encoding="utf-8"))
    item["id"] = "item"
    _prompt("{{ run.inputs.question ")(item)
    (tmp_path / "item.json").write_text(json.dumps(item), encoding="utf-8")
    caller = json.loads((examples_dir() / "ask_llm.json").read_text(encoding="utf-8"))
    caller["id"] = "caller"
    caller["nodes"].append({"id": "sub", "kind": "subworkflow", "config": {"workflow": "item.json"}})
    (tmp_path / "caller.json").write_text(json.dumps(caller), encoding="utf-8")
    assert _flowdesk("validate", str(tmp_path / "item.json")).returncode == 1
    library = tmp_path / "library.db"
    done = _flowdesk("--db", str(library), "import", str(tmp_path / "caller.json"))
    assert done.returncode == 2, f"imported with an invalid workflow it calls:\n{done.stdout}{done.stderr}"
    assert "item.json" in done.stderr and "not imported" in done.stderr, done.stderr
    listed = _flowdesk("--db", str(library), "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], "part of the import is in the library"
    kept = _flowdesk("--db", str(library), "import", str(tmp_path / "caller.json"), "--keep-invalid")
    assert kept.returncode == 0, kept.stderr
    assert {w["id"] for w in json.loads(_flowdesk("--db", str(library), "list", "--json").stdout)} == {"caller", "item"}

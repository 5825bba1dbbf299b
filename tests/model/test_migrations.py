"""The migration chain: older files are upgraded step by step, never in place, never past current."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from flowdesk.model.fileformat import WorkflowFileError, dumps_workflow, loads_workflow, read_workflow
from flowdesk.model.migrations import DEFAULT_MIGRATIONS, MigrationChain, MigrationError
from flowdesk.model.workflow import FORMAT, FORMAT_VERSION


def synthetic_chain(calls: list[int] | None = None) -> MigrationChain:
    """Versions 1 -> 2 renames ``title`` to ``name``; 2 -> 3 folds ``x``/``y`` into ``position``."""
    chain = MigrationChain(current=3)

    @chain.register(1)
    def rename_title(doc: dict[str, Any]) -> dict[str, Any]:
        if calls is not None:
            calls.append(1)
        out = {k: v for k, v in doc.items() if k != "title"}
        out["name"] = doc["title"]
        return out

    @chain.register(2)
    def nest_position(doc: dict[str, Any]) -> dict[str, Any]:
        if calls is not None:
            calls.append(2)
        nodes = [
            {**{k: v for k, v in n.items() if k not in ("x", "y")}, "position": {"x": n["x"], "y": n["y"]}}
            for n in doc["nodes"]
        ]
        return {**doc, "nodes": nodes}

    return chain


V1 = {"format": FORMAT, "format_version": 1, "title": "Old", "nodes": [{"id": "a", "x": 1, "y": 2}]}


def test_synthetic_chain_upgrades_step_by_step_in_order() -> None:
    calls: list[int] = []
    original = copy.deepcopy(V1)
    upgraded = synthetic_chain(calls).upgrade(V1, "old.json")
    assert calls == [1, 2]
    assert upgraded == {
        "format": FORMAT,
        "format_version": 3,
        "name": "Old",
        "nodes": [{"id": "a", "position": {"x": 1, "y": 2}}],
    }
    assert V1 == original


def test_upgrade_starts_at_the_documents_version() -> None:
    calls: list[int] = []
    v2 = {"format": FORMAT, "format_version": 2, "name": "n", "nodes": []}
    assert synthetic_chain(calls).upgrade(v2)["format_version"] == 3
    assert calls == [2]


def test_current_document_is_returned_as_a_copy_untouched() -> None:
    doc = {"format_version": 3, "name": "n"}
    result = synthetic_chain().upgrade(doc)
    assert result == doc and result is not doc


def test_a_step_that_edits_its_argument_cannot_change_the_callers_dict() -> None:
    chain = MigrationChain(current=2)

    @chain.register(1)
    def in_place(doc: dict[str, Any]) -> dict[str, Any]:
        doc["nodes"].append({"id": "added"})
        doc.pop("old", None)
        return doc

    doc = {"format_version": 1, "old": True, "nodes": [{"id": "a"}]}
    original = copy.deepcopy(doc)
    assert chain.upgrade(doc)["nodes"] == [{"id": "a"}, {"id": "added"}]
    assert doc == original


def test_newer_version_is_refused() -> None:
    with pytest.raises(MigrationError) as info:
        synthetic_chain().upgrade({"format_version": 4}, "new.json")
    assert info.value.message == (
        "written by a newer flowdesk (format_version 4; this flowdesk reads up to 3) — upgrade flowdesk to open it"
    )
    assert str(info.value).startswith("new.json: written by a newer flowdesk")


def test_missing_step_is_a_clear_error() -> None:
    chain = MigrationChain(current=3)
    chain.register(2)(lambda doc: doc)
    with pytest.raises(MigrationError) as info:
        chain.upgrade({"format_version": 0})
    assert info.value.message == (
        "format_version 0 is too old for this flowdesk: there is no upgrade from format_version 0 to 1"
    )
    with pytest.raises(MigrationError, match="no upgrade from format_version 1 to 2"):
        chain.upgrade({"format_version": 1})


def test_failing_step_is_reported_with_its_versions() -> None:
    with pytest.raises(MigrationError) as info:
        synthetic_chain().upgrade({"format_version": 1, "nodes": []})
    assert info.value.message == "could not upgrade from format_version 1 to 2: 'title'"


@pytest.mark.parametrize("version", [None, "1", 1.0, True])
def test_version_must_be_an_integer(version: object) -> None:
    with pytest.raises(MigrationError, match="format_version must be an integer"):
        synthetic_chain().upgrade({"format_version": version})


def test_register_refuses_impossible_steps() -> None:
    chain = MigrationChain(current=2)
    chain.register(1)(lambda doc: doc)
    with pytest.raises(ValueError, match="already registered"):
        chain.register(1)
    with pytest.raises(ValueError, match="past the current version"):
        chain.register(2)
    with pytest.raises(ValueError, match="non-negative"):
        chain.register(-1)
    with pytest.raises(ValueError, match="non-negative"):
        MigrationChain(current=-1)
    assert list(chain.steps) == [1]
    with pytest.raises(TypeError):
        chain.steps[0] = lambda doc: doc  # type: ignore[index]


def test_step_must_return_a_dict() -> None:
    chain = MigrationChain(current=1)
    chain.register(0)(lambda doc: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="returned NoneType"):
        chain.upgrade({"format_version": 0})


def test_default_chain_is_at_the_current_format_with_no_invented_history() -> None:
    assert DEFAULT_MIGRATIONS.current == FORMAT_VERSION
    assert dict(DEFAULT_MIGRATIONS.steps) == {}


# ---------------------------------------------------------------- end to end through the reader


def chain_from_version_0() -> MigrationChain:
    """An honest stand-in for a real history: version 0 called ``name`` ``title`` and ``kind`` ``type``."""
    chain = MigrationChain(current=FORMAT_VERSION)

    @chain.register(FORMAT_VERSION - 1)
    def from_v0(doc: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in doc.items() if k != "title"}
        out["name"] = doc.get("title", "Untitled")
        out["nodes"] = [{("kind" if k == "type" else k): v for k, v in n.items()} for n in doc.get("nodes", [])]
        return out

    return chain


V0_TEXT = json.dumps(
    {
        "format": FORMAT,
        "format_version": FORMAT_VERSION - 1,
        "id": "wf",
        "title": "Legacy",
        "nodes": [{"id": "a", "type": "llm"}],
    }
)


def test_reader_upgrades_an_older_file_through_the_chain(tmp_path: Any) -> None:
    wf = loads_workflow(V0_TEXT, "old.json", migrations=chain_from_version_0())
    assert (wf.name, wf.nodes[0].kind, wf.format_version) == ("Legacy", "llm", FORMAT_VERSION)
    saved = json.loads(dumps_workflow(wf))
    assert saved["format_version"] == FORMAT_VERSION and "title" not in saved
    path = tmp_path / "old.json"
    path.write_text(V0_TEXT)
    assert read_workflow(path, migrations=chain_from_version_0()) == wf


def test_reader_turns_migration_failures_into_file_errors() -> None:
    broken = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION - 1, "id": "wf", "nodes": "oops"})
    with pytest.raises(WorkflowFileError) as info:
        loads_workflow(broken, "old.json", migrations=chain_from_version_0())
    assert str(info.value).startswith(f"old.json: could not upgrade from format_version {FORMAT_VERSION - 1} to ")
    with pytest.raises(WorkflowFileError, match="too old for this flowdesk"):
        loads_workflow(V0_TEXT, "old.json")


def test_upgraded_document_is_still_validated() -> None:
    chain = MigrationChain(current=FORMAT_VERSION)
    chain.register(FORMAT_VERSION - 1)(lambda doc: {"format": FORMAT, "id": "wf", "nodes": [{"id": "a"}]})
    with pytest.raises(WorkflowFileError) as info:
        loads_workflow(V0_TEXT, "old.json", migrations=chain)
    assert str(info.value) == "old.json: nodes[0] (node 'a').kind: required field is missing"


def test_reader_refuses_a_chain_that_does_not_end_at_the_models_version() -> None:
    with pytest.raises(ValueError, match="must end at format_version"):
        loads_workflow(V0_TEXT, migrations=MigrationChain(current=FORMAT_VERSION + 1))

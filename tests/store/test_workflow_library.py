"""The workflow library: versions on change only, history and restore, find, rename, archive, delete, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowdesk.model.fileformat import WorkflowFileError, read_workflow
from flowdesk.model.workflow import Node, Workflow
from flowdesk.paths import examples_dir
from flowdesk.store.store import Store, open_store
from flowdesk.store.workflows import NotFoundError, slugify


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


def _wf(name: str = "Summarise news", nodes: int = 1) -> Workflow:
    return Workflow(
        id="wf_news",
        name=name,
        nodes=tuple(Node(id=f"n{i}", kind="transform", position={"x": i * 10.0, "y": 0.0}) for i in range(nodes)),
    )


def test_save_makes_a_version_only_when_something_changed(store: Store) -> None:
    first = store.workflows.save(_wf(), summary="first")
    again = store.workflows.save(_wf())
    moved = store.workflows.save(_wf(nodes=2), summary="added a node")
    assert (first.version, first.created) == (1, True)
    assert (again.version, again.created) == (1, False)
    assert (moved.version, moved.created) == (2, True)
    assert [(v.version, v.summary, v.current) for v in store.workflows.history("wf_news")] == [
        (2, "added a node", True),
        (1, "first", False),
    ]
    loaded = store.workflows.load("wf_news")
    assert loaded.version == 2 and len(loaded.nodes) == 2
    assert len(store.workflows.load("wf_news", 1).nodes) == 1


def test_a_workflow_is_found_by_id_or_slug_and_slugs_stay_unique(store: Store) -> None:
    store.workflows.save(_wf())
    store.workflows.save(Workflow(id="wf_other", name="Summarise news"))
    assert store.workflows.get("summarise-news").id == "wf_news"
    assert store.workflows.get("summarise-news-2").id == "wf_other"
    assert slugify("  Ask an LLM!  ") == "ask-an-llm"
    with pytest.raises(NotFoundError, match="no workflow 'nope'"):
        store.workflows.get("nope")


def test_restore_saves_the_old_version_as_the_newest(store: Store) -> None:
    store.workflows.save(_wf())
    store.workflows.save(_wf(nodes=3))
    restored = store.workflows.restore("wf_news", 1)
    assert restored.version == 3
    assert len(store.workflows.load("wf_news").nodes) == 1
    assert [v.version for v in store.workflows.history("wf_news")] == [3, 2, 1]  # nothing rewritten


def test_rename_keeps_the_slug_and_records_a_version(store: Store) -> None:
    store.workflows.save(_wf())
    store.workflows.rename("summarise-news", "Daily digest")
    info = store.workflows.get("wf_news")
    assert (info.name, info.slug, info.current_version) == ("Daily digest", "summarise-news", 2)
    assert store.workflows.load("summarise-news").name == "Daily digest"


def test_list_searches_and_hides_archived(store: Store) -> None:
    store.workflows.save(_wf())
    store.workflows.save(Workflow(id="wf_b", name="Invoice parser", description="reads PDFs"), tags=("finance",))
    assert [w.id for w in store.workflows.list("pdf")] == ["wf_b"]
    assert [w.id for w in store.workflows.list("FINANCE")] == ["wf_b"]
    store.workflows.set_status("wf_b", "archived")
    assert [w.id for w in store.workflows.list()] == ["wf_news"]
    assert {w.id for w in store.workflows.list(include_archived=True)} == {"wf_news", "wf_b"}
    with pytest.raises(ValueError, match="status must be one of"):
        store.workflows.set_status("wf_b", "gone")


def test_duplicate_is_a_new_workflow_with_its_own_history(store: Store) -> None:
    store.workflows.save(_wf(nodes=2))
    copy = store.workflows.duplicate("wf_news")
    assert copy.workflow_id != "wf_news" and copy.version == 1
    dup = store.workflows.load(copy.workflow_id)
    assert dup.name == "Summarise news (copy)" and len(dup.nodes) == 2
    assert store.workflows.get(copy.workflow_id).slug == "summarise-news-copy"


def test_delete_keeps_runs_unless_asked(store: Store) -> None:
    store.workflows.save(_wf())
    store.db.raw().execute(
        "INSERT INTO run (id, workflow_id, status, created_at) VALUES ('r1', 'wf_news', 'succeeded', 1)"
    )
    assert store.workflows.delete("wf_news") == 0
    assert not store.workflows.exists("wf_news")
    assert store.runs.get("r1").workflow_id is None  # the run stays, inspectable
    store.workflows.save(_wf())
    store.db.raw().execute(
        "INSERT INTO run (id, workflow_id, status, created_at) VALUES ('r2', 'wf_news', 'succeeded', 1)"
    )
    assert store.workflows.delete("wf_news", with_runs=True) == 1
    with pytest.raises(NotFoundError):
        store.runs.get("r2")
    assert store.db.raw().execute("SELECT count(*) FROM blob").fetchone()[0] == 0  # no orphaned values


def test_import_and_export_round_trip_every_example(store: Store, tmp_path: Path) -> None:
    for path in sorted(examples_dir().glob("*.json")):
        saved = store.workflows.import_file(path)
        out = tmp_path / path.name
        store.workflows.export(saved.workflow_id, out)
        original = read_workflow(path)
        assert read_workflow(out).model_copy(update={"version": original.version}) == original
    assert len(store.workflows.list()) == len(list(examples_dir().glob("*.json")))


def test_importing_a_changed_file_again_adds_a_version_and_as_new_copies(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps({"format": "flowdesk.workflow", "format_version": 1, "id": "wf_x", "name": "X"}))
    assert store.workflows.import_file(path).version == 1
    assert store.workflows.import_file(path).created is False
    path.write_text(json.dumps({"format": "flowdesk.workflow", "format_version": 1, "id": "wf_x", "name": "X2"}))
    assert store.workflows.import_file(path).version == 2
    other = store.workflows.import_file(path, as_new=True)
    assert other.workflow_id != "wf_x" and other.version == 1


def test_a_bad_file_is_refused_with_its_location_and_nothing_is_saved(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"format": "flowdesk.workflow", "format_version": 1, "id": "wf_x",\n "nodes": [ }')
    with pytest.raises(WorkflowFileError, match="bad.json:2"):
        store.workflows.import_file(path)
    assert store.workflows.list(include_archived=True) == []

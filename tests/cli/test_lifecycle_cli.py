"""The lifecycle commands in process: status, publish, tag, rename, duplicate, delete, templates and
`run --version`, each with its refusals (a sentence on stderr, exit 2, nothing changed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from triggers.conftest import echo_workflow

from flowdesk.cli import main
from flowdesk.store.lifecycle import published_version, run_version
from flowdesk.store.store import Store, open_store
from flowdesk.store.templates import save_template
from flowdesk.store.triggers import TriggerStore
from flowdesk.triggers.manage import add_trigger, webhook_config
from flowdesk.triggers.secrets import WebhookSecrets


@pytest.fixture
def library(private_library: Path) -> Path:
    store = open_store(private_library)
    store.workflows.save(echo_workflow())
    store.close()
    return private_library


def opened(library: Path) -> Store:
    return open_store(library)


def flowdesk(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_moves_between_draft_active_and_archived_and_archived_leaves_the_list(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flowdesk(capsys, "status", "echo", "active")[1] == "echo: draft -> active\n"
    assert flowdesk(capsys, "status", "echo", "archived")[0] == 0
    assert "echo" not in flowdesk(capsys, "list")[1]
    assert "archived" in flowdesk(capsys, "list", "--all")[1]
    with pytest.raises(SystemExit) as exit_:
        main(["status", "echo", "retired"])
    assert exit_.value.code == 2 and "invalid choice: 'retired'" in capsys.readouterr().err
    code, _, err = flowdesk(capsys, "status", "nope", "active")
    assert code == 2 and "there is no workflow 'nope'" in err


def test_publish_picks_the_version_that_runs_and_later_saves_stay_drafts(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = flowdesk(capsys, "publish", "echo")
    assert code == 0 and "published version 1 of echo" in out and "(active)" in out
    store = opened(library)
    store.workflows.save(echo_workflow(name="Echo v2"))
    assert run_version(store.db, "echo") == 1 and store.workflows.get("echo").current_version == 2
    store.close()
    assert flowdesk(capsys, "publish", "echo", "--version", "2")[0] == 0
    code, _, err = flowdesk(capsys, "publish", "echo", "--version", "7")
    assert code == 2 and "workflow 'echo' has no version 7 (it has 1 to 2)" in err
    store = opened(library)
    assert published_version(store.db, "wf_echo") == 2
    store.close()


def test_a_version_with_errors_is_not_published(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = opened(library)
    broken = echo_workflow().model_copy(update={"edges": ()})  # nothing reaches the output any more
    store.workflows.save(broken)
    store.close()
    code, _, err = flowdesk(capsys, "publish", "echo")
    assert code == 2 and "version 2 of 'echo' cannot run:" in err and "nothing was published" in err
    store = opened(library)
    assert published_version(store.db, "wf_echo") is None and store.workflows.get("echo").status == "draft"
    store.close()
    assert flowdesk(capsys, "publish", "echo", "--version", "1")[0] == 0


def test_a_workflow_never_published_runs_its_newest_version(library: Path) -> None:
    store = opened(library)
    store.workflows.save(echo_workflow(name="Echo v2"))
    assert published_version(store.db, "wf_echo") is None and run_version(store.db, "echo") == 2
    assert run_version(store, "wf_echo") == 2  # the service passes its Store
    store.close()


def test_tags_are_added_once_and_removed_and_bad_ones_refused(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flowdesk(capsys, "tag", "echo", "add", "nightly", "ops", "nightly")[1] == "echo tags: nightly, ops\n"
    assert flowdesk(capsys, "tag", "echo", "remove", "nightly")[1] == "echo tags: ops\n"
    code, _, err = flowdesk(capsys, "tag", "echo", "remove", "nightly")
    assert code == 2 and "echo has no tag 'nightly' (its tags: ops)" in err
    code, _, err = flowdesk(capsys, "tag", "echo", "add", "a,b")
    assert code == 2 and "without a comma" in err
    assert "echo" in flowdesk(capsys, "list", "ops")[1]  # the list's search finds tags
    assert "echo" not in flowdesk(capsys, "list", "nightly")[1]


def test_rename_keeps_the_slug_and_duplicate_makes_a_new_draft(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flowdesk(capsys, "status", "echo", "active")
    code, out, _ = flowdesk(capsys, "rename", "echo", "Echo everything")
    assert code == 0 and "the slug stays echo" in out
    code, _, err = flowdesk(capsys, "rename", "echo", "  ")
    assert code == 2 and "cannot be empty" in err
    code, out, _ = flowdesk(capsys, "duplicate", "echo", "--name", "Echo twin")
    assert code == 0 and "as echo-twin" in out
    store = opened(library)
    assert store.workflows.get("echo").name == "Echo everything"
    twin = store.workflows.get("echo-twin")
    assert twin.name == "Echo twin" and twin.status == "draft" and twin.id != "wf_echo"
    store.close()


def test_delete_needs_yes_off_a_terminal_and_takes_triggers_and_their_secrets(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = opened(library)
    hook = add_trigger(store.db, "echo", "webhook", webhook_config()).trigger
    store.close()
    code, _, err = flowdesk(capsys, "delete", "echo")
    assert code == 2 and "needs --yes" in err
    assert flowdesk(capsys, "delete", "echo", "--yes")[0] == 0
    store = opened(library)
    assert not store.workflows.exists("echo") and TriggerStore(store.db).list() == []
    store.close()
    assert WebhookSecrets().get(hook.id) is None


def test_templates_lists_the_built_in_ones_and_the_users_own(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_template(echo_workflow(name="My echo"))
    code, out, _ = flowdesk(capsys, "templates")
    assert code == 0
    mine = [line for line in out.splitlines() if line.startswith("My echo")]
    assert len(mine) == 1 and "yours" in mine[0]
    assert any(line.startswith("Ask an LLM") and "built-in" in line for line in out.splitlines())


def test_run_version_runs_an_older_version_and_refuses_one_that_is_not_there(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = opened(library)
    edited = echo_workflow()
    edited = edited.model_copy(
        update={
            "nodes": tuple(
                n.model_copy(update={"config": {"expression": "'v2'"}}) if n.id == "t" else n for n in edited.nodes
            )
        }
    )
    store.workflows.save(edited)
    store.close()
    code, out, _ = flowdesk(capsys, "run", "echo", "--version", "1", "-i", "text=from v1", "--quiet")
    assert code == 0 and '"text": "from v1"' in out
    code, out, _ = flowdesk(capsys, "run", "echo", "-i", "text=x", "--quiet")
    assert code == 0 and '"text": "v2"' in out
    store = opened(library)
    assert sorted(r.workflow_version for r in store.runs.list()) == [1, 2]
    store.close()
    code, _, err = flowdesk(capsys, "run", "echo", "--version", "9", "-i", "text=x")
    assert code == 2 and "has no version 9 (it has 1 to 2)" in err
    code, _, err = flowdesk(capsys, "run", "echo", "--version", "0", "-i", "text=x")
    assert code == 2 and "versions are numbered from 1" in err

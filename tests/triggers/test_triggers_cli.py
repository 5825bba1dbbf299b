"""`flowdesk triggers add|list|pause|resume|remove` in process (main() with captured output), each kind and
each refusal; one real subprocess shows `--webhook --json` printing what a sender needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from triggers.conftest import echo_workflow

from flowdesk.cli import main
from flowdesk.store.store import open_store
from flowdesk.store.triggers import TriggerInfo, TriggerStore
from flowdesk.triggers.manage import describe
from flowdesk.triggers.secrets import WebhookSecrets


@pytest.fixture
def library(private_library: Path) -> Path:
    store = open_store(private_library)
    store.workflows.save(echo_workflow())
    store.workflows.save(echo_workflow("wf_up", "Upstream"))
    store.close()
    return private_library


def triggers(library: Path) -> list[TriggerInfo]:
    store = open_store(library)
    try:
        return TriggerStore(store.db).list()
    finally:
        store.close()


def flowdesk(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_each_kind_is_added_with_its_settings_and_listed_in_plain_words(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = flowdesk(
        capsys, "triggers", "add", "echo", "--cron", "0 9 * * 1-5", "--tz", "Europe/Paris", "--set", "text=morning"
    )
    assert code == 0 and "At 09:00, Monday through Friday (Europe/Paris); next: " in out
    assert "echo is draft; its triggers fire once it is active" in out
    assert flowdesk(capsys, "triggers", "add", "echo", "--every", "3600")[0] == 0
    assert flowdesk(capsys, "triggers", "add", "echo", "--folder", str(tmp_path), "--file-input", "text")[0] == 0
    assert flowdesk(capsys, "triggers", "add", "echo", "--after", "upstream", "--status", "failed")[0] == 0
    assert flowdesk(capsys, "triggers", "add", "echo", "--webhook", "--map", "text=pull_request.title")[0] == 0
    kinds = {t.kind: t.config for t in triggers(library)}
    assert kinds == {
        "cron": {"cron": "0 9 * * 1-5", "tz": "Europe/Paris", "inputs": {"text": "morning"}},
        "interval": {"seconds": 3600.0},
        "folder": {"path": str(tmp_path.resolve()), "input": "text"},
        "after": {"workflow_id": "wf_up", "status": "failed"},
        "webhook": {"map": {"text": "pull_request.title"}},
    }
    code, out, _ = flowdesk(capsys, "triggers", "list", "echo")
    assert code == 0 and "every hour" in out and "after 'upstream' ends failed" in out and out.count("off (draft)") == 5


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--cron", "0 25 * * *"), "the hour field '25' is not valid"),
        (("--cron", "0 9 * *"), "has 4 field(s); it needs 5"),
        (("--cron", "0 9 * * *", "--tz", "Mars/Olympus"), "unknown timezone 'Mars/Olympus'"),
        (("--every", "0"), "an interval is at least 1 second"),
        (("--folder", "/no/such/folder"), "there is no such folder"),
        (("--folder", ".", "--settle", "-1"), "--settle -1: a file's settle time is between 0 and 3600 seconds"),
        (("--after", "nope"), "there is no workflow 'nope'"),
        (("--after", "upstream", "--status", "maybe"), "--status is one of succeeded"),
        (("--webhook", "--map", "text"), "--map expects NAME=VALUE"),
    ],
)
def test_bad_settings_are_refused_with_a_sentence_and_nothing_is_stored(
    library: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], says: str
) -> None:
    code, _, err = flowdesk(capsys, "triggers", "add", "echo", *args)
    assert code == 2 and says in err and "Traceback" not in err
    assert triggers(library) == []


def test_a_folder_trigger_keeps_its_settle_time_and_says_it(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flowdesk(capsys, "triggers", "add", "echo", "--folder", str(tmp_path), "--settle", "2.5")[0] == 0
    (trigger,) = triggers(library)
    assert trigger.config == {"path": str(tmp_path.resolve()), "input": "path", "settle_s": 2.5}
    assert (
        describe(trigger)
        == f"a file appearing in {tmp_path.resolve()}, once unchanged for 2.5 s (its path as input 'path')"
    )


def test_pause_resume_and_remove_and_their_refusals(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flowdesk(capsys, "triggers", "add", "echo", "--webhook")
    (hook,) = triggers(library)
    assert WebhookSecrets().get(hook.id)
    assert flowdesk(capsys, "triggers", "pause", hook.id)[1].startswith("paused webhook trigger")
    assert triggers(library)[0].paused
    assert flowdesk(capsys, "triggers", "resume", hook.id)[1].startswith("resumed")
    assert not triggers(library)[0].paused
    assert flowdesk(capsys, "triggers", "remove", hook.id)[0] == 0
    assert triggers(library) == [] and WebhookSecrets().get(hook.id) is None
    code, _, err = flowdesk(capsys, "triggers", "pause", hook.id)
    assert code == 2 and f"there is no trigger '{hook.id}'" in err
    code, _, err = flowdesk(capsys, "triggers", "list", "nope")
    assert code == 2 and "there is no workflow 'nope'" in err


def test_webhook_json_prints_the_id_url_and_secret_a_sender_needs(library: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "triggers", "add", "echo", "--webhook", "--json"],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["url"] == f"http://127.0.0.1:8765/hooks/{printed['id']}"
    assert printed["secret"] == WebhookSecrets().get(printed["id"]) and len(printed["secret"]) >= 32
    assert printed["secret"].encode() not in library.read_bytes()

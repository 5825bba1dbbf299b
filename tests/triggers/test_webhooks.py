"""The webhook endpoint with FastAPI's TestClient: the secret header and the HMAC signature (and their
refusals, 401/403), bad bodies answered 400 with every problem located, redeliveries, paused triggers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from triggers.conftest import RecordingSubmit

from flowdesk.store.store import Store
from flowdesk.store.triggers import TriggerStore
from flowdesk.triggers.manage import add_trigger, remove_trigger, webhook_config
from flowdesk.triggers.secrets import WebhookSecrets, signature
from flowdesk.triggers.webhooks import hooks_router


@pytest.fixture
def secrets(tmp_path: Path) -> WebhookSecrets:
    return WebhookSecrets(tmp_path / "config" / "webhook-secrets.json")


@pytest.fixture
def client(store: Store, recording: RecordingSubmit, secrets: WebhookSecrets) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(hooks_router(store, recording, secrets=secrets))
    with TestClient(app) as test_client:
        yield test_client


def _hook(store: Store, echo: str, secrets: WebhookSecrets, mapping: dict[str, str] | None = None) -> tuple[str, str]:
    added = add_trigger(store.db, echo, "webhook", webhook_config(mapping), secrets=secrets)
    assert added.secret
    return added.trigger.id, added.secret


def test_the_secret_header_starts_a_run_with_the_body_as_inputs(
    store: Store, echo: str, secrets: WebhookSecrets, client: TestClient, recording: RecordingSubmit
) -> None:
    tid, secret = _hook(store, echo, secrets)
    reply = client.post(f"/hooks/{tid}", json={"text": "hello", "count": 3}, headers={"X-Flowdesk-Secret": secret})
    assert reply.status_code == 202, reply.text
    assert reply.json()["run_id"] == "run_1"
    assert recording.calls == [
        {"workflow_id": echo, "inputs": {"text": "hello", "count": 3}, "version": 1, "key": None, "trigger": tid}
    ]
    assert TriggerStore(store.db).get(tid).last_run_id == "run_1"


def test_a_github_style_signature_of_the_body_is_accepted_and_a_redelivery_starts_nothing_new(
    store: Store, echo: str, secrets: WebhookSecrets, client: TestClient, recording: RecordingSubmit
) -> None:
    tid, secret = _hook(store, echo, secrets, {"text": "repository.full_name"})
    body = json.dumps({"action": "opened", "repository": {"full_name": "acme/app"}}).encode()
    headers = {
        "X-Hub-Signature-256": signature(secret, body),
        "X-GitHub-Delivery": "d-1",
        "Content-Type": "application/json",
    }
    first = client.post(f"/hooks/{tid}", content=body, headers=headers)
    again = client.post(f"/hooks/{tid}", content=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["run_id"] == again.json()["run_id"]
    assert [c["inputs"] for c in recording.calls] == [{"text": "acme/app"}]


@pytest.mark.parametrize(
    ("headers", "status", "says"),
    [
        ({}, 401, "needs the trigger's secret"),
        ({"X-Flowdesk-Secret": "guess"}, 403, "does not match the trigger's secret"),
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 403, "signature does not match"),
    ],
)
def test_calls_without_the_secret_or_with_a_wrong_one_are_refused(
    store: Store,
    echo: str,
    secrets: WebhookSecrets,
    client: TestClient,
    recording: RecordingSubmit,
    headers: dict[str, str],
    status: int,
    says: str,
) -> None:
    tid, _ = _hook(store, echo, secrets)
    reply = client.post(f"/hooks/{tid}", json={"text": "x"}, headers=headers)
    assert reply.status_code == status and says in reply.json()["detail"]
    assert recording.calls == []


def test_a_signature_of_another_body_is_refused(
    store: Store, echo: str, secrets: WebhookSecrets, client: TestClient, recording: RecordingSubmit
) -> None:
    tid, secret = _hook(store, echo, secrets)
    signed = signature(secret, b'{"text": "approved"}')
    reply = client.post(f"/hooks/{tid}", content=b'{"text": "tampered"}', headers={"X-Hub-Signature-256": signed})
    assert reply.status_code == 403 and recording.calls == []


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (b'{"text": "a",', [("body:1:14", "not valid JSON")]),
        (b"", [("body", "empty")]),
        (b"[1, 2]", [("body", "expected a JSON object")]),
        (
            b'{"txet": "typo", "count": "three"}',
            [("body.txet", "not an input"), ("body.text", "is required"), ("body.count", "must be integer")],
        ),
    ],
)
def test_bad_bodies_are_answered_400_with_every_problem_located(
    store: Store,
    echo: str,
    secrets: WebhookSecrets,
    client: TestClient,
    recording: RecordingSubmit,
    body: bytes,
    problems: list[tuple[str, str]],
) -> None:
    tid, secret = _hook(store, echo, secrets)
    reply = client.post(f"/hooks/{tid}", content=body, headers={"X-Flowdesk-Secret": secret})
    assert reply.status_code == 400
    found = reply.json()["problems"]
    assert len(found) == len(problems)
    for (where, says), got in zip(problems, found, strict=True):
        assert got["where"] == where and says in got["message"]
    assert recording.calls == []


def test_a_mapped_path_missing_from_the_body_is_named(
    store: Store, echo: str, secrets: WebhookSecrets, client: TestClient
) -> None:
    tid, secret = _hook(store, echo, secrets, {"text": "pull_request.title"})
    reply = client.post(f"/hooks/{tid}", json={"pull_request": {}}, headers={"X-Flowdesk-Secret": secret})
    assert reply.status_code == 400
    assert reply.json()["problems"][0] == {
        "where": "body.pull_request.title",
        "message": "missing (mapped to input 'text')",
    }


def test_unknown_hooks_paused_ones_and_inactive_workflows_start_nothing(
    store: Store, echo: str, secrets: WebhookSecrets, client: TestClient, recording: RecordingSubmit
) -> None:
    tid, secret = _hook(store, echo, secrets)
    headers = {"X-Flowdesk-Secret": secret}
    assert client.post("/hooks/tr_nope", json={"text": "x"}, headers=headers).status_code == 404
    TriggerStore(store.db).set_paused(tid, True)
    paused = client.post(f"/hooks/{tid}", json={"text": "x"}, headers=headers)
    assert paused.status_code == 409 and "paused" in paused.json()["detail"]
    TriggerStore(store.db).set_paused(tid, False)
    store.workflows.set_status(echo, "archived")
    archived = client.post(f"/hooks/{tid}", json={"text": "x"}, headers=headers)
    assert archived.status_code == 409 and "archived" in archived.json()["detail"]
    assert recording.calls == []


def test_the_secret_is_kept_out_of_the_library_in_a_private_file_and_goes_with_the_trigger(
    store: Store, echo: str, secrets: WebhookSecrets, client: TestClient
) -> None:
    tid, secret = _hook(store, echo, secrets)
    assert secret.encode() not in store.path.read_bytes() + Path(str(store.path) + "-wal").read_bytes()
    assert secrets.path.stat().st_mode & 0o777 == 0o600 and secrets.get(tid) == secret
    remove_trigger(store.db, tid, secrets=secrets)
    assert secrets.get(tid) is None
    assert client.post(f"/hooks/{tid}", json={"text": "x"}, headers={"X-Flowdesk-Secret": secret}).status_code == 404


def test_the_triggers_fixed_inputs_fill_in_what_the_body_leaves_out(
    store: Store, echo: str, secrets: WebhookSecrets, client: TestClient, recording: RecordingSubmit
) -> None:
    added = add_trigger(store.db, echo, "webhook", {"inputs": {"text": "default", "count": 2}}, secrets=secrets)
    headers = {"X-Flowdesk-Secret": added.secret or ""}
    assert client.post(f"/hooks/{added.trigger.id}", json={"count": 5}, headers=headers).status_code == 202
    assert recording.calls[0]["inputs"] == {"text": "default", "count": 5}


def test_a_damaged_secrets_file_is_named_and_the_webhook_is_not_kept(store: Store, echo: str, tmp_path: Path) -> None:
    broken = WebhookSecrets(tmp_path / "webhook-secrets.json")
    broken.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(OSError, match="webhook-secrets.json: cannot read the webhook secrets"):
        add_trigger(store.db, echo, "webhook", webhook_config(), secrets=broken)
    assert TriggerStore(store.db).list() == []
    assert broken.path.read_text(encoding="utf-8") == "{not json"  # left as it was, for the person to look at


def test_secrets_added_from_many_threads_at_once_are_all_kept(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    kept = WebhookSecrets(tmp_path / "webhook-secrets.json")
    with ThreadPoolExecutor(8) as pool:
        made = dict(zip(range(40), pool.map(lambda i: kept.create(f"tr_{i}"), range(40)), strict=True))
    assert all(kept.get(f"tr_{i}") == secret for i, secret in made.items())

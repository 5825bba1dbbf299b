"""The real service with its triggers, webhooks and metrics wired in, driven over HTTP as a user would.

Triggers, the service and the insights were built apart; these tests hold what joins them: a
webhook posted to the running service starts a run of the published version, a run finishing
fires an after-workflow trigger through the queue, `/api/triggers` and `/api/templates` list what
the library and the user have, and `/metrics` is OpenMetrics behind the token.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from support.service_flows import slow_chain, wait_for_run
from support.service_thread import ServiceThread

from flowdesk.store.lifecycle import publish
from flowdesk.store.store import open_store
from flowdesk.store.triggers import TriggerStore
from flowdesk.triggers.secrets import WebhookSecrets


def _prepare(library: Path) -> tuple[str, str, str]:
    """Publish version 1 of the slow chain, save a version 2 draft; a webhook on it and an after-trigger
    that runs the chain again when it succeeds. Returns (webhook id, its secret, after-trigger id)."""
    store = open_store(library)
    try:
        publish(store.db, "wf_slow", 1)
        draft = slow_chain().model_copy(update={"description": "a draft the triggers must not run"})
        store.workflows.save(draft)
        triggers = TriggerStore(store.db)
        hook = triggers.add("wf_slow", "webhook", {}).id
        store.workflows.save(slow_chain(wf_id="wf_next", name="next in line"))
        publish(store.db, "wf_next")
        after = triggers.add(
            "wf_next", "after", {"workflow_id": "wf_slow", "status": "succeeded", "inputs": {"text": "next"}}
        ).id
    finally:
        store.close()
    return hook, WebhookSecrets().create(hook), after


def test_a_webhook_posted_to_the_service_runs_the_published_version_and_fires_what_follows(library: Path) -> None:
    hook, secret, after = _prepare(library)
    with ServiceThread(library, limit=2) as service, service.client() as api:
        refused = httpx.post(f"{service.url}/hooks/{hook}", json={"text": "hi"}, headers={"X-Flowdesk-Secret": "no"})
        assert refused.status_code == 403
        posted = httpx.post(
            f"{service.url}/hooks/{hook}", json={"text": "from a webhook"}, headers={"X-Flowdesk-Secret": secret}
        )
        assert posted.status_code == 202, posted.text
        assert posted.json()["version"] == 1  # the published one, not the newer draft
        run = wait_for_run(api, posted.json()["run_id"])
        assert run["status"] == "succeeded" and run["outputs"] == {"result": {"text": "from a webhook"}}
        # the after-trigger heard the run end through the queue and started the next workflow
        for _ in range(100):
            listed = api.get("/api/triggers").json()["triggers"]
            fired = next(t for t in listed if t["id"] == after)
            if fired["last_run_id"]:
                break
            time.sleep(0.1)
        assert fired["last_run_id"], (fired["last_error"], fired["last_fired_at"])
        assert wait_for_run(api, fired["last_run_id"])["status"] == "succeeded"
        assert {t["id"] for t in listed} == {hook, after}
        assert "secret" not in json.dumps(listed).lower()


def test_templates_lists_the_examples_and_metrics_are_openmetrics_behind_the_token(library: Path) -> None:
    with ServiceThread(library, limit=2) as service, service.client() as api:
        submitted = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}})
        assert submitted.status_code == 201, submitted.text
        wait_for_run(api, submitted.json()["run_id"])
        names = {t["name"] for t in api.get("/api/templates").json()["templates"]}
        assert {"ask_llm", "etl_orders"} <= names
        assert httpx.get(f"{service.url}/metrics").status_code == 401
        metrics = api.get("/metrics")
        assert metrics.status_code == 200
        families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
        finished = families["flowdesk_runs_finished"]
        assert any(s.labels.get("status") == "succeeded" and s.value >= 1 for s in finished.samples), finished

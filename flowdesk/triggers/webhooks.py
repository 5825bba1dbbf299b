"""Inbound webhooks: ``POST /hooks/{trigger_id}`` starts a run of the trigger's workflow.

FastAPI is imported at the top (not where first used, as elsewhere): it reads the endpoint's
annotations from this module's globals. Only the service imports this module.

Mounted without the API's bearer token: each webhook has its own secret, sent as it is in
``X-Flowdesk-Secret`` or as an ``X-Hub-Signature-256`` HMAC of the body (as GitHub signs). The JSON
body becomes the run's inputs (see ``inputs.body_inputs``). Answers are JSON, never a traceback:
202 with the run id; 400 with the located problems; 401 without a secret; 403 with a wrong one;
404 for no such webhook; 409 when the trigger may not fire (paused, workflow not active).
An ``Idempotency-Key`` (or GitHub's ``X-GitHub-Delivery``) header makes a redelivery return the
run the first delivery started.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from flowdesk.store.lifecycle import run_version
from flowdesk.store.triggers import TriggerStore
from flowdesk.store.workflows import NotFoundError
from flowdesk.triggers.inputs import body_inputs
from flowdesk.triggers.manage import HOOK_PATH
from flowdesk.triggers.secrets import WebhookSecrets, check_call
from flowdesk.triggers.submit import SubmitRun, TriggerRefused

if TYPE_CHECKING:
    from flowdesk.model.workflow import Workflow
    from flowdesk.store.store import Store


DOCUMENTS_KEPT = 64


def _problem(status: int, detail: str, problems: list[tuple[str, str]] | None = None) -> JSONResponse:
    content: dict[str, Any] = {"detail": detail}
    if problems:
        content["problems"] = [{"where": where, "message": what} for where, what in problems]
    return JSONResponse(content, status_code=status)


def _json_body(raw: bytes) -> Any:
    """The body as JSON; TriggerRefused located at body:line:column when it is not."""
    if not raw.strip():
        raise TriggerRefused([("body", "empty; expected a JSON object of run inputs")])
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise TriggerRefused([("body", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from exc
    except json.JSONDecodeError as exc:
        raise TriggerRefused([(f"body:{exc.lineno}:{exc.colno}", f"not valid JSON: {exc.msg}")]) from exc


def hooks_router(store: Store, submit: SubmitRun, *, secrets: WebhookSecrets | None = None) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    triggers = TriggerStore(store.db)
    kept = secrets or WebhookSecrets()
    documents: dict[tuple[str, int], Workflow] = {}
    """Saved versions never change: each is read and parsed once, not on every call."""

    def document(workflow_id: str, version: int) -> Workflow:
        key = (workflow_id, version)
        if key not in documents:
            if len(documents) >= DOCUMENTS_KEPT:
                documents.pop(next(iter(documents)))
            documents[key] = store.workflows.load(workflow_id, version)
        return documents[key]

    @router.post(HOOK_PATH, status_code=202, summary="Start a run of the webhook trigger's workflow")
    async def receive(trigger_id: str, request: Request) -> Any:
        try:
            trigger = triggers.get(trigger_id)
        except NotFoundError:
            trigger = None
        if trigger is None or trigger.kind != "webhook":
            return _problem(404, f"there is no webhook '{trigger_id}'")
        raw = await request.body()
        refused = check_call(kept.get(trigger.id), request.headers, raw)
        if refused is not None:
            return _problem(*refused)
        if not trigger.can_fire:
            why = "paused" if trigger.paused else f"for a workflow that is {trigger.workflow_status}, not active"
            return _problem(409, f"webhook '{trigger_id}' is {why}; nothing was started")
        try:
            version = run_version(store.db, trigger.workflow_id)
            workflow = document(trigger.workflow_id, version)
            config = trigger.config
            inputs = body_inputs(workflow, _json_body(raw), config.get("map") or None, config.get("inputs"))
        except TriggerRefused as exc:
            return _problem(400, "the body does not fit the workflow's inputs; nothing was started", exc.problems)
        delivery = request.headers.get("idempotency-key") or request.headers.get("x-github-delivery")
        key = f"trigger:{trigger.id}:{delivery}" if delivery else None
        try:
            run_id = await submit(trigger.workflow_id, inputs, version=version, idempotency_key=key, trigger=trigger.id)
        except ValueError as exc:  # the workflow itself cannot run (invalid): the sender cannot fix that
            triggers.record_firing(trigger.id, _now(), error=str(exc))
            return _problem(409, f"the workflow cannot run: {exc}")
        triggers.record_firing(trigger.id, _now(), run_id=run_id)
        return {"run_id": run_id, "workflow_id": trigger.workflow_id, "version": version}

    return router


def _now() -> float:
    import time

    return time.time()

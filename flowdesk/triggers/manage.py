"""Adding and removing triggers with their settings checked: what the CLI and the app's Triggers tab call.

Each kind's settings are checked here, before anything is stored, so a bad cron field or a folder
that is not there is refused with a sentence instead of failing later, unseen, in the service.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowdesk.store.database import Database
from flowdesk.store.triggers import TriggerInfo, TriggerStore
from flowdesk.store.workflows import WorkflowLibrary
from flowdesk.triggers.schedule import check_cron, check_interval, describe_interval, preview
from flowdesk.triggers.secrets import WebhookSecrets

AFTER_STATUSES = ("succeeded", "failed", "cancelled", "interrupted", "any")
DEFAULT_SERVICE_URL = "http://127.0.0.1:8765"
"""Where `flowdesk serve` listens unless told otherwise: the base of a webhook's URL."""
HOOK_PATH = "/hooks/{trigger_id}"


def hook_url(trigger_id: str, base: str = DEFAULT_SERVICE_URL) -> str:
    """The address to give the sending program, e.g. http://127.0.0.1:8765/hooks/tr_..."""
    return base.rstrip("/") + HOOK_PATH.format(trigger_id=trigger_id)


@dataclass(frozen=True)
class Added:
    trigger: TriggerInfo
    secret: str | None = None
    """A webhook's secret: shown once, when it is made (it is not in the library)."""


def cron_config(expr: str, tz: str = "UTC", inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    check_cron(expr, tz)
    return {"cron": " ".join(expr.split()), "tz": tz, **({"inputs": inputs} if inputs else {})}


def interval_config(seconds: float, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    check_interval(seconds)
    return {"seconds": seconds, **({"inputs": inputs} if inputs else {})}


def folder_config(
    path: str | Path, input_name: str = "path", inputs: dict[str, Any] | None = None, settle_s: float | None = None
) -> dict[str, Any]:
    """``settle_s``: how long a new file must stay unchanged before it fires (``triggers/folders.py``)."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise ValueError(f"--folder {path}: there is no such folder")
    if settle_s is not None and not 0 <= settle_s <= 3600:
        raise ValueError(f"--settle {settle_s:g}: a file's settle time is between 0 and 3600 seconds")
    settle = {"settle_s": settle_s} if settle_s is not None else {}
    return {"path": str(folder), "input": input_name, **settle, **({"inputs": inputs} if inputs else {})}


def after_config(
    db: Database, workflow_ref: str, status: str = "succeeded", inputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    if status not in AFTER_STATUSES:
        raise ValueError(f"--status is one of {', '.join(AFTER_STATUSES)}, not {status!r}")
    found = WorkflowLibrary(db).get(workflow_ref).id
    return {"workflow_id": found, "status": status, **({"inputs": inputs} if inputs else {})}


def webhook_config(mapping: dict[str, str] | None = None, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**({"map": mapping} if mapping else {}), **({"inputs": inputs} if inputs else {})}


def add_trigger(
    db: Database, workflow_ref: str, kind: str, config: dict[str, Any], *, secrets: WebhookSecrets | None = None
) -> Added:
    """Store the trigger (``config`` from one of the ``*_config`` functions); a webhook gets its secret."""
    trigger = TriggerStore(db).add(workflow_ref, kind, config)
    if kind != "webhook":
        return Added(trigger)
    try:
        secret = (secrets or WebhookSecrets()).create(trigger.id)
    except OSError:
        TriggerStore(db).remove(trigger.id)  # a webhook nobody can call is not kept
        raise
    return Added(trigger, secret)


def remove_trigger(db: Database, trigger_id: str, *, secrets: WebhookSecrets | None = None) -> TriggerInfo:
    removed = TriggerStore(db).remove(trigger_id)
    if removed.kind == "webhook":
        (secrets or WebhookSecrets()).delete(removed.id)
    return removed


def forget_secrets(db: Database, workflow_id: str, *, secrets: WebhookSecrets | None = None) -> None:
    """Before a workflow is deleted: its webhooks' rows go by cascade, their secrets must not stay behind."""
    hooks = TriggerStore(db).list(workflow_id, kind="webhook")
    if hooks:
        kept = secrets or WebhookSecrets()
        for hook in hooks:
            kept.delete(hook.id)


def describe(trigger: TriggerInfo, db: Database | None = None, *, now: float | None = None) -> str:
    """One line saying what the trigger waits for, in plain words."""
    config = trigger.config
    if trigger.kind == "cron":
        return preview(config, time.time() if now is None else now)
    if trigger.kind == "interval":
        return describe_interval(float(config["seconds"]))
    if trigger.kind == "folder":
        settled = f", once unchanged for {float(config['settle_s']):g} s" if "settle_s" in config else ""
        return f"a file appearing in {config['path']}{settled} (its path as input '{config.get('input', 'path')}')"
    if trigger.kind == "after":
        source = str(config["workflow_id"])
        if db is not None:
            library = WorkflowLibrary(db)
            source = library.get(source).slug if library.exists(source) else f"{source} (deleted)"
        return f"after '{source}' ends {config.get('status', 'succeeded')}"
    mapped = config.get("map")
    return (
        "POST /hooks/"
        + trigger.id
        + (f" (inputs from {', '.join(f'{k}={v}' for k, v in mapped.items())})" if mapped else "")
    )

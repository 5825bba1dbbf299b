"""Webhook secrets: made when a webhook trigger is added, kept out of the library, checked on each call.

Where they are kept, and why: a signed call (``X-Hub-Signature-256``, as GitHub sends) is an
HMAC of the body keyed with the secret, so verifying it needs the secret itself, not a hash of it.
The OS keyring is not there on the servers where ``flowdesk serve`` runs (nor for the CLI in CI),
so each secret goes in ``webhook-secrets.json`` beside the settings file, written 0600 and
atomically, like the service's token. The library (which is backed up, copied and shared) holds
no secret at all; deleting a trigger deletes its secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

SECRET_HEADER = "x-flowdesk-secret"
SIGNATURE_HEADER = "x-hub-signature-256"
FILE_NAME = "webhook-secrets.json"


class SecretFileError(OSError):
    """The secrets file cannot be read or written; the message names it."""


def secrets_path() -> Path:
    from flowdesk.providers.settings import settings_path

    return settings_path().with_name(FILE_NAME)


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SecretFileError(f"{path}: cannot read the webhook secrets: {exc}") from exc
    if not isinstance(data, dict):
        raise SecretFileError(f"{path}: expected a JSON object of webhook secrets")
    return {str(k): str(v) for k, v in data.items()}


def _write(path: Path, data: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".webhook-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(dict(data), out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise SecretFileError(f"{path}: cannot write the webhook secrets: {exc}") from exc


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Read-change-write of the file by one process at a time (two `triggers add` at once keep both secrets)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; adding triggers is a person's act, rarely concurrent
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class WebhookSecrets:
    """The secrets file; ``path`` defaults to the one beside the settings (tests give their own)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or secrets_path()

    def create(self, trigger_id: str) -> str:
        secret = secrets.token_urlsafe(32)
        with _locked(self.path):
            data = _read(self.path)
            data[trigger_id] = secret
            _write(self.path, data)
        return secret

    def get(self, trigger_id: str) -> str | None:
        return _read(self.path).get(trigger_id)

    def delete(self, trigger_id: str) -> None:
        with _locked(self.path):
            data = _read(self.path)
            if data.pop(trigger_id, None) is not None:
                _write(self.path, data)


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``: 'sha256=' and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_call(secret: str | None, headers: Mapping[str, str], body: bytes) -> tuple[int, str] | None:
    """Why a webhook call is refused, as (HTTP status, message), or None when it is allowed.

    401 when it carries neither the secret nor a signature; 403 when what it carries is wrong.
    Both comparisons take the same time whatever the mismatch (``hmac.compare_digest``).
    """
    given = headers.get(SECRET_HEADER)
    signed = headers.get(SIGNATURE_HEADER)
    if given is None and signed is None:
        return 401, f"the call needs the trigger's secret in {SECRET_HEADER} or an HMAC in {SIGNATURE_HEADER}"
    if secret is None:
        return 403, "this trigger has no secret on this machine (add the webhook again to make one)"
    if signed is not None:
        if hmac.compare_digest(signed.strip().encode(), signature(secret, body).encode()):
            return None
        return 403, f"the {SIGNATURE_HEADER} signature does not match the body"
    if hmac.compare_digest(str(given).encode(), secret.encode()):
        return None
    return 403, f"the {SECRET_HEADER} header does not match the trigger's secret"

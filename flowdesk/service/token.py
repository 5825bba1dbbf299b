"""The service's bearer token: made on first start, kept in a 0600 file beside the settings.

``FLOWDESK_TOKEN`` overrides the file (a script or a container passes it in). The token is a
secret: it is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

TOKEN_ENV = "FLOWDESK_TOKEN"
TOKEN_NAME = "service-token"


def token_path(env: Mapping[str, str] | None = None) -> Path:
    """Beside the settings file (``FLOWDESK_CONFIG`` moves both)."""
    from flowdesk.providers.settings import settings_path

    return settings_path(env).with_name(TOKEN_NAME)


def service_token(*, create: bool = True, env: Mapping[str, str] | None = None) -> str | None:
    """The token clients must send: ``FLOWDESK_TOKEN``, else the file's (made now when ``create``)."""
    env = os.environ if env is None else env
    given = env.get(TOKEN_ENV, "").strip()
    if given:
        return given
    path = token_path(env)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = ""
    if text or not create:
        return text or None
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token


def token_matches(expected: str, header: str | None) -> bool:
    """Is ``header`` ('Bearer TOKEN') the expected token? Constant time."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())

"""Finding a running service: the file it writes beside the library, and a small client for the CLI and app.

The service writes ``<library>.service.json`` (its URL, process id and owner token) when it
starts and removes it when it stops. A stale file (a killed service) is told apart by asking the
URL for ``/health``: a service answers with its owner token.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def state_path(library: Path) -> Path:
    return library.with_name(library.name + ".service.json")


@dataclass(frozen=True)
class ServiceInfo:
    url: str
    pid: int
    owner: str
    """The owner token of the service's runs (``store/owners.py``)."""


def write_state(library: Path, info: ServiceInfo) -> None:
    path = state_path(library)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"url": info.url, "pid": info.pid, "owner": info.owner}), encoding="utf-8")
    os.replace(tmp, path)


def clear_state(library: Path, info: ServiceInfo) -> None:
    """Remove the file if it is still this service's (another may have started since)."""
    found = read_state(library)
    if found is not None and found.owner == info.owner:
        with contextlib.suppress(OSError):
            state_path(library).unlink()


def read_state(library: Path) -> ServiceInfo | None:
    try:
        data = json.loads(state_path(library).read_text(encoding="utf-8"))
        return ServiceInfo(str(data["url"]), int(data["pid"]), str(data["owner"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def health(url: str, *, timeout: float = 1.0) -> dict[str, Any] | None:
    """The service's ``/health`` answer, or None if nothing (or something else) answers there.

    Plain ``http.client``: the app's status bar asks this every few seconds, and httpx is kept out of
    the app's start (tests/test_startup_imports.py)."""
    import http.client

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        data = json.loads(response.read(64_000))
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    ours = response.status == 200 and isinstance(data, dict) and data.get("service") == "flowdesk"
    return data if ours else None


def running_service(library: Path) -> ServiceInfo | None:
    """The service running on this library, if one answers."""
    info = read_state(library)
    if info is None:
        return None
    answer = health(info.url)
    return info if answer is not None and answer.get("owner") == info.owner else None


class ServiceError(Exception):
    """The service refused a request; the message is its own (a located problem, a conflict)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ServiceClient:
    """What the CLI and the app ask a running service, with the token; errors become ServiceError."""

    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        import httpx

        self._client = httpx.Client(
            base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(f"the service at {self._client.base_url} did not answer: {exc}", 503) from exc
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:200]}
        if response.status_code >= 400:
            raise ServiceError(error_text(body), response.status_code)
        return body


def error_text(body: Any) -> str:
    """An API error body in one readable paragraph: its message and each located problem."""
    if not isinstance(body, dict):
        return str(body)
    text = str(body.get("detail") or body.get("error") or body)
    problems = body.get("problems") or []
    lines = [text]
    for problem in problems[:20]:
        where = problem.get("where") or problem.get("node_id") or problem.get("field") or ""
        lines.append(f"  {where}: {problem.get('message', '')}" if where else f"  {problem.get('message', '')}")
    return "\n".join(lines)

"""The HTTP every real provider shares: one streamed POST (server-sent events or NDJSON), bounds, error classes.

Why one place: streaming, the size cap, timeouts and the mapping of HTTP failures to the error
classes retry policies choose on (429 -> rate_limit with Retry-After, 5xx -> server, timeouts ->
timeout, dropped connections -> network, other 4xx -> node, never retried) are the same for every
wire protocol. Every message made here names the provider, the credential and the URL, and has the
key removed, so no error, log line or record can carry it.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from flowdesk.engine.redaction import Redactor
from flowdesk.nodes.llm_contract import LLMError
from flowdesk.providers.catalog import PROVIDERS

if TYPE_CHECKING:
    from flowdesk.providers.credentials import ResolvedCredential

MAX_STREAM_BYTES = 16 * 1024 * 1024
"""A reply stream larger than this is refused: a runaway or hostile server cannot fill the memory."""
MAX_ERROR_BODY = 64 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(connect=15.0, read=120.0, write=30.0, pool=15.0)
"""``read`` is the longest silence between two bytes; the node's own timeout bounds the whole call."""


@dataclass(frozen=True)
class Endpoint:
    """Where one call goes and on whose behalf; ``key`` stays out of repr and out of every message."""

    provider: str
    credential: str
    url: str
    key: str = field(repr=False)
    redactor: Redactor | None = field(default=None, repr=False, compare=False)
    params: tuple[tuple[str, str], ...] = ()
    """Query parameters sent with the call (kept apart from ``url``, which httpx would otherwise mangle)."""

    def redact(self, text: str) -> str:
        """``text`` with the key (in any common encoding) removed: some servers echo it on a 401."""
        redactor = self.redactor
        if redactor is None or not redactor.active:
            if not self.key:
                return text
            redactor = Redactor()
            redactor.add(self.key)
        return redactor.text(text)

    def error(self, message: str, error_class: str, retry_after_s: float | None = None) -> LLMError:
        where = f"{self.provider} (credential '{self.credential}', {self.url})"
        return LLMError(self.redact(f"{where}: {message}"), error_class, retry_after_s)


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str


class LLMHttp:
    """Streams POST requests; shares one httpx client (connection reuse) when given one.

    Without a client, each call opens and closes its own, which suits one-off calls such as the
    Settings dialog's connection test.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_bytes: int = MAX_STREAM_BYTES,
    ) -> None:
        self._client = client
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def stream_events(
        self, endpoint: Endpoint, headers: dict[str, str], body: dict[str, Any]
    ) -> AsyncIterator[SseEvent]:
        """POST ``body`` as JSON and yield the reply's server-sent events; failures become LLMError."""
        async with aclosing(self._stream(endpoint, headers, body, "text/event-stream", _parse_sse)) as events:
            async for event in events:
                yield event

    async def stream_lines(
        self, endpoint: Endpoint, headers: dict[str, str], body: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """POST ``body`` and yield the reply's newline-delimited JSON objects (Ollama's stream)."""
        async with aclosing(self._stream(endpoint, headers, body, "ndjson", _parse_ndjson)) as lines:
            async for line in lines:
                yield line

    async def _stream(
        self, endpoint: Endpoint, headers: dict[str, str], body: dict[str, Any], expect: str, parse: Any
    ) -> AsyncIterator[Any]:
        # every nested generator is closed explicitly (aclosing): one left to the garbage collector
        # would be finalized after its loop may be gone (the Settings dialog's loop, a test's)
        if self._client is not None:
            async with aclosing(self._events(self._client, endpoint, headers, body, expect, parse)) as events:
                async for event in events:
                    yield event
            return
        async with (
            httpx.AsyncClient() as client,
            aclosing(self._events(client, endpoint, headers, body, expect, parse)) as events,
        ):
            async for event in events:
                yield event

    async def _events(
        self,
        client: httpx.AsyncClient,
        endpoint: Endpoint,
        headers: dict[str, str],
        body: dict[str, Any],
        expect: str,
        parse: Any,
    ) -> AsyncIterator[Any]:
        try:
            async with client.stream(
                "POST", endpoint.url, headers=headers, json=body, params=endpoint.params or None, timeout=self.timeout
            ) as response:
                if response.status_code >= 400:
                    raise status_error(endpoint, response.status_code, response.headers, await _head(response))
                kind = response.headers.get("content-type", "")
                if expect not in kind:
                    raise endpoint.error(
                        f"answered with {kind or 'no content type'} instead of a {expect} stream; "
                        "is the base URL right?",
                        "node",
                    )
                async with aclosing(parse(response, endpoint, self.max_bytes)) as events:
                    async for event in events:
                        yield event
        except httpx.TimeoutException as exc:
            raise endpoint.error(f"timed out ({type(exc).__name__})", "timeout") from None
        except httpx.TransportError as exc:
            detail = f": {exc}" if str(exc) else ""
            raise endpoint.error(f"connection failed ({type(exc).__name__}{detail})", "network") from None

    async def get_json(self, endpoint: Endpoint, headers: dict[str, str], timeout_s: float = 10.0) -> dict[str, Any]:
        """GET a JSON object (a model list); failures become LLMError like a call's."""
        client = self._client or httpx.AsyncClient()
        try:
            params = endpoint.params or None
            response = await client.get(endpoint.url, headers=headers, params=params, timeout=timeout_s)
            if response.status_code >= 400:
                raise status_error(endpoint, response.status_code, response.headers, response.content[:MAX_ERROR_BODY])
            if len(response.content) > self.max_bytes:
                raise endpoint.error("the model list is too large", "invalid_output")
            data = json.loads(response.content)
        except httpx.TimeoutException as exc:
            raise endpoint.error(f"timed out ({type(exc).__name__})", "timeout") from None
        except httpx.TransportError as exc:
            raise endpoint.error(f"connection failed ({type(exc).__name__}: {exc})", "network") from None
        except ValueError:
            raise endpoint.error("answered with something that is not JSON; is the base URL right?", "node") from None
        finally:
            if self._client is None:
                await client.aclose()
        if not isinstance(data, dict):
            raise endpoint.error("answered with JSON that is not an object", "node")
        return data


def endpoint_for(credential: ResolvedCredential, path: str, extra_params: tuple[tuple[str, str], ...] = ()) -> Endpoint:
    """Where a call through ``credential`` goes: its base URL with ``path`` added to the path (a query in
    the base URL is kept as parameters, not mangled into the path) and the credential's own parameters."""
    parts = urlsplit(credential.base_url)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))
    params = list(parse_qsl(parts.query, keep_blank_values=True))
    if credential.info is not None:
        params += list(credential.info.query.items())
    params += list(extra_params)
    return Endpoint(credential.provider, credential.name, url, credential.key, credential.redactor, tuple(params))


def request_headers(credential: ResolvedCredential) -> dict[str, str]:
    """The key in the provider's header (``Authorization: Bearer``, ``x-api-key``, ``api-key``) and the
    credential's extra headers (``{key}`` in one stands for the key; one of the same name wins)."""
    headers: dict[str, str] = {}
    auth = PROVIDERS[credential.provider].auth_header
    if credential.key and auth is not None:
        headers[auth[0]] = auth[1].replace("{key}", credential.key)
    extra = credential.info.headers if credential.info is not None else {}
    for name, value in extra.items():
        for existing in [h for h in headers if h.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value.replace("{key}", credential.key)
    return headers


async def _head(response: httpx.Response) -> bytes:
    """At most MAX_ERROR_BODY bytes of an error response (enough for its message, never a flood)."""
    kept = bytearray()
    async with aclosing(response.aiter_bytes()) as chunks:
        async for chunk in chunks:
            kept += chunk
            if len(kept) >= MAX_ERROR_BODY:
                break
    return bytes(kept[:MAX_ERROR_BODY])


async def _parse_ndjson(response: httpx.Response, endpoint: Endpoint, max_bytes: int) -> AsyncIterator[dict[str, Any]]:
    """One JSON object per line, counting every byte read; a bad line is the server's fault."""
    seen = 0
    pending = b""
    async with aclosing(response.aiter_bytes()) as chunks:
        async for chunk in chunks:
            seen += len(chunk)
            if seen > max_bytes:
                raise endpoint.error(
                    f"the reply passed {max_bytes // (1024 * 1024)} MB; refused (a reply this large is not a model's)",
                    "invalid_output",
                )
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                if raw.strip():
                    yield _json_line(raw, endpoint)
    if pending.strip():
        yield _json_line(pending, endpoint)


def _json_line(raw: bytes, endpoint: Endpoint) -> dict[str, Any]:
    text = raw.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise endpoint.error(f"sent a malformed stream line ({exc}): {text[:120]!r}", "server") from None
    if not isinstance(data, dict):
        raise endpoint.error(f"sent a stream line that is not an object: {text[:120]!r}", "server")
    return data


async def _parse_sse(response: httpx.Response, endpoint: Endpoint, max_bytes: int) -> AsyncIterator[SseEvent]:
    """Server-sent events (``event:``/``data:`` lines, a blank line ends one), counting every byte read."""
    seen = 0
    pending = b""
    name, data = "", []
    async with aclosing(response.aiter_bytes()) as chunks:
        async for chunk in chunks:
            seen += len(chunk)
            if seen > max_bytes:
                raise endpoint.error(
                    f"the reply passed {max_bytes // (1024 * 1024)} MB; refused (a reply this large is not a model's)",
                    "invalid_output",
                )
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.rstrip(b"\r").decode("utf-8", "replace")
                if not line:
                    if data:
                        yield SseEvent(name or "message", "\n".join(data))
                    name, data = "", []
                elif not line.startswith(":"):
                    key, _, value = line.partition(":")
                    if key == "event":
                        name = value.removeprefix(" ")
                    elif key == "data":
                        data.append(value.removeprefix(" "))
    if data:
        yield SseEvent(name or "message", "\n".join(data))


def status_error(endpoint: Endpoint, status: int, headers: httpx.Headers, body: bytes) -> LLMError:
    """An HTTP error status as a classified LLMError with the server's own explanation."""
    said = server_message(body)
    if status == 429:
        wait = retry_after(headers)
        hint = f"; it asks to wait {wait:g} s" if wait is not None else ""
        return endpoint.error(f"rate limited (HTTP 429){hint}: {said}", "rate_limit", wait)
    if status >= 500:
        return endpoint.error(f"server error (HTTP {status}): {said}", "server", retry_after(headers))
    if status == 408:
        return endpoint.error(f"request timeout (HTTP 408): {said}", "timeout")
    if status in (401, 403):
        return endpoint.error(
            f"refused the key (HTTP {status}): {said}; check credential '{endpoint.credential}'", "node"
        )
    if status == 404:
        return endpoint.error(f"not found (HTTP 404): {said}; check the model name and the base URL", "node")
    return endpoint.error(f"refused the request (HTTP {status}): {said}", "node")


def server_message(body: bytes) -> str:
    """The message inside an error body (``{"error": {"message": ...}}`` in both APIs), else its start."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"][:500]
        if isinstance(error, str):
            return error[:500]
    return " ".join(text.split())[:300] or "(no message)"


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asks to wait: ``retry-after-ms``, or ``retry-after`` in seconds or as a date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def decode_event(event: SseEvent, endpoint: Endpoint) -> dict[str, Any]:
    """An event's JSON payload; a malformed one is the server's fault (class ``server``, so it is retried)."""
    try:
        data = json.loads(event.data)
    except ValueError as exc:
        raise endpoint.error(f"sent a malformed stream event ({exc}): {event.data[:120]!r}", "server") from None
    if not isinstance(data, dict):
        raise endpoint.error(f"sent a stream event that is not an object: {event.data[:120]!r}", "server")
    return data

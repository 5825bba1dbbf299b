"""HTTP for the http node, through httpx, with a cap on how much of a response is read."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from flowdesk.nodes.context import NodeFailure

MAX_RESPONSE_BYTES = 50 * 1024 * 1024


def _unsendable(exc: Exception) -> str:
    """Why a request could not be built, in words (a header or URL holding what HTTP cannot carry)."""
    if isinstance(exc, UnicodeEncodeError):
        return (
            f"it holds {exc.object[exc.start : exc.end]!r}, which a URL or header cannot carry "
            "(headers take ASCII only; a lone surrogate is not text)"
        )
    return str(exc)


class HttpxTransport:
    """One shared client per run owner (connection reuse); closed with ``aclose``."""

    def __init__(self, client: httpx.AsyncClient | None = None, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self._client = client or httpx.AsyncClient(follow_redirects=True)
        self._max_bytes = max_bytes

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        content: bytes | None,
        timeout_s: float | None,
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            target = httpx.URL(url)
            if params:  # merged into the URL's own query (httpx's params= would replace it, even when empty)
                target = target.copy_merge_params(dict(params))
            async with self._client.stream(
                method, target, headers=dict(headers), content=content, timeout=timeout_s or 60.0
            ) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise NodeFailure(f"the response from {url} is larger than {self._max_bytes // 2**20} MB")
                    chunks.append(chunk)
                return response.status_code, {k.lower(): v for k, v in response.headers.items()}, b"".join(chunks)
        except UnicodeError as exc:  # not an HTTPError: raised while building the request
            raise NodeFailure(f"{method} {url[:200]!r} cannot be sent: {_unsendable(exc)}") from None
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"{method} {url} timed out") from exc
        except httpx.InvalidURL as exc:
            raise NodeFailure(f"{method} {url}: the URL is not valid ({_lower(str(exc))})") from exc
        except httpx.UnsupportedProtocol as exc:
            raise NodeFailure(
                f"{method} {url}: the URL must be a full address starting with http:// or https://"
            ) from exc
        except httpx.HTTPError as exc:
            raise NodeFailure(f"{method} {url} failed: {http_failure_words(exc)}", "network") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _lower(text: str) -> str:
    return (text[:1].lower() + text[1:]).rstrip(".")


def http_failure_words(exc: httpx.HTTPError) -> str:
    """What went wrong on the way to the server, as a person would say it (never httpx's class names)."""
    text = str(exc)
    if isinstance(exc, httpx.ConnectError):
        if any(s in text for s in ("Name or service not known", "nodename nor servname", "getaddrinfo", "not known")):
            return "the server's host name was not found"
        return "could not connect to the server (nothing answered at that address and port)"
    if isinstance(exc, httpx.TooManyRedirects):
        return "the server redirected too many times"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection or did not answer in HTTP"
    if isinstance(exc, httpx.ProxyError):
        return "the proxy refused the request"
    if isinstance(exc, httpx.NetworkError):
        return "the connection broke while talking to the server"
    return f"the request could not be completed ({_lower(text)})" if text else "the request could not be completed"

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
        except httpx.HTTPError as exc:
            raise NodeFailure(f"{method} {url} failed: {type(exc).__name__}: {exc}", "network") from exc

    async def aclose(self) -> None:
        await self._client.aclose()

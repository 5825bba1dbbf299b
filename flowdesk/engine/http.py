"""HTTP for the http node, through httpx, with a cap on how much of a response is read."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from flowdesk.nodes.context import NodeFailure

MAX_RESPONSE_BYTES = 50 * 1024 * 1024


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
            async with self._client.stream(
                method, url, headers=dict(headers), params=dict(params), content=content, timeout=timeout_s or 60.0
            ) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise NodeFailure(f"the response from {url} is larger than {self._max_bytes // 2**20} MB")
                    chunks.append(chunk)
                return response.status_code, {k.lower(): v for k, v in response.headers.items()}, b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"{method} {url} timed out") from exc
        except httpx.HTTPError as exc:
            raise NodeFailure(f"{method} {url} failed: {type(exc).__name__}: {exc}", "network") from exc

    async def aclose(self) -> None:
        await self._client.aclose()

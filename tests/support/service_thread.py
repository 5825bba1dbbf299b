"""The real `flowdesk serve` (uvicorn on a free loopback port) in a thread, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any

import httpx

from flowdesk.service.server import ServeOptions, serve
from flowdesk.store.store import open_store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceThread:
    """Opens the library in its own thread (SQLite connections stay in the thread that made them)."""

    def __init__(self, db: Path, *, limit: int = 4, token: str = "test-token", **options: Any) -> None:
        self.db = db
        self.token = token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.options = ServeOptions(port=self.port, limit=limit, token=token, **options)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="flowdesk-serve", daemon=True)

    def __enter__(self) -> ServiceThread:
        self._thread.start()
        if not self._ready.wait(20) or self._error is not None:
            raise RuntimeError(f"the service did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)

    def client(self, *, token: str | None = None, timeout: float = 10.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        started = asyncio.Event()
        store = open_store(self.db)
        try:
            task = asyncio.create_task(serve(store, self.options, started=started, stop=self._stop))
            waiter = asyncio.create_task(started.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            self._ready.set()
            await task
        finally:
            store.close()

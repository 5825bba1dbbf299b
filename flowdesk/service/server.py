"""Running the service: the library, the engine's services, the queue and the app under uvicorn.

``serve`` is what `flowdesk serve` and the tests run. It opens the library (which marks runs of
dead processes interrupted, so the queue can resume the ones it owned), writes the state file
that lets the CLI and the app find it, and serves until it is stopped.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdesk.service.discovery import ServiceInfo, clear_state, write_state
from flowdesk.store.store import Store

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    limit: int = 4
    token: str = ""
    files_root: str | None = None
    extra_routers: Sequence[Any] = ()
    lifespan_hooks: Sequence[Any] = ()
    on_finished: Sequence[Any] = field(default_factory=tuple)


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def url_of(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}"


@asynccontextmanager
async def engine_services(files_root: str | None) -> AsyncIterator[Any]:
    """The engine's services as `flowdesk run` has them (providers from the settings, tools, HTTP)."""
    from flowdesk.engine.http import HttpxTransport
    from flowdesk.engine.services import EngineServices
    from flowdesk.nodes.tools import default_tools
    from flowdesk.providers.settings import load_settings
    from flowdesk.providers.setup import llm_services

    llm = llm_services(load_settings())
    http = HttpxTransport()
    try:
        yield EngineServices(
            providers=llm.providers,
            secrets=llm.credentials,
            tools=default_tools(),
            http=http,
            files_root=Path(files_root).resolve() if files_root else None,
        )
    finally:
        await http.aclose()
        await llm.aclose()


class _StateFile:
    """A lifespan hook: the state file exists while the service serves."""

    def __init__(self, library: Path, info: ServiceInfo) -> None:
        self.library = library
        self.info = info

    async def start(self) -> None:
        write_state(self.library, self.info)

    async def stop(self) -> None:
        clear_state(self.library, self.info)


async def serve(
    store: Store, options: ServeOptions, *, started: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    """Serve until ``stop`` is set or the process is signalled (uvicorn handles SIGINT and SIGTERM in the main
    thread); ``started`` is set once it listens."""
    import uvicorn

    from flowdesk.nodes.registry import default_registry
    from flowdesk.service.app import create_app
    from flowdesk.service.queue import RunQueue
    from flowdesk.store.live_feed import LiveFeed
    from flowdesk.store.running import RunService
    from flowdesk.triggers.service import TriggerService
    from flowdesk.triggers.webhooks import hooks_router

    async with engine_services(options.files_root) as services:
        runs = RunService(store, default_registry(), services)
        runs.live = LiveFeed()  # the event streams follow this service's runs live, not by polling
        queue = RunQueue(runs, limit=options.limit, on_finished=options.on_finished)
        triggers = TriggerService(store, queue)  # schedules, folders, after-workflow: they submit to the queue
        queue.on_finished.append(triggers.on_run_finished)
        info = ServiceInfo(url_of(options.host, options.port), os.getpid(), store.owner.token)
        hooks = [*options.lifespan_hooks, triggers, _StateFile(store.path, info)]
        routers = [*options.extra_routers, hooks_router(store, queue)]  # webhooks: their own secret, no token
        app = create_app(store, queue, token=options.token, extra_routers=routers, lifespan_hooks=hooks)
        config = uvicorn.Config(
            app, host=options.host, port=options.port, log_level="warning", access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        watcher = asyncio.get_running_loop().create_task(_watch(server, started, stop))
        try:
            await server.serve()
        finally:
            watcher.cancel()


async def _watch(server: Any, started: asyncio.Event | None, stop: asyncio.Event | None) -> None:
    while not server.started:
        await asyncio.sleep(0.01)
    if started is not None:
        started.set()
    if stop is not None:
        await stop.wait()
        server.should_exit = True

"""What a worker process keeps for every child it runs: an event loop in a thread of its own, and the
parts that cost milliseconds to make (the kinds' registry, the tools, the HTTP client).

Made once per worker by :class:`FlowdeskWorkerPlugin` (registered when the coordinator connects);
a child task hands its coroutine to that loop and waits. Before, each task made its own loop and
its own HTTP client (a TLS context alone is ~20 ms): 30 ms of overhead per map item.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from distributed.diagnostics.plugin import WorkerPlugin

from flowdesk.engine.http import HttpxTransport
from flowdesk.nodes.registry import default_registry
from flowdesk.nodes.tools import default_tools

PLUGIN_NAME = "flowdesk"
T = TypeVar("T")


class WorkerRuntime:
    """One per worker process: a loop that runs children, and what they share."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="flowdesk-children", daemon=True)
        self._thread.start()
        self.registry = default_registry()
        self.tools = default_tools()
        self._http: HttpxTransport | None = None

    @property
    def http(self) -> HttpxTransport:
        """Made on the runtime's loop, where every child uses it."""
        if self._http is None:
            self._http = HttpxTransport()
        return self._http

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the runtime's loop and wait for it (from a Dask task's thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        if self._http is not None:
            with contextlib.suppress(Exception):  # a worker going down: nothing to tell anyone
                self.run(self._http.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


class FlowdeskWorkerPlugin(WorkerPlugin):
    """Gives each worker its :class:`WorkerRuntime` (and closes it when the worker closes)."""

    name = PLUGIN_NAME

    def __init__(self) -> None:
        self.runtime: WorkerRuntime | None = None

    def setup(self, worker: Any) -> None:
        self.runtime = WorkerRuntime()

    def teardown(self, worker: Any) -> None:
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

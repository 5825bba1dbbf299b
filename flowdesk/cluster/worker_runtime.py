"""What a worker process keeps for every child it runs: an event loop in a thread of its own, and the
parts that cost milliseconds to make (the kinds' registry, the tools, the HTTP client, the sandbox
with its compiled expressions, the workflows read and checked, the LLM providers of keyless tasks).

Made once per worker by :class:`FlowdeskWorkerPlugin` (registered when the coordinator connects);
a child task hands its coroutine to that loop and waits. Before, each task made its own loop and
its own HTTP client (a TLS context alone is ~20 ms): 30 ms of overhead per map item; then each
child compiled its expressions again in a sandbox of its own (2.5 ms), read and checked its
workflow (1.1 ms) and read the shipped prices (0.7 ms): 4.3 of the 4.6 ms a child cost a worker.
Keys are never kept: a task that carries some gets providers of its own, closed when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any, TypeVar

from distributed.diagnostics.plugin import WorkerPlugin

from flowdesk.engine.http import HttpxTransport
from flowdesk.engine.runner import check_runnable
from flowdesk.engine.sandbox import Sandbox
from flowdesk.model.fileformat import loads_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import default_registry
from flowdesk.nodes.tools import default_tools
from flowdesk.providers.settings import LLMSettings
from flowdesk.providers.setup import LLMServices, llm_services

PLUGIN_NAME = "flowdesk"
KEPT_WORKFLOWS = 64
"""Workflows kept read and checked, by their text (a run's map sends one child workflow per item)."""
T = TypeVar("T")


class WorkerRuntime:
    """One per worker process: a loop that runs children, and what they share."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="flowdesk-children", daemon=True)
        self._thread.start()
        self.registry = default_registry()
        self.tools = default_tools()
        self.sandbox = Sandbox()
        self._http: HttpxTransport | None = None
        self._checked: OrderedDict[str, Workflow] = OrderedDict()
        self._keyless: dict[str, LLMServices] = {}
        """LLM providers by the coordinator's settings (their digest), for tasks without keys."""

    @property
    def http(self) -> HttpxTransport:
        """Made on the runtime's loop, where every child uses it."""
        if self._http is None:
            self._http = HttpxTransport()
        return self._http

    def checked_workflow(self, text: str, source: str) -> Workflow:
        """``text`` read and checked for a run (InvalidWorkflowError says why not), once per text."""
        workflow = self._checked.get(text)
        if workflow is not None:
            self._checked.move_to_end(text)
            return workflow
        workflow = loads_workflow(text, source=source)
        check_runnable(workflow, self.registry)
        self._checked[text] = workflow
        if len(self._checked) > KEPT_WORKFLOWS:
            self._checked.popitem(last=False)
        return workflow

    def llm(self, settings: dict[str, Any], digest: str, keys: Any) -> tuple[LLMServices, bool]:
        """Providers for a task, and whether the task owns them (closes them when it ends): a task
        with keys always does, so no key outlives its task; keyless tasks share one set per settings."""
        if keys.names() or not digest:
            parsed = LLMSettings.model_validate(settings)
            return llm_services(parsed, keys=keys, environ=keys.environ()), True
        shared = self._keyless.get(digest)
        if shared is None:
            shared = llm_services(LLMSettings.model_validate(settings), keys=keys, environ={})
            self._keyless[digest] = shared
        return shared, False

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the runtime's loop and wait for it (from a Dask task's thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        for shared in self._keyless.values():
            with contextlib.suppress(Exception):  # a worker going down: nothing to tell anyone
                self.run(shared.aclose())
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

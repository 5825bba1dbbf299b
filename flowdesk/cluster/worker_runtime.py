"""What a worker process keeps for every child it runs: an event loop in a thread of its own, and the
parts that cost milliseconds to make (the kinds' registry, the tools, the HTTP client, the sandbox
with its compiled expressions, the workflows read and checked, the LLM providers of keyless tasks).

Made once per worker by :class:`FlowdeskWorkerPlugin` (registered when the coordinator connects).
A child is an async Dask task, run on the worker's event loop: before, a task's thread handed its
coroutine to a loop of the runtime's own and waited, and those thread hops cost 20-60 ms per item
on a loaded machine (each waits for the GIL). Before that, each task made its own loop and
its own HTTP client (a TLS context alone is ~20 ms): 30 ms of overhead per map item; then each
child compiled its expressions again in a sandbox of its own (2.5 ms), read and checked its
workflow (1.1 ms) and read the shipped prices (0.7 ms): 4.3 of the 4.6 ms a child cost a worker.
Keys are never kept: a task that carries some gets providers of its own, closed when it ends.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any

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


class WorkerRuntime:
    """One per worker process: what the children it runs share. Children are async Dask tasks, so
    they run on the worker's own event loop, where the HTTP client and the providers are made."""

    def __init__(self) -> None:
        self.registry = default_registry()
        self.tools = default_tools()
        self.sandbox = Sandbox()
        self._http: HttpxTransport | None = None
        self._checked: OrderedDict[str, Workflow] = OrderedDict()
        self._keyless: dict[str, LLMServices] = {}
        """LLM providers by the coordinator's settings (their digest), for tasks without keys."""

    @property
    def http(self) -> HttpxTransport:
        """Made on the worker's loop, where every child uses it."""
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

    async def aclose(self) -> None:
        for shared in self._keyless.values():
            with contextlib.suppress(Exception):  # a worker going down: nothing to tell anyone
                await shared.aclose()
        self._keyless.clear()
        if self._http is not None:
            with contextlib.suppress(Exception):  # a worker going down: nothing to tell anyone
                await self._http.aclose()
            self._http = None


class FlowdeskWorkerPlugin(WorkerPlugin):
    """Gives each worker its :class:`WorkerRuntime` (and closes it when the worker closes).

    Idempotent: every coordinator registers it when it connects (the app, the service, each
    ``flowdesk run``), and the scheduler keeps the first for the workers that join later. Replacing
    it closed the HTTP client and providers under the children another coordinator ran there, and
    dropped the workflows read and the expressions compiled (a map item's cost on a worker).
    """

    name = PLUGIN_NAME
    idempotent = True

    def __init__(self) -> None:
        self.runtime: WorkerRuntime | None = None

    def setup(self, worker: Any) -> None:
        self.runtime = WorkerRuntime()

    async def teardown(self, worker: Any) -> None:
        if self.runtime is not None:
            await self.runtime.aclose()
            self.runtime = None

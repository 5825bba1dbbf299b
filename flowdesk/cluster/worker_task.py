"""What a Dask worker runs for one child: flowdesk's own engine, with a journal kept in memory.

The worker never opens the library: the child's events go back to the coordinator in the task's
result, and the coordinator records them. A task whose key the coordinator released (the run was
cancelled, or the node timed out) stops its child within a tenth of a second: Dask does not cancel
a running task it released, so the task watches its own key (the coordinator puts it in the payload).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import flowdesk
from flowdesk.cluster.payload import ChildPayload, packed
from flowdesk.cluster.worker_runtime import PLUGIN_NAME, WorkerRuntime
from flowdesk.engine.events import event_to_json
from flowdesk.engine.journal import MemoryJournal
from flowdesk.engine.runner import start_run
from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import loads_workflow
from flowdesk.model.workflow import Workflow

CANCEL_POLL_S = 0.1
_GONE = ("cancelled", "released", "forgotten", "error")


def flowdesk_version() -> str:
    """Asked of every worker on connect: a worker must run the coordinator's flowdesk."""
    return flowdesk.__version__


class _Workflows:
    """The child's nested workflows, resolved on the coordinator, by the reference their nodes use."""

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = texts
        self._read: dict[str, Workflow] = {}

    def resolve(self, ref: str) -> Workflow:
        if ref not in self._read:
            if ref not in self._texts:
                raise LookupError(f"workflow '{ref}' was not sent to the worker (the coordinator could not find it)")
            self._read[ref] = loads_workflow(self._texts[ref], source=ref)
        return self._read[ref]


async def run_child_task(payload: ChildPayload) -> bytes:
    """The Dask task (async: it runs on the worker's event loop): one child to its end, and how it
    ended, with its events (``packed``)."""
    if payload.version != flowdesk.__version__:
        raise RuntimeError(f"this worker runs flowdesk {flowdesk.__version__}, the coordinator {payload.version}")
    runtime = worker_runtime()
    if runtime is not None:
        return packed(await _run(payload, runtime, task_gone(payload.task_key)))
    own = WorkerRuntime()  # called outside a worker with the plugin (a plain call): a runtime for this child
    try:
        return packed(await _run(payload, own, task_gone(payload.task_key)))
    finally:
        await own.aclose()


async def _run(payload: ChildPayload, runtime: WorkerRuntime, gone: Any) -> dict[str, Any]:
    llm, owned = runtime.llm(payload.settings, payload.settings_digest, payload.keys)
    services = EngineServices(
        providers=llm.providers,
        secrets=llm.credentials,
        tools=runtime.tools,
        http=runtime.http,
        workflows=_Workflows(payload.workflows),
        files_root=Path(payload.files_root) if payload.files_root else None,
        sandbox=runtime.sandbox,
        max_depth=payload.max_depth,
    )
    journal = MemoryJournal()
    try:
        handle = start_run(
            runtime.checked_workflow(payload.workflow, payload.run_id),
            runtime.registry,
            services,
            payload.inputs,
            run_id=payload.run_id,
            journal=journal,
            parent_run_id=payload.parent_run_id,
            parent_node_id=payload.parent_node_id,
            depth=payload.depth,
            use_pins=False,
            suspend_on_wait=True,
            validated=True,  # checked_workflow did, once per worker
        )
        watch = asyncio.ensure_future(_watch(gone, handle))
        try:
            result = await handle.wait()
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
    finally:
        if owned:
            await llm.aclose()
    return {
        "status": result.status,
        "outputs": result.outputs if result.status == "succeeded" else None,
        "error": result.error.message if result.error else None,
        "events": [event_to_json(event) for event in journal.events],
        "worker": worker_address(),
    }


async def _watch(gone: Any, handle: Any) -> None:
    while not gone():
        await asyncio.sleep(CANCEL_POLL_S)
    handle.cancel()


def task_gone(key: str) -> Any:
    """A check whether the coordinator let go of task ``key`` (False outside a worker: a plain call)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except ValueError:
        return lambda: False

    def gone() -> bool:
        task = worker.state.tasks.get(key)
        return task is None or task.state in _GONE

    return gone


def worker_runtime() -> WorkerRuntime | None:
    try:
        from distributed import get_worker

        plugin = get_worker().plugins.get(PLUGIN_NAME)
    except ValueError:
        return None
    return getattr(plugin, "runtime", None)


def worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except ValueError:
        return "this process"

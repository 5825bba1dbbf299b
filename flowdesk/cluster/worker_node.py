"""What a Dask worker runs for one attempt of a ``remote: true`` node: the kind's own run function.

The node sees a run made of what the coordinator sent (its inputs, the finished nodes' outputs,
the run's inputs and settings) and nothing it could change: it cannot set the run's outputs, wait
for a person or start a child run (validation keeps such kinds off the cluster; this says so if
a plugin kind tries). Its log lines go back in the result; the coordinator records them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import flowdesk
from flowdesk.cluster.payload import NodePayload, packed
from flowdesk.cluster.worker_runtime import WorkerRuntime
from flowdesk.cluster.worker_task import CANCEL_POLL_S, task_gone, worker_address, worker_runtime
from flowdesk.engine.attempts import classify
from flowdesk.engine.events import Usage, event_to_json
from flowdesk.engine.journal import MemoryJournal
from flowdesk.engine.node_context import RunNodeContext
from flowdesk.engine.outlet import EventOutlet
from flowdesk.engine.plan import PlanNode
from flowdesk.engine.scope import NodesScope
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Settings
from flowdesk.nodes.context import NodeFailure


class _WorkerRun:
    """The ``NodeHost`` a remote attempt runs in: the coordinator's run, as values, read-only."""

    def __init__(self, payload: NodePayload, services: EngineServices, journal: MemoryJournal) -> None:
        job = payload.job
        self.run_id = job.run_id
        self.services = services
        self.outlet = EventOutlet(None, journal)
        self.loop_pass: Sequence[int] = (job.loop_pass,)
        self._inputs = job.run_inputs
        self._scope = NodesScope.from_snapshot(job.scope)
        self._settings = Settings.model_validate(job.settings)

    @property
    def run_inputs(self) -> Mapping[str, Any]:
        return self._inputs

    @property
    def nodes_scope(self) -> NodesScope:
        return self._scope

    @property
    def time_limit_s(self) -> float | None:
        return None  # the coordinator holds the run's time limit (and the node's timeout)

    @property
    def settings(self) -> Settings:
        return self._settings

    def set_run_output(self, name: str, value: Any) -> None:
        raise NodeFailure("a node on a cluster worker cannot set the run's outputs; turn its remote off")

    def add_run_warning(self, message: str) -> None:
        raise NodeFailure("a node on a cluster worker cannot add to the run's result; turn its remote off")

    async def wait_for_approval(self, i: int, message: str) -> tuple[bool, str]:
        raise NodeFailure("approvals are never run on a worker; turn the node's remote off")

    async def run_child(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise NodeFailure("a node on a cluster worker cannot start a workflow run; turn its remote off")


async def run_node_task(payload: NodePayload) -> bytes:
    """The Dask task (async, on the worker's loop): one attempt of the node, to its end, and how it
    ended (``packed``; never raises for the node)."""
    if payload.version != flowdesk.__version__:
        raise RuntimeError(f"this worker runs flowdesk {flowdesk.__version__}, the coordinator {payload.version}")
    runtime = worker_runtime()
    if runtime is not None:
        return packed(await _attempt(payload, runtime, task_gone(payload.task_key)))
    own = WorkerRuntime()  # a plain call outside a worker with the plugin
    try:
        return packed(await _attempt(payload, own, task_gone(payload.task_key)))
    finally:
        await own.aclose()


async def _attempt(payload: NodePayload, runtime: WorkerRuntime, gone: Callable[[], bool]) -> dict[str, Any]:
    llm, owned = runtime.llm(payload.llm_settings, payload.settings_digest, payload.keys)
    services = EngineServices(
        providers=llm.providers, secrets=llm.credentials, tools=runtime.tools, http=runtime.http,
        files_root=Path(payload.files_root) if payload.files_root else None, sandbox=runtime.sandbox,
    )  # fmt: skip
    journal = MemoryJournal()
    run = _WorkerRun(payload, services, journal)
    job = payload.job
    spec = runtime.registry.get(job.node.kind)
    ctx: RunNodeContext | None = None
    try:
        if spec is None or spec.run is None:
            raise NodeFailure(f"node kind '{job.node.kind}' is not installed on this worker (install its plugin there)")
        pn = PlanNode(0, job.node.id, job.node, spec, spec.parse_config(job.node.config))
        ctx = RunNodeContext(run, pn, job.iteration, job.attempt)
        outputs = await _until_gone(spec.run(ctx, job.inputs, pn.config), gone)
        answer: dict[str, Any] = {"ok": True, "outputs": outputs or {}, "error": None}
    except Exception as exc:  # noqa: BLE001 - any failure of the run function is the attempt's, said in words
        error_class, message, retry_after = classify(exc, None)
        answer = {"ok": False, "outputs": {}, "error": _error(error_class, message, retry_after)}
    finally:
        if owned:
            await llm.aclose()
    usage = ctx.usage if ctx is not None else Usage()
    return {
        **answer,
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "cost_usd": usage.cost_usd},
        "events": [event_to_json(event) for event in journal.events],
        "worker": worker_address(),
    }


def _error(error_class: str, message: str, retry_after: float | None) -> dict[str, Any]:
    return {"message": message, "error_class": error_class, "retry_after_s": retry_after}


async def _until_gone(work: Any, gone: Callable[[], bool]) -> Any:
    """Await ``work``, cancelling it when the coordinator lets go of the task (timeout, cancel)."""
    task = asyncio.ensure_future(work)
    while not task.done():
        await asyncio.wait({task}, timeout=CANCEL_POLL_S)
        if not task.done() and gone():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise NodeFailure("the coordinator let go of this attempt (a timeout or a cancel)")
    return task.result()

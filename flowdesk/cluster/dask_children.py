"""Sending child runs to a Dask cluster: connect, check the workers, submit, cancel.

One :class:`DaskChildren` per run process, made by :func:`connect` and closed with ``close``.
Each child is one task (a name of its own, no secret in it); a cancelled parent node releases
the task, which the worker notices and stops. A cluster problem (scheduler gone, a worker that
cannot import flowdesk) fails the node with one sentence; the run can be resumed, and children
that finished are reused then, not sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from typing import Any

import flowdesk
from flowdesk.cluster.payload import PayloadMaker, unpacked
from flowdesk.cluster.worker_runtime import PLUGIN_NAME, FlowdeskWorkerPlugin
from flowdesk.cluster.worker_task import flowdesk_version, run_child_task
from flowdesk.engine.remote import ChildJob, ChildOutcome, NodeJob, NodeOutcome, RemoteError
from flowdesk.model.workflow import Workflow
from flowdesk.providers.credentials import Credentials

log = logging.getLogger(__name__)

SCHEMES = ("dask://", "tcp://", "tls://")
SCHEDULER_TOPIC = "all"
"""The scheduler's own events topic: it says there which tasks a removed worker was running."""
LOCAL_ONLY_KINDS = frozenset({"approval"})
"""Kinds that never run on a worker: an approval waits for a person at the coordinator."""


def scheduler_address(text: str) -> str:
    """``dask://HOST:PORT`` (or Dask's own ``tcp://``/``tls://``) as the address Dask connects to."""
    text = text.strip()
    if not text.startswith(SCHEMES):
        raise ValueError(f"an executor is dask://HOST:PORT (a Dask scheduler's address), not {text[:80]!r}")
    rest = text.split("://", 1)[1]
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"the Dask scheduler's address needs a host and a port: dask://HOST:PORT, not {text[:80]!r}")
    return ("tcp://" + rest) if text.startswith("dask://") else text


class DaskChildren:
    """Runs child runs as Dask tasks (``EngineServices.remote``)."""

    def __init__(self, client: Any, address: str, payloads: PayloadMaker) -> None:
        self._client = client
        self.address = address
        self._payloads = payloads
        self._in_flight: set[str] = set()
        self._lost: dict[str, list[str]] = {}
        """Task keys of ours that a lost worker was running, with that worker (Dask runs them again)."""
        client.subscribe_topic(SCHEDULER_TOPIC, self._heard)

    def _heard(self, event: tuple[float, Any]) -> None:
        """The scheduler's news: a worker removed while it ran tasks of ours (killed, crashed, gone)."""
        msg = event[1]
        if not isinstance(msg, dict) or msg.get("action") != "remove-worker":
            return
        worker = str(msg.get("worker", "?"))
        for key in msg.get("processing-tasks") or ():
            if key in self._in_flight:
                self._lost.setdefault(key, []).append(worker)

    def takes(self, workflow: Workflow, workflows: dict[str, Workflow]) -> bool:
        return not any(node.kind in LOCAL_ONLY_KINDS for wf in (workflow, *workflows.values()) for node in wf.nodes)

    async def run(self, job: ChildJob) -> ChildOutcome:
        return ChildOutcome(**await self._submit(run_child_task, self._payloads.payload(job), "child"))

    async def run_node(self, job: NodeJob) -> NodeOutcome:
        """One attempt of a ``remote: true`` node (the worker imports ``worker_node`` when it runs it)."""
        from flowdesk.cluster.worker_node import run_node_task

        return NodeOutcome(**await self._submit(run_node_task, self._payloads.node_payload(job), "node"))

    async def _submit(self, task: Any, payload: Any, what: str) -> dict[str, Any]:
        key = f"flowdesk-{what}-{uuid.uuid4().hex}"
        payload = dataclasses.replace(payload, task_key=key)  # the task watches its key (worker_task.py)
        future = self._client.submit(task, payload, key=key, pure=False)
        self._in_flight.add(key)
        try:
            data = unpacked(await future)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # the cluster may be gone too; the node is cancelled anyway
                await self._client.cancel([future], force=True)
            raise
        except Exception as exc:  # whatever the cluster or the task raised, said in one sentence
            raise RemoteError(self._problem(exc)) from exc
        finally:
            self._in_flight.discard(key)
            lost = self._lost.pop(key, [])
        return {**data, "lost_workers": lost}

    def _problem(self, exc: BaseException) -> str:
        from distributed.comm import CommClosedError  # imported already: this client is distributed's

        # the scheduler's connection closed under the call (reset, refused), or the client saw it go
        lost = isinstance(exc, CommClosedError | ConnectionError) or "connection-lost" in str(
            getattr(exc, "reason", "") or exc
        )
        if lost or self._client.status not in ("running", "connecting"):
            # Dask's class name (FutureCancelledError, CommClosedError) tells a person nothing: it goes to the log
            log.info("the Dask scheduler at %s went away: %s: %s", self.address, type(exc).__name__, exc)
            return f"the Dask scheduler at {self.address} went away; resume the run when it is back"
        text = str(exc).strip() or type(exc).__name__
        if isinstance(exc, ModuleNotFoundError | ImportError):
            version = flowdesk.__version__
            return f"a Dask worker cannot run flowdesk ({text}): install flowdesk {version} on every worker"
        return f"the Dask task failed on the cluster at {self.address}: {text}"

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a client whose scheduler died must not fail the run's end
            # first, or the scheduler tells this closing client that it left (a CRITICAL line in its log)
            self._client.unsubscribe_topic(SCHEDULER_TOPIC)
            await self._client.close()


class QuietLostScheduler(logging.Filter):
    """Drops Dask's client-side log records about a scheduler connection we already report.

    When the scheduler dies, the client's reconnect attempt (cancelled when the run closes it) and
    its batched stream (closed under a send) log their exception with a traceback, under the run's
    one sentence ("the Dask scheduler at ... went away"). Those records say nothing more.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from distributed.comm import CommClosedError  # imported already: these records are distributed's

        kind = record.exc_info[0] if record.exc_info else None
        return not (kind is not None and issubclass(kind, asyncio.CancelledError | CommClosedError))


QUIETED_LOGGERS = ("distributed.client", "distributed.batched")


def quiet_lost_scheduler() -> None:
    """Install :class:`QuietLostScheduler` on Dask's client-side loggers (once each)."""
    for name in QUIETED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietLostScheduler) for f in logger.filters):
            logger.addFilter(QuietLostScheduler())


async def connect(
    executor: str, credentials: Credentials, *, max_depth: int = 16,
    timeout_s: float = 10.0,
) -> DaskChildren:  # fmt: skip
    """Connect to the scheduler at ``executor`` and check its workers (RemoteError says what is wrong)."""
    try:
        address = scheduler_address(executor)
    except ValueError as exc:
        raise RemoteError(str(exc)) from None
    try:
        from distributed import Client
    except ImportError:
        raise RemoteError("running on a Dask cluster needs the dask extra: pip install 'flowdesk[dask]'") from None
    quiet_lost_scheduler()
    try:
        client = await Client(address, asynchronous=True, timeout=timeout_s)
    except (OSError, TimeoutError) as exc:
        raise RemoteError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        await _check_workers(client, address, timeout_s)
        await client.register_plugin(FlowdeskWorkerPlugin(), name=PLUGIN_NAME)
    except RemoteError:
        await client.close()
        raise
    payloads = PayloadMaker(credentials, max_depth, flowdesk.__version__)
    return DaskChildren(client, address, payloads)


async def _check_workers(client: Any, address: str, timeout_s: float) -> None:
    try:
        await client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError):
        raise RemoteError(
            f"the Dask cluster at {address} has no workers (start some with `dask worker {address}`)"
        ) from None
    try:
        versions = await client.run(flowdesk_version)
    except Exception as exc:  # noqa: BLE001 - a worker that cannot load the function has no flowdesk: say so
        raise RemoteError(
            f"a worker of the Dask cluster at {address} cannot run flowdesk ({type(exc).__name__}: {exc}); "
            f"install flowdesk {flowdesk.__version__} on every worker"
        ) from None
    wrong = {worker: version for worker, version in versions.items() if version != flowdesk.__version__}
    if wrong:
        named = ", ".join(f"{worker} has {version}" for worker, version in sorted(wrong.items()))
        raise RemoteError(f"Dask workers run another flowdesk than this {flowdesk.__version__} ({named})")
    log.info("connected to the Dask scheduler at %s (%d workers)", address, len(versions))

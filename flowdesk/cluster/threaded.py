"""A Dask connection kept on a thread of its own, for a caller whose event loop must never wait: the app.

The app's asyncio loop is Qt's (qasync): a Dask client there would import distributed, connect and
exchange messages on the thread that paints the window. :class:`ClusterThread` instead runs
:func:`~flowdesk.cluster.dask_children.connect` and every child task on a private loop in a daemon
thread, and the caller awaits them through ``asyncio.wrap_future``. It is an
``EngineServices.remote`` like :class:`~flowdesk.cluster.dask_children.DaskChildren`; cancelling
the awaiting node cancels the task on the cluster thread, which releases the Dask task.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from flowdesk.engine.remote import ChildJob, ChildOutcome, NodeJob, NodeOutcome, RemoteError
from flowdesk.model.workflow import Workflow
from flowdesk.providers.credentials import Credentials

T = TypeVar("T")
DASK_EXTRA = "running on a Dask cluster needs the dask extra: pip install 'flowdesk[dask]'"


class ClusterThread:
    """One connection to a Dask scheduler, living on its own thread; made by :meth:`open`."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="flowdesk-dask", daemon=True)
        self._children: Any = None

    @classmethod
    async def open(cls, executor: str, credentials: Credentials, *, timeout_s: float = 10.0) -> ClusterThread:
        """Connect (RemoteError says in one sentence why not); the caller's loop goes on meanwhile."""
        link = cls(executor)
        link._thread.start()
        try:
            link._children = await link._call(connect_cluster(executor, credentials, timeout_s))
        except BaseException:
            await link._stop()
            raise
        link.address = link._children.address
        return link

    def takes(self, workflow: Workflow, workflows: dict[str, Workflow]) -> bool:
        return bool(self._children.takes(workflow, workflows))

    async def run(self, job: ChildJob) -> ChildOutcome:
        result: ChildOutcome = await self._call(self._children.run(job))
        return result

    async def run_node(self, job: NodeJob) -> NodeOutcome:
        """One attempt of a ``remote: true`` node, on a worker."""
        result: NodeOutcome = await self._call(self._children.run_node(job))
        return result

    async def close(self) -> None:
        """Disconnect and end the thread (a cluster that is gone already closes quietly)."""
        if self._children is not None:
            await self._call(self._children.close())
            self._children = None
        await self._stop()

    async def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the cluster thread; cancelling the caller cancels it there too."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return await asyncio.wrap_future(future)

    async def _stop(self) -> None:
        """Stop the thread's loop and wait for it, polled: the caller's default executor may be qasync's
        QThreads, which this must not start."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            for _ in range(500):
                if not self._thread.is_alive():
                    break
                await asyncio.sleep(0.01)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()


async def connect_cluster(executor: str, credentials: Credentials, timeout_s: float = 10.0) -> Any:
    """Import distributed (a second of work: here, on the caller's loop, which for the app is the cluster
    thread's) and connect; without the dask extra, a RemoteError that says what to install."""
    try:
        from flowdesk.cluster.dask_children import connect
    except ImportError:
        raise RemoteError(DASK_EXTRA) from None
    return await connect(executor, credentials, timeout_s=timeout_s)

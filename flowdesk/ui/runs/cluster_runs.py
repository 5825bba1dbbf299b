"""Runs the window sends to a Dask cluster (the workflow's executor setting, else Settings > Execution).

F5 on such a workflow connects first: off the UI thread (:class:`~flowdesk.cluster.threaded.ClusterThread`
imports distributed, connects and checks the workers on a thread of its own), while the status bar
says where the run is going. Then the run starts with services whose ``remote`` is that connection,
so its map items and sub-workflow calls become Dask tasks, and the journal names the worker of each.
Runs on the same scheduler share one connection, closed when the last of them ends. A cluster that
cannot be reached, or whose workers cannot run this flowdesk, is one sentence in the status bar and
no run: nothing hangs and nothing is half started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from flowdesk.engine.remote import RemoteError
from flowdesk.model.executor import chosen_executor, where_words
from flowdesk.model.workflow import Workflow
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import LLMSettings, SettingsError, load_settings
from flowdesk.store.running import RunService

if TYPE_CHECKING:
    from flowdesk.cluster.threaded import ClusterThread

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0


@dataclass
class _Link:
    """One scheduler's connection and the runs using it (it closes when they are all done)."""

    opening: asyncio.Task[ClusterThread]
    users: int = 0


class ClusterRuns:
    """Where the window's runs run, and the cluster connections of those that run elsewhere."""

    def __init__(self, base: Callable[[], RunService], credentials: Callable[[], Credentials | None]) -> None:
        """``base`` is the window's own run service (its services are copied, with ``remote`` set);
        ``credentials`` the keys a task may need (None: the settings file's, without the keyring's)."""
        self._base = base
        self._credentials = credentials
        self._links: dict[str, _Link] = {}
        self._closing: set[asyncio.Future[None]] = set()

    @staticmethod
    def executor_for(workflow: Workflow) -> str | None:
        """The workflow's own executor, else the app's default; None runs here."""
        return chosen_executor(workflow.settings.executor, _app_default())

    @staticmethod
    def where(executor: str | None) -> str:
        return where_words(executor)

    async def service_on(self, executor: str) -> RunService:
        """A run service whose child runs go to the cluster at ``executor`` (RemoteError: one sentence why not).

        The caller must hand the service back with :meth:`done` when its run ends."""
        link = self._links.get(executor)
        failed = link is not None and link.opening.done() and (link.opening.cancelled() or link.opening.exception())
        if link is None or failed:  # a connection that failed before is tried afresh
            link = self._links[executor] = _Link(asyncio.ensure_future(self._open(executor)))
        link.users += 1
        try:
            remote = await asyncio.shield(link.opening)
        except BaseException:
            link.users -= 1
            if self._links.get(executor) is link and link.users == 0:
                del self._links[executor]
            raise
        base = self._base()
        service = RunService(base.store, base.catalog, replace(base.services, remote=remote))
        service.trace_to = base.trace_to
        return service

    async def _open(self, executor: str) -> ClusterThread:
        from flowdesk.cluster.threaded import ClusterThread

        credentials = self._credentials() or Credentials(LLMSettings())
        return await ClusterThread.open(executor, credentials, timeout_s=CONNECT_TIMEOUT_S)

    def done(self, executor: str) -> None:
        """A run on ``executor`` ended: the connection closes when no other run uses it."""
        link = self._links.get(executor)
        if link is None:
            return
        link.users -= 1
        if link.users <= 0:
            del self._links[executor]
            closing = asyncio.ensure_future(_close(link))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def close_all(self) -> None:
        """The window closes: every connection goes (their runs were cancelled before)."""
        links, self._links = list(self._links.values()), {}
        for link in links:
            await _close(link)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


async def _close(link: _Link) -> None:
    try:
        remote = await link.opening
    except (RemoteError, asyncio.CancelledError):
        return
    await remote.close()


def _app_default() -> str | None:
    """Settings > Execution's default executor (None: this computer, or settings that cannot be read)."""
    try:
        return load_settings().default_executor
    except SettingsError as exc:
        log.info("the settings cannot be read; runs run here: %s", exc)
        return None


def cluster_problem(exc: BaseException) -> str:
    """What a failed connection says to the person who pressed F5."""
    text = str(exc) if isinstance(exc, RemoteError) else f"{type(exc).__name__}: {exc}"
    return f"Cannot run on the Dask cluster: {text}"

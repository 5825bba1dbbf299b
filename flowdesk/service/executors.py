"""Where the service's runs run: here, or on the Dask cluster their workflow's settings name.

A workflow saved with ``settings.executor`` set to ``dask://HOST:PORT`` runs its map items,
sub-workflow calls and ``remote: true`` nodes on that cluster when the service starts it (a trigger,
the API, ``flowdesk run --detach``), as it does from ``flowdesk run`` and the app. The service keeps
one connection per scheduler for its whole life (runs come and go; a connection costs a second) and
closes them when it stops. A cluster that cannot be reached fails that run with the sentence saying
why; the service and its other runs go on.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from flowdesk.engine.remote import RemoteError
from flowdesk.model.executor import chosen_executor
from flowdesk.model.workflow import Workflow
from flowdesk.store.running import RunService

log = logging.getLogger(__name__)


class ClusterServices:
    """The run service for each run: ``base`` for runs that stay here, a copy with a cluster otherwise."""

    def __init__(self, base: RunService) -> None:
        self.base = base
        self._links: dict[str, Any] = {}

    def executor_of(self, run_id: str, workflow: Workflow | None = None) -> str | None:
        """The cluster the run's workflow names (None: this process); ``workflow`` spares a read."""
        document = workflow if workflow is not None else self.base.store.runs.document(run_id)
        return chosen_executor(document.settings.executor)

    async def service_for(self, run_id: str, workflow: Workflow | None = None) -> RunService:
        """RemoteError when the workflow's cluster cannot be reached (or its workers cannot run flowdesk)."""
        try:
            executor = self.executor_of(run_id, workflow)
        except ValueError as exc:  # an address the model check let through once and no longer does
            raise RemoteError(str(exc)) from None
        if executor is None:
            return self.base
        link = self._links.get(executor)
        if link is None:
            link = self._links[executor] = await self._connect(executor)
        service = RunService(self.base.store, self.base.catalog, replace(self.base.services, remote=link))
        service.live = self.base.live
        service.trace_to = self.base.trace_to
        return service

    async def _connect(self, executor: str) -> Any:
        from flowdesk.cluster.threaded import connect_cluster  # the same import and sentence as the app's

        log.info("connecting to the Dask cluster at %s", executor)
        return await connect_cluster(executor, self.base.services.secrets)  # type: ignore[arg-type]

    async def close(self) -> None:
        """Disconnect from every cluster (one that is gone already closes quietly)."""
        links, self._links = self._links, {}
        for link in links.values():
            try:
                await link.close()
            except (OSError, RemoteError) as exc:
                log.warning("closing a Dask connection: %s", exc)

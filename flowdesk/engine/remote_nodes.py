"""A ``remote: true`` node's attempts made on the run's cluster instead of in this process.

Only the attempt travels: ``attempts.run_attempts`` keeps the retries, the per-attempt timeout
and cancellation here, so they behave as for a local node (a timeout or a cancel releases the
cluster's task, which stops). The attempt's log lines come back and go through the run's outlet;
its tokens and cost count here; the worker's address goes on the step's events.
"""

from __future__ import annotations

from typing import Any

from flowdesk.engine.events import ErrorInfo, NodeLog, NodeRetrying, NodeStarted, Usage, event_from_json
from flowdesk.engine.node_context import NodeHost, RunNodeContext
from flowdesk.engine.plan import Plan, PlanNode
from flowdesk.engine.remote import NodeJob, RemoteChildren, RemoteError
from flowdesk.nodes.context import NodeFailure


class RemoteAttempt:
    """Stands in for a node's run function: each call is one attempt on a worker.

    ``worker`` is where the last attempt ran (None before the first, or when the cluster could
    not take it), for the step's events.
    """

    def __init__(self, run: NodeHost, pn: PlanNode, remote: RemoteChildren) -> None:
        self._run = run
        self._pn = pn
        self._remote = remote
        self.worker: str | None = None

    async def __call__(self, ctx: RunNodeContext, inputs: dict[str, Any], config: Any) -> dict[str, Any]:
        run = self._run
        self.worker = None
        job = NodeJob(
            run_id=run.run_id,
            node=self._pn.node,
            inputs=inputs,
            attempt=ctx.attempt,
            iteration=ctx.iteration,
            scope=run.nodes_scope.snapshot(),
            run_inputs=dict(run.run_inputs),
            settings=run.settings.model_dump(mode="json"),
            loop_pass=ctx.loop_pass,
            files_root=str(ctx.files_root) if ctx.files_root else None,
        )
        try:
            outcome = await self._remote.run_node(job)
        except RemoteError as exc:
            raise NodeFailure(str(exc)) from None
        self.worker = outcome.worker
        for worker in outcome.lost_workers:
            self._lost(ctx, inputs, worker)
        for data in outcome.events:
            run.outlet.emit(event_from_json(data))
        ctx.usage = Usage(**outcome.usage)
        ctx.log(f"ran on worker {outcome.worker}")
        if not outcome.ok:
            error = outcome.error or {}
            raise NodeFailure(
                str(error.get("message") or "failed on the worker"),
                str(error.get("error_class") or "node"),
                error.get("retry_after_s"),
            )
        return outcome.outputs

    def _lost(self, ctx: RunNodeContext, inputs: dict[str, Any], worker: str) -> None:
        """A worker lost mid-attempt, which Dask ran again elsewhere: on record as one more attempt
        (``ctx.attempt`` goes up, and ``run_attempts`` counts it), not as the node's failure."""
        run, pn = self._run, self._pn
        if run.outlet.listening:
            now = run.services.clock.wall()
            error = ErrorInfo(message=f"worker {worker} was lost", error_class="network", node_id=pn.id)
            run.outlet.emit(
                NodeRetrying(
                    run_id=run.run_id, ts=now, node_id=pn.id, iteration=ctx.iteration, attempt=ctx.attempt,
                    delay_s=0.0, error=error, worker=worker,
                )
            )  # fmt: skip
            run.outlet.emit(
                NodeStarted(
                    run_id=run.run_id, ts=now, node_id=pn.id, iteration=ctx.iteration, attempt=ctx.attempt + 1,
                    inputs=inputs,
                )
            )  # fmt: skip
        ctx.attempt += 1


def remote_attempt(run: NodeHost, pn: PlanNode) -> RemoteAttempt | None:
    """The cluster's stand-in for ``pn``'s run function, or None when the node runs here."""
    remote = run.services.remote
    if not pn.node.remote or remote is None:
        return None
    return RemoteAttempt(run, pn, remote)


def no_cluster_note(plan: Plan, run_id: str, now: float) -> NodeLog | None:
    """One log line for a run whose nodes ask for the cluster when it has none: they run here.

    Running them here is what a person expects of a workflow opened on a laptop without a cluster
    (the option says where the work may go, not that it must): refusing would make the same file
    unusable without one. The line says so once, on the first such node.
    """
    remote = [pn.id for pn in plan.nodes if pn.node.remote]
    if not remote:
        return None
    names = ", ".join(remote[:5]) + (f" and {len(remote) - 5} more" if len(remote) > 5 else "")
    return NodeLog(
        run_id=run_id, ts=now, node_id=remote[0], level="warning",
        message=f"remote: true on node(s) {names}, but this run has no cluster (flowdesk run --executor "
        "dask://HOST:PORT): they run here",
    )  # fmt: skip

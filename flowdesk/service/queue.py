"""The run queue: one limit on how many runs the service runs at once, across all workflows.

A submitted run is recorded at once as ``queued`` (the API answers with its id before it starts)
and started when a slot frees, oldest first. Its ``queue_entry`` (``store/queue.py``) keeps what
is left to do, so a service killed mid-run resumes its runs when it starts again. Runs here end
as ``waiting`` at an approval (they do not hold a slot for days); an approval given later
continues them through the queue like a resume.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowdesk.engine.remote import RemoteError
from flowdesk.engine.results import InvalidWorkflowError, RunInputError
from flowdesk.engine.runner import RunHandle
from flowdesk.model.validation import has_errors
from flowdesk.model.workflow import Workflow
from flowdesk.service.executors import ClusterServices
from flowdesk.service.submit import SubmitError
from flowdesk.store.database import LibraryError
from flowdesk.store.lifecycle import run_version
from flowdesk.store.queue import DONE, RESUME, RUNNING, START, QueueStore
from flowdesk.store.running import CONTINUABLE, RunService, RunStateError
from flowdesk.store.runs import RunInfo
from flowdesk.store.workflows import NotFoundError

log = logging.getLogger(__name__)

DECIDE = "decide"
OnFinished = Callable[[RunInfo], Awaitable[None]]


class ConflictError(Exception):
    """The action does not fit the run's state (cancel a finished run, approve a run that does not wait)."""


@dataclass(frozen=True)
class Job:
    run_id: str
    action: str
    decision: tuple[str, bool, str] | None = None
    """(node, approved, comment) for a decision on a suspended run."""
    recorded: tuple[Workflow, dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    """The document and inputs of a run submitted to this service (not read back to start it)."""


class RunQueue:
    def __init__(self, runs: RunService, *, limit: int = 4, on_finished: Sequence[OnFinished] = ()) -> None:
        if limit < 1:
            raise ValueError(f"the run limit must be at least 1, not {limit}")
        self.runs = runs
        self.clusters = ClusterServices(runs)
        """A run whose workflow names a Dask cluster gets a run service sending its work there."""
        self.store = runs.store
        self.entries = QueueStore(runs.store.db)
        self.limit = limit
        self.on_finished = list(on_finished)
        self._waiting: deque[Job] = deque()
        self._active: dict[str, RunHandle] = {}
        self._finishing: dict[str, asyncio.Task[None]] = {}
        self._wake: asyncio.Event | None = None
        self._pump_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ life
    async def start(self) -> list[Job]:
        """Take up what a previous service left (queued runs, runs it was running: resumed) and start pumping."""
        self._wake = asyncio.Event()
        self.entries.repair()
        taken = [Job(e.run_id, e.action) for e in self.entries.unfinished()]
        self._waiting.extend(taken)
        if taken:
            log.warning(
                "taking up %d run(s) left by the last service: %s", len(taken), ", ".join(j.run_id for j in taken)
            )
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())
        return taken

    async def stop(self) -> None:
        """Stop starting runs. Runs still going are left as they are: when this process ends, the next
        service finds them interrupted and resumes them (as after a kill)."""
        if self._pump_task is not None:
            self._pump_task.cancel()
            await asyncio.gather(self._pump_task, return_exceptions=True)
            self._pump_task = None
        await self.clusters.close()

    @property
    def active(self) -> list[str]:
        return list(self._active)

    @property
    def queued(self) -> list[str]:
        return [job.run_id for job in self._waiting]

    # ------------------------------------------------------------ submitting (flowdesk.service.submit.SubmitRun)
    async def __call__(
        self, workflow_id: str, inputs: dict[str, Any], *, version: int | None = None,
        idempotency_key: str | None = None, trigger: str | None = None,
    ) -> str:  # fmt: skip
        info = self.store.workflows.get(workflow_id)
        if version is None:  # the published version when there is one, else the newest (store/lifecycle.py)
            version = run_version(self.store, info.id)
        workflow = self.store.workflows.load(info.id, version)
        try:
            started = self.runs.record(
                workflow, inputs, source="library", workflow_version=version,
                idempotency_key=idempotency_key, extra_options={"trigger": trigger} if trigger else None,
            )  # fmt: skip
        except InvalidWorkflowError as exc:
            problems = [p.to_json() for p in exc.problems if p.severity == "error"] if has_errors(exc.problems) else []
            raise SubmitError(f"workflow '{info.slug}' cannot run: {exc}", problems) from exc
        except RunInputError as exc:
            raise SubmitError(f"workflow '{info.slug}': {exc}", [{"where": "inputs", "message": str(exc)}]) from exc
        if started.existing is not None:
            return started.run_id
        self.entries.add(started.run_id, trigger=trigger or "api")
        self._enqueue(Job(started.run_id, START, recorded=started.recorded))
        return started.run_id

    def retry(self, run_id: str) -> str:
        """A new run of what ``run_id`` ran (the same document and inputs); the failed one leaves the inbox."""
        run = self.store.runs.get(run_id)
        if run.kind == "child":
            raise ConflictError(f"run '{run.id}' is part of run '{run.parent_run_id}'; retry that one")
        workflow = self.store.runs.document(run.id)
        inputs, _ = self.store.runs.run_values(run.id)
        entry = self.entries.get(run.id)
        trigger = entry.trigger if entry else None
        started = self.runs.record(
            workflow, inputs, source=run.source, workflow_version=run.workflow_version,
            extra_options={"retry_of": run.id, **({"trigger": trigger} if trigger else {})},
        )  # fmt: skip
        self.entries.add(started.run_id, trigger=trigger or "api")
        self.entries.dismiss(run.id)
        self._enqueue(Job(started.run_id, START))
        return started.run_id

    def _enqueue(self, job: Job) -> None:
        self._waiting.append(job)
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------ controlling
    def handle(self, run_id: str) -> RunHandle | None:
        return self._active.get(run_id)

    def cancel(self, run_id: str) -> str:
        handle = self._active.get(run_id)
        if handle is not None:
            handle.cancel()
            return "cancelling"
        if any(job.run_id == run_id for job in self._waiting):
            self._waiting = deque(job for job in self._waiting if job.run_id != run_id)
            if self.entries.cancel_queued(run_id):
                return "cancelled"
            self.entries.set_state(run_id, DONE)  # a resume that had not started: the run stays as it was
            return "removed from the queue"
        raise ConflictError(self._not_here(run_id, "cancel"))

    def pause(self, run_id: str) -> str:
        handle = self._active.get(run_id)
        if handle is None:
            raise ConflictError(self._not_here(run_id, "pause"))
        handle.pause()
        return "pausing"

    def resume(self, run_id: str) -> str:
        """A paused run here goes on; an interrupted, failed or cancelled one is continued through the queue."""
        handle = self._active.get(run_id)
        if handle is not None:
            handle.resume()
            return "resuming"
        run = self.store.runs.get(run_id)
        if run.kind == "child":
            raise ConflictError(f"run '{run.id}' is part of run '{run.parent_run_id}'; resume that one")
        if run.status not in CONTINUABLE:
            raise ConflictError(f"run '{run.id}' is {run.status}; only {', '.join(CONTINUABLE)} runs can be resumed")
        self.entries.add(run.id, action=RESUME)
        self.entries.dismiss(run.id)
        self._enqueue(Job(run.id, RESUME))
        return "queued"

    async def approve(self, run_id: str, node_id: str, approved: bool, comment: str = "") -> str:
        handle = self._active.get(run_id)
        if handle is not None and self.store.runs.get(run_id).status == "waiting":
            # it is suspending at the approval (runs here do not hold a slot while they wait): let it
            # end, then continue it with the decision, as for a run that suspended long ago
            await asyncio.shield(self._finishing[run_id])
            handle = None
        if handle is not None:
            decided = handle.approve(node_id, comment) if approved else handle.reject(node_id, comment)
            if not decided:
                waiting = handle.waiting_for
                raise ConflictError(
                    f"node '{node_id}' of run '{run_id}' is not waiting for a decision"
                    + (f" (waiting: {', '.join(waiting)})" if waiting else "")
                )
            return "decided"
        run = self.store.runs.get(run_id)
        if run.status != "waiting":
            raise ConflictError(f"run '{run.id}' is {run.status}, not waiting for an approval")
        status, _ = self.store.runs.node_results(run.id)
        if status.get(node_id) != "waiting":
            waiting = sorted(n for n, s in status.items() if s == "waiting")
            raise ConflictError(
                f"node '{node_id}' of run '{run.id}' is not waiting for a decision"
                + (f" (waiting: {', '.join(waiting)})" if waiting else "")
            )
        self.entries.add(run.id, action=RESUME)
        self._enqueue(Job(run.id, DECIDE, (node_id, approved, comment)))
        return "queued"

    def _not_here(self, run_id: str, action: str) -> str:
        run = self.store.runs.get(run_id)
        if run.status in ("running", "paused", "pending") and self.store.owner_alive(run.owner):
            return f"run '{run.id}' is run by another flowdesk process, not this service; {action} it there"
        return f"run '{run.id}' is {run.status}; it cannot be {'paused' if action == 'pause' else action + 'led'} now"

    # ------------------------------------------------------------ running
    async def _pump(self) -> None:
        assert self._wake is not None
        while True:
            while self._waiting and len(self._active) < self.limit:
                await self._launch(self._waiting.popleft())
            self._wake.clear()
            await self._wake.wait()

    async def _launch(self, job: Job) -> None:
        """Start ``job``; a first run on a cluster connects first (the pump waits: at most its timeout)."""
        try:
            runs = await self.clusters.service_for(job.run_id, job.recorded[0] if job.recorded else None)
            handle = self._start(job, runs)
        except (RunStateError, NotFoundError, InvalidWorkflowError, RunInputError, LibraryError, RemoteError) as exc:
            log.warning("run %s could not start: %s", job.run_id, exc)
            if job.action == START:
                self.entries.fail_queued(job.run_id, f"could not start: {exc}")
            else:
                self.entries.set_state(job.run_id, DONE)
            return
        self.entries.set_state(job.run_id, RUNNING)
        self._active[job.run_id] = handle
        task = asyncio.get_running_loop().create_task(self._until_finished(job, handle))
        self._finishing[job.run_id] = task
        task.add_done_callback(lambda done: self._forget(job.run_id, done))

    def _forget(self, run_id: str, task: asyncio.Task[None]) -> None:
        if self._finishing.get(run_id) is task:
            del self._finishing[run_id]

    def _start(self, job: Job, runs: RunService) -> RunHandle:
        if job.action == START:
            return runs.launch_recorded(job.run_id, recorded=job.recorded)
        if job.action == DECIDE and job.decision is not None:
            node_id, approved, comment = job.decision
            return runs.decide(job.run_id, node_id, approved, comment, suspend_on_wait=True)
        return runs.resume(job.run_id, suspend_on_wait=True)

    async def _until_finished(self, job: Job, handle: RunHandle) -> None:
        try:
            await handle.wait()
        except Exception:  # the engine records its own failures; this is a bug, kept in the log
            log.exception("run %s ended with an error", job.run_id)
        finally:
            self._active.pop(job.run_id, None)
            self.entries.set_state(job.run_id, DONE)
            if self._wake is not None:
                self._wake.set()
        info = self.store.runs.get(job.run_id)
        for hook in self.on_finished:
            try:
                await hook(info)
            except Exception:  # one listener's bug must not stop the others or the queue
                log.exception("a run-finished hook failed for run %s", job.run_id)

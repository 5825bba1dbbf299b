"""Starting runs: check the workflow and the inputs once, then hand a controllable run back.

``start_run`` is what the CLI, the store and the GUI call. It validates up front (networkx, once
per run, never in the hot path), prepares the run inputs against their declarations, and returns
a :class:`RunHandle` whose methods are the run's control API: cancel, pause, resume, step,
approve or reject.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from flowdesk.engine.bus import EventBus
from flowdesk.engine.children import run_child_workflow
from flowdesk.engine.executor import Run
from flowdesk.engine.inline_bodies import split_bodies as split_inline_bodies
from flowdesk.engine.journal import RunJournal
from flowdesk.engine.plan import Plan
from flowdesk.engine.results import InvalidWorkflowError, PriorOutcome, RunInputError, RunOptions, RunResult
from flowdesk.engine.run_inputs import prepare_inputs
from flowdesk.engine.services import EngineServices
from flowdesk.model.bodies import has_bodies
from flowdesk.model.kinds import Catalog
from flowdesk.model.validation import Problem, has_errors, validate

__all__ = ["InvalidWorkflowError", "RunHandle", "RunInputError", "prepare_inputs", "run_workflow", "start_run"]
from flowdesk.model.workflow import Workflow


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


class RunHandle:
    """A started run: await ``wait()`` for its result; the other methods steer it."""

    def __init__(self, run: Run, task: asyncio.Task[RunResult]) -> None:
        self._run = run
        self.task = task
        self.follow_up: RunHandle | None = None
        """A run this one started once it ended (its on-failure handler); cancelled with it."""

    def then(self, after: Callable[[RunResult], Awaitable[RunResult]]) -> None:
        """Pass the run's result through ``after`` before ``wait()`` returns it (the on-failure handler)."""
        ended = self.task
        self.task = asyncio.get_running_loop().create_task(_chained(ended, after))

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def status(self) -> str:
        return self._run.run_status

    @property
    def node_status(self) -> dict[str, str]:
        return {pn.id: self._run.status[pn.index] for pn in self._run.plan.nodes}

    async def wait(self) -> RunResult:
        return await asyncio.shield(self.task)

    def cancel(self) -> None:
        self._run.cancel()
        if self.follow_up is not None:
            self.follow_up.cancel()

    def pause(self) -> None:
        self._run.pause()

    def resume(self) -> None:
        self._run.resume()

    def step(self) -> None:
        """At a breakpoint or pause: run the next node, then pause again."""
        self._run.resume(step=True)

    def approve(self, node_id: str, comment: str = "") -> bool:
        return self._run.decide(node_id, True, comment)

    def reject(self, node_id: str, comment: str = "") -> bool:
        return self._run.decide(node_id, False, comment)

    @property
    def waiting_for(self) -> list[str]:
        """Approval nodes waiting for a decision, those of sub-workflow runs included."""
        return self._run.waiting_nodes()


async def _chained(ended: asyncio.Task[RunResult], after: Callable[[RunResult], Awaitable[RunResult]]) -> RunResult:
    return await after(await ended)


def check_runnable(workflow: Workflow, catalog: Catalog) -> list[Problem]:
    """Validate for a run; raises InvalidWorkflowError on errors, returns the warnings."""
    problems = validate(workflow, catalog, for_run=True)
    if has_errors(problems):
        raise InvalidWorkflowError(problems)
    return problems


def start_run(
    workflow: Workflow,
    catalog: Catalog,
    services: EngineServices,
    inputs: Mapping[str, Any] | None = None,
    *,
    run_id: str | None = None,
    bus: EventBus | None = None,
    journal: RunJournal | None = None,
    prior: Mapping[str, PriorOutcome] | None = None,
    decisions: Mapping[str, tuple[bool, str]] | None = None,
    suspend_on_wait: bool = False,
    use_pins: bool = True,
    parent_run_id: str | None = None,
    parent_node_id: str | None = None,
    depth: int = 0,
    validated: bool = False,
    inputs_from_text: bool = False,
    split_bodies: bool = True,
    loop_index: int = 0,
) -> RunHandle:
    """Check and start a run on the running event loop; returns its handle at once."""
    if not validated:
        check_runnable(workflow, catalog)
    options = RunOptions(
        run_id=run_id or new_run_id(),
        inputs=prepare_inputs(workflow, inputs or {}, from_text=inputs_from_text),
        prior=prior or {},
        decisions=decisions or {},
        suspend_on_wait=suspend_on_wait,
        use_pins=use_pins,
        parent_run_id=parent_run_id,
        parent_node_id=parent_node_id,
        depth=depth,
        loop_index=loop_index,
    )
    child_runner = functools.partial(run_child_workflow, start_run=start_run)
    bodies: dict[str, Workflow] = {}
    if split_bodies and has_bodies(workflow, catalog):  # for_each bodies run per item (inline_bodies.py)
        workflow, bodies = split_inline_bodies(workflow, catalog)
    plan = Plan(workflow, catalog)
    plan.bodies = bodies
    run = Run(plan, catalog, services, options, bus, journal, child_runner)
    task = asyncio.get_running_loop().create_task(run.execute())
    return RunHandle(run, task)


async def run_workflow(
    workflow: Workflow,
    catalog: Catalog,
    services: EngineServices | None = None,
    inputs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> RunResult:
    """Start a run and wait for its result (the simple path for scripts and tests)."""
    handle = start_run(workflow, catalog, services or EngineServices(), inputs, **kwargs)
    return await handle.wait()

"""The on-failure handler: when a recorded run fails, the workflow its ``settings.on_failure`` names runs.

The handler is found as sub-workflow calls find theirs: a library workflow (slug or id, its current
version) for a run of a library workflow, a file path relative to the workflow's file for a run of a
file. It is checked before the failing workflow starts (a handler that does not exist, cannot run or
wants inputs a failure does not give is a problem then, not when something has already gone wrong),
and resolved again when the run fails, so it is the handler as it is then.

Its run is a run of its own (kind ``handler``) whose parent is the failed run: `flowdesk show` and the
app's run view of the failed run name it, and the failed run's handle waits for it, so `flowdesk run`
can say it ran. A handler run never starts a handler itself, even when it fails or names one: no
loops. A cancelled run is not a failure and starts none.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import PurePath
from typing import Any, Protocol

from flowdesk.engine.on_failure import (
    Failure,
    HandledBy,
    HandledRunResult,
    HandlerError,
    handler_inputs,
    read_handler_file,
)
from flowdesk.engine.on_failure import handler_problems as check_handler
from flowdesk.engine.results import RunResult
from flowdesk.engine.runner import RunHandle
from flowdesk.model.kinds import Catalog
from flowdesk.model.problems import Problem
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import LibraryError
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError

log = logging.getLogger(__name__)

HANDLER_KIND = "handler"
"""The ``kind`` of a handler's run row; its ``parent_run_id`` is the failed run."""


@dataclass(frozen=True)
class HandlerTarget:
    workflow: Workflow
    source: str
    """'library', or the handler file's absolute path."""
    version: int | None


def find_handler(store: Store, ref: str, source: str) -> HandlerTarget:
    """The handler ``ref`` names for a run of a workflow from ``source`` ('library' or its file's path)."""
    if source in ("library", "child"):
        stem = PurePath(ref).stem  # 'handlers/notify.json' names the workflow imported from that file
        try:
            info = store.workflows.get(ref if store.workflows.exists(ref) or not stem else stem)
        except NotFoundError:
            raise HandlerError(f"there is no library workflow '{ref}' (see `flowdesk list`)") from None
        return HandlerTarget(store.workflows.load(info.id, info.current_version), "library", info.current_version)
    path, workflow = read_handler_file(ref, source)
    return HandlerTarget(workflow, str(path), None)


def handler_problems(store: Store, catalog: Catalog, workflow: Workflow, source: str) -> list[Problem]:
    """What stops the workflow's on-failure handler from running, as a located problem (none if it can)."""
    return check_handler(workflow, lambda ref: find_handler(store, ref, source).workflow, catalog)


class HandlerStarter(Protocol):
    """What a FailureHandler needs of the run service (``running.RunService``), which imports this module."""

    store: Store

    def note(self, run_id: str, kind: str, message: str) -> None: ...

    def start_handler(
        self, workflow: Workflow, inputs: Mapping[str, Any], source: str, version: int | None, failed_run_id: str,
        failed_options: Mapping[str, Any],
    ) -> RunHandle: ...  # fmt: skip


class FailureHandler:
    """Starts the handler of one run when it fails, and adds what became of it to the run's result."""

    def __init__(self, service: HandlerStarter, workflow: Workflow, run_id: str, source: str,
                 options: dict[str, Any]) -> None:  # fmt: skip
        self.service = service
        self.workflow = workflow
        self.run_id = run_id
        self.source = source
        self.options = options
        self.handle: RunHandle | None = None

    def attach(self, handle: RunHandle) -> None:
        self.handle = handle
        handle.then(self.after)

    async def after(self, result: RunResult) -> RunResult:
        if result.status != "failed" or not self.workflow.settings.on_failure:
            return result
        ref = self.workflow.settings.on_failure
        try:
            started = self._start(ref, result)
        except (ValueError, LookupError, LibraryError) as exc:  # not found, invalid, bad inputs, library trouble
            message = f"the on-failure handler '{ref}' could not start: {exc}"
            log.warning("run %s: %s", self.run_id, message)
            try:
                self.service.note(self.run_id, "on_failure", message)
            except LibraryError as again:
                log.warning("run %s: could not record that: %s", self.run_id, again)
            return _with(result, HandledBy(run_id=None, status="not started", workflow=ref, message=message))
        if self.handle is not None:
            self.handle.follow_up = started
        try:
            ended = await started.wait()
        except Exception as exc:  # the failed run's result must reach its caller, whatever became of the handler
            log.error("run %s: its on-failure handler %s broke", self.run_id, started.run_id, exc_info=exc)
            broke = f"internal error: {type(exc).__name__}: {exc}"
            return _with(result, HandledBy(run_id=started.run_id, status="failed", workflow=ref, message=broke))
        error = ended.error.message if ended.error is not None else ""
        return _with(result, HandledBy(run_id=started.run_id, status=ended.status, workflow=ref, message=error))

    def _start(self, ref: str, result: RunResult) -> RunHandle:
        target = find_handler(self.service.store, ref, self.source)
        runs = self.service.store.runs
        info = runs.get(self.run_id)
        run_inputs, _ = runs.run_values(self.run_id)
        failure = Failure(
            run_id=self.run_id, workflow=self.workflow, slug=_slug(self.service.store, info.workflow_id, self.source),
            version=info.workflow_version, result=result, run_inputs=run_inputs,
            node_inputs=self._node_inputs(result),
        )  # fmt: skip
        inputs = handler_inputs(target.workflow, failure)
        return self.service.start_handler(target.workflow, inputs, target.source, target.version, self.run_id,
                                          self.options)  # fmt: skip

    def _node_inputs(self, result: RunResult) -> dict[str, Any]:
        """The inputs of the failing node's last attempt, as recorded."""
        node_id = result.error.node_id if result.error is not None else None
        if not node_id:
            return {}
        runs = self.service.store.runs
        attempts = [s for s in runs.steps(self.run_id) if s.node_id == node_id and s.status == "failed"]
        if not attempts:
            return {}
        inputs, _ = runs.step_values(attempts[-1].id)
        return inputs


def _slug(store: Store, workflow_id: str | None, source: str) -> str:
    if source != "library" or workflow_id is None:
        return source
    try:
        return store.workflows.get(workflow_id).slug
    except NotFoundError:
        return workflow_id


def _with(result: RunResult, handled: HandledBy) -> HandledRunResult:
    values = {f.name: getattr(result, f.name) for f in fields(RunResult)}
    return HandledRunResult(**values, handled_by=handled)

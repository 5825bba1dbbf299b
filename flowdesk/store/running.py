"""Recorded runs: start one, continue one (resume, or an approval decided later), re-run from a node.

This is where the engine meets the library. Every run started here has a row before it starts
and a recorder journaling it; the exact document it ran is kept with it, so a run can be resumed
or re-run even after its workflow was edited or deleted.

Resuming and deciding an approval continue the *same* run (same id, a new segment), re-running
only nodes without a recorded success; a re-run from a node is a new child run of the original, of
the workflow as it is now (its library's current version), reusing only results still valid for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import Usage
from flowdesk.engine.resolvers import FileWorkflowResolver
from flowdesk.engine.results import InvalidWorkflowError
from flowdesk.engine.reuse import EarlierChild, finished_outcomes, rerun_plan
from flowdesk.engine.runner import RunHandle, check_runnable, new_run_id, prepare_inputs, start_run
from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import WorkflowFileError, read_workflow
from flowdesk.model.kinds import Catalog
from flowdesk.model.workflow import Workflow
from flowdesk.store.failure_handler import HANDLER_KIND, FailureHandler, handler_problems
from flowdesk.store.insights_trace_sender import TraceSending
from flowdesk.store.live_feed import LiveFeed
from flowdesk.store.recorder import RunRecorder
from flowdesk.store.runs import LOG, RUN, RunInfo
from flowdesk.store.store import Store
from flowdesk.store.values import BlobBatch, to_json
from flowdesk.store.workflows import NotFoundError

CONTINUABLE = ("interrupted", "failed", "cancelled")


def run_document(workflow: Workflow) -> str:
    """The document a run ran, compactly: defaults left out (a third of the file format's size, 20x faster
    to write); ``loads_workflow`` reads it back to an equal workflow."""
    body = workflow.model_dump_json(exclude_defaults=True, exclude={"format", "format_version"})
    head = json.dumps({"format": workflow.format, "format_version": workflow.format_version})[:-1]
    return head + ("," + body[1:] if body != "{}" else "}")


class RunStateError(ValueError):
    """The run is not in a state that allows this (e.g. resuming a run that succeeded)."""


@dataclass(frozen=True)
class Started:
    """A run started here (``handle``), or the earlier run an idempotency key named (``existing``)."""

    run_id: str
    handle: RunHandle | None = None
    existing: RunInfo | None = None
    summary: str = ""
    """What a re-run ran and reused, in one line."""
    recorded: tuple[Workflow, dict[str, Any]] | None = None
    """For a run ``record`` recorded: the workflow and its prepared inputs, so ``launch_recorded`` in the same
    process need not read them back."""


class LibraryWorkflowResolver:
    """Resolves map and subworkflow references as library workflows (id or slug), current version."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, Workflow] = {}

    def resolve(self, ref: str) -> Workflow:
        if ref not in self._cache:
            self._cache[ref] = self._load(ref)
        return self._cache[ref]

    def _load(self, ref: str) -> Workflow:
        try:
            return self.store.workflows.load(ref)
        except NotFoundError:
            stem = Path(ref).stem  # 'summarise_document.json' names the workflow imported from that file
            if stem == ref or not self.store.workflows.exists(stem):
                raise
            return self.store.workflows.load(stem)


class RecordedChildren:
    """The sub-workflow and map item runs a continued run started before, read from the library.

    A child whose inputs were the same and that succeeded is reused whole; one that did not finish
    continues with its finished nodes' results. ``count_usage`` is set when the earlier segment was
    killed: its spending never reached the run's totals, so reused children are counted again there.
    """

    def __init__(self, store: Store, *, count_usage: bool) -> None:
        self.store = store
        self.count_usage = count_usage

    def earlier(self, child_id: str, inputs: Mapping[str, Any]) -> EarlierChild | None:
        try:
            run = self.store.runs.get(child_id)
        except NotFoundError:
            return None
        recorded_inputs, outputs = self.store.runs.run_values(run.id)
        if _canonical(recorded_inputs) != _canonical(inputs):
            return None  # another item now at this place in the list: it runs
        if run.status == "succeeded":
            usage = Usage(input_tokens=run.input_tokens, output_tokens=run.output_tokens, cost_usd=run.cost_usd)
            return EarlierChild(outputs=outputs, usage=usage if self.count_usage else Usage())
        return EarlierChild(prior=finished_outcomes(self.store.runs.step_results(run.id)))


def _canonical(values: Mapping[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)


class RunService:
    def __init__(self, store: Store, catalog: Catalog, services: EngineServices) -> None:
        self.store = store
        self.catalog = catalog
        self.services = services
        self.trace_to: str | None = None
        """An OTLP/HTTP collector that gets every run's trace as it ends (the opt-in setting), or None."""
        self.traces = TraceSending()
        """Traces being sent (a command line waits for them before it exits)."""
        self.live: LiveFeed | None = None
        """Followers of the runs started here, fed each batch as it is journaled (the service sets it)."""

    # ------------------------------------------------------------ start
    def start(
        self,
        workflow: Workflow,
        inputs: Mapping[str, Any] | None = None,
        *,
        source: str = "library",
        workflow_version: int | None = None,
        idempotency_key: str | None = None,
        bus: EventBus | None = None,
        decisions: Mapping[str, tuple[bool, str]] | None = None,
        suspend_on_wait: bool = False,
        use_pins: bool = True,
        inputs_from_text: bool = False,
        files_root: str | Path | None = None,
        validated: bool = False,
    ) -> Started:
        """Record and start a run of ``workflow`` (must be called on the running event loop).

        ``source`` is 'library' (then the workflow must be saved; ``workflow_version`` says which
        version) or the path of the file it came from. ``files_root`` is the folder this run's file
        tools may use, when it is not the services' own. ``validated`` says the caller has just
        checked this very workflow for a run (the window does, to point at the culprit first).
        """
        recorded = self._record(
            workflow, inputs, source=source, workflow_version=workflow_version, idempotency_key=idempotency_key,
            decisions=decisions, suspend_on_wait=suspend_on_wait, use_pins=use_pins,
            inputs_from_text=inputs_from_text, files_root=files_root, validated=validated, status="pending",
        )  # fmt: skip
        if isinstance(recorded, Started):
            return recorded
        run_id, prepared, options = recorded
        handle = self._launch(workflow, run_id, prepared, options, source, bus=bus, segment=0)
        return Started(run_id, handle=handle)

    def record(
        self, workflow: Workflow, inputs: Mapping[str, Any] | None = None, *, source: str = "library",
        workflow_version: int | None = None, idempotency_key: str | None = None, suspend_on_wait: bool = True,
        extra_options: Mapping[str, Any] | None = None,
    ) -> Started:  # fmt: skip
        """Check and record a run without starting it (status 'queued': the service's queue starts it with
        ``launch_recorded`` when a slot frees). Bad workflows and inputs raise here, before any row is written."""
        recorded = self._record(
            workflow, inputs, source=source, workflow_version=workflow_version, idempotency_key=idempotency_key,
            suspend_on_wait=suspend_on_wait, status="queued", extra_options=extra_options,
        )  # fmt: skip
        if isinstance(recorded, Started):
            return recorded
        return Started(recorded[0], recorded=(workflow, recorded[1]))

    def _cluster(self) -> str | None:
        """Where this service's runs send their map items, sub-workflows and remote nodes: the Dask scheduler's
        address, None for this computer (kept in each run's options, for the Runs list to say)."""
        remote = self.services.remote
        return remote.address if remote is not None else None

    def _record(
        self, workflow: Workflow, inputs: Mapping[str, Any] | None, *, source: str, workflow_version: int | None,
        idempotency_key: str | None, status: str, decisions: Mapping[str, tuple[bool, str]] | None = None,
        suspend_on_wait: bool = False, use_pins: bool = True, inputs_from_text: bool = False,
        files_root: str | Path | None = None, validated: bool = False, extra_options: Mapping[str, Any] | None = None,
    ) -> Started | tuple[str, dict[str, Any], dict[str, Any]]:  # fmt: skip
        """The earlier run an idempotency key names, or the new run's (id, prepared inputs, options)."""
        if idempotency_key:
            earlier = self.store.runs.find_by_key(idempotency_key)
            if earlier is not None:
                return Started(earlier.id, existing=earlier)
        if not validated:
            check_runnable(workflow, self.catalog)
        if handler_problem := handler_problems(self.store, self.catalog, workflow, source):
            raise InvalidWorkflowError(handler_problem)
        prepared = prepare_inputs(workflow, inputs or {}, from_text=inputs_from_text)
        run_id = new_run_id()
        options = {
            "use_pins": use_pins,
            "suspend_on_wait": suspend_on_wait,
            "decisions": {k: list(v) for k, v in (decisions or {}).items()},
            "files_root": str(Path(root).resolve()) if (root := files_root or self.services.files_root) else None,
            "cluster": self._cluster(),
            **(extra_options or {}),
        }
        existing = self._insert_run(
            run_id, workflow, prepared, source=source, version=workflow_version, key=idempotency_key, options=options,
            status=status,
        )  # fmt: skip
        if existing is not None:  # another process used the key between our check and our insert
            return Started(existing.id, existing=existing)
        return run_id, prepared, options

    def launch_recorded(
        self, run_id: str, *, bus: EventBus | None = None, recorded: tuple[Workflow, dict[str, Any]] | None = None
    ) -> RunHandle:
        """Start a run that ``record`` recorded: its document, inputs and options are read back from its row
        (``recorded``, what ``record`` returned, spares reading and parsing the document again)."""
        run = self.store.runs.get(run_id)
        if run.status != "queued":
            raise RunStateError(f"run '{run.id}' is {run.status}, not queued")
        if recorded is None:
            recorded = (self.store.runs.document(run.id), self.store.runs.run_values(run.id)[0])
        workflow, inputs = recorded
        return self._launch(workflow, run.id, inputs, dict(run.options), run.source, bus=bus, segment=0)

    def _insert_run(
        self, run_id: str, workflow: Workflow, inputs: dict[str, Any], *, source: str, version: int | None,
        key: str | None, options: dict[str, Any], kind: str = "run", parent: str | None = None,
        parent_node: str | None = None, restored: int = 0, status: str = "pending",
    ) -> RunInfo | None:  # fmt: skip
        blobs = BlobBatch()
        document = blobs.text(run_document(workflow))
        in_library = source == "library"
        with self.store.db.write() as conn:
            if key:
                found = conn.execute(select(RUN.c.id).where(RUN.c.idempotency_key == key)).scalar()
                if found is not None:
                    return self.store.runs.get(found)
            blobs_inputs = blobs.value_map(inputs)
            blobs.flush(self.store.db.raw())
            conn.execute(
                insert(RUN).values(
                    id=run_id, workflow_id=workflow.id if in_library else None, workflow_version=version,
                    workflow_name=workflow.name, document_hash=document, source=source, kind=kind,
                    parent_run_id=parent, parent_node_id=parent_node, status=status, inputs=blobs_inputs,
                    created_at=time.time(), node_count=len(workflow.nodes), idempotency_key=key,
                    owner=self.store.owner.token, options=to_json(options), restored_nodes=restored,
                )
            )  # fmt: skip
        return None

    def _launch(
        self, workflow: Workflow, run_id: str, inputs: dict[str, Any], options: dict[str, Any], source: str, *,
        bus: EventBus | None, segment: int, prior: Mapping[str, Any] | None = None,
        children: RecordedChildren | None = None, handles_failure: bool = True,
    ) -> RunHandle:  # fmt: skip
        recorder = RunRecorder(self.store.db, run_id, segment=segment, owner=self.store.owner.token, live=self.live)
        decisions = {k: (bool(v[0]), str(v[1])) for k, v in options.get("decisions", {}).items()}
        services = self._services_for(source, options)
        if children is not None:
            services = replace(services, earlier_children=children)
        handle = start_run(
            workflow,
            self.catalog,
            services,
            inputs,
            run_id=run_id,
            bus=bus,
            journal=recorder,
            prior=prior,
            decisions=decisions,
            suspend_on_wait=bool(options.get("suspend_on_wait")),
            use_pins=bool(options.get("use_pins", True)),
            validated=True,
        )
        if handles_failure and workflow.settings.on_failure:  # a handler's run never starts one (no loops)
            FailureHandler(self, workflow, run_id, source, options).attach(handle)
        if self.trace_to:
            self.traces.watch(handle.task, self.store.db, run_id, self.trace_to)
        return handle

    def start_handler(
        self, workflow: Workflow, inputs: Mapping[str, Any], source: str, version: int | None, failed_run_id: str,
        failed_options: Mapping[str, Any],
    ) -> RunHandle:  # fmt: skip
        """Record and start the on-failure handler of ``failed_run_id`` (``failure_handler.py``)."""
        check_runnable(workflow, self.catalog)
        prepared = prepare_inputs(workflow, inputs)
        run_id = new_run_id()
        # nobody is there to answer an approval: the handler suspends at one, to be decided later
        options = {"suspend_on_wait": True, "files_root": failed_options.get("files_root")}
        self._insert_run(run_id, workflow, prepared, source=source, version=version, key=None, options=options,
                         kind=HANDLER_KIND, parent=failed_run_id)  # fmt: skip
        self.note(failed_run_id, "on_failure", f"failed: its on-failure handler runs as run {run_id}")
        # the inputs as given: the run prepares them again, and an unset optional input is not a value of its type
        return self._launch(workflow, run_id, dict(inputs), options, source, bus=None, segment=0, handles_failure=False)

    def _services_for(self, source: str, options: Mapping[str, Any]) -> EngineServices:
        files = FileWorkflowResolver(Path(source).parent) if source not in ("library", "child") else None
        resolver = files if files is not None else LibraryWorkflowResolver(self.store)
        root = options.get("files_root")
        return replace(self.services, workflows=resolver, files_root=Path(root) if root else self.services.files_root)

    # ------------------------------------------------------------ continue
    def resume(self, run_id: str, *, bus: EventBus | None = None, suspend_on_wait: bool | None = None) -> RunHandle:
        """Continue an interrupted (or failed, or cancelled) run; finished nodes are not run again."""
        run = self.store.runs.get(run_id)
        if run.kind == "child":
            raise RunStateError(f"run '{run.id}' is part of run '{run.parent_run_id}'; resume that one")
        if run.status not in CONTINUABLE:
            raise RunStateError(f"run '{run.id}' is {run.status}; only {', '.join(CONTINUABLE)} runs can be resumed")
        return self._continue(run, {}, bus, suspend_on_wait)

    def decide(
        self,
        run_id: str,
        node_id: str,
        approved: bool,
        comment: str = "",
        *,
        bus: EventBus | None = None,
        suspend_on_wait: bool | None = None,
    ) -> RunHandle:
        """Give the decision a waiting run needs (after a restart, or a run that suspended), and continue it."""
        run = self.store.runs.get(run_id)
        if run.status != "waiting":
            raise RunStateError(f"run '{run.id}' is {run.status}, not waiting for an approval")
        if self.store.owner_alive(run.owner) and not self._suspended(run):
            # its engine run still waits there (in another process, or behind a handle in this one):
            # starting a second one here would run the same run twice
            raise RunStateError(f"run '{run.id}' is waiting live in a running flowdesk; decide it there")
        status, _ = self.store.runs.node_results(run.id)
        if status.get(node_id) != "waiting":
            waiting = sorted(n for n, s in status.items() if s == "waiting")
            raise RunStateError(
                f"node '{node_id}' of run '{run.id}' is not waiting for a decision"
                + (f" (waiting: {', '.join(waiting)})" if waiting else "")
            )
        return self._continue(run, {node_id: (approved, comment)}, bus, suspend_on_wait)

    @staticmethod
    def _suspended(run: RunInfo) -> bool:
        """A run that ended as 'waiting' (suspend_on_wait) is over in its process, even if that process lives."""
        return run.finished_at is not None

    def _continue(
        self,
        run: RunInfo,
        decisions: dict[str, tuple[bool, str]],
        bus: EventBus | None,
        suspend_on_wait: bool | None,
    ) -> RunHandle:
        """Continue ``run``; ``suspend_on_wait`` None keeps how it was started (whoever continues may differ)."""
        workflow = self.store.runs.document(run.id)
        check_runnable(workflow, self.catalog)  # e.g. a plugin its nodes need was uninstalled since
        prior = finished_outcomes(self.store.runs.step_results(run.id))
        inputs, _ = self.store.runs.run_values(run.id)
        options = dict(run.options)
        options["decisions"] = {**options.get("decisions", {}), **{k: list(v) for k, v in decisions.items()}}
        options["cluster"] = self._cluster()  # where it goes on now, which may not be where it began
        if suspend_on_wait is not None:
            options["suspend_on_wait"] = suspend_on_wait
        segment = run.segment + 1
        with self.store.db.write() as conn:
            conn.execute(
                update(RUN)
                .where(RUN.c.id == run.id)
                .values(status="pending", segment=segment, restored_nodes=len(prior), owner=self.store.owner.token,
                        options=json.dumps(options), error=None, finished_at=None)
            )  # fmt: skip
            conn.execute(
                insert(LOG).values(
                    run_id=run.id, ts=time.time(), level="info", kind="run_continued",
                    message=f"continued: {len(prior)} finished node result(s) reused, the rest run now",
                )
            )  # fmt: skip
        children = RecordedChildren(self.store, count_usage=run.status == "interrupted")
        return self._launch(
            workflow, run.id, inputs, options, run.source, bus=bus, segment=segment, prior=prior, children=children,
            handles_failure=run.kind != HANDLER_KIND,
        )  # fmt: skip

    # ------------------------------------------------------------ re-run
    def rerun(
        self, run_id: str, from_node: str, *, bus: EventBus | None = None, suspend_on_wait: bool | None = None,
        recorded: bool = False,
    ) -> Started:  # fmt: skip
        """A new run from ``from_node`` of the workflow as it is now, with the run's inputs.

        It reuses the earlier run's result of every node outside ``from_node``'s part whose definition,
        and that of all it depends on, is unchanged since (``rerun_plan``); the rest runs. ``recorded``
        re-runs the exact version the run ran instead (an audit).
        """
        run = self.store.runs.get(run_id)
        then = self.store.runs.document(run.id)
        workflow, version = (then, run.workflow_version) if recorded else self._current(run, then)
        if workflow.node(from_node) is None:
            where = f"the workflow run '{run.id}' ran" if recorded else _version_name(run, version)
            raise NotFoundError(f"there is no node '{from_node}' in {where}")
        check_runnable(workflow, self.catalog)
        recorded_inputs, _ = self.store.runs.run_values(run.id)
        declared = {i.name for i in workflow.inputs}
        inputs = prepare_inputs(workflow, {k: v for k, v in recorded_inputs.items() if k in declared})
        plan = rerun_plan(
            workflow, then, self.store.runs.step_results(run.id), from_node=from_node,
            inputs_now=inputs, inputs_then=recorded_inputs, catalog=self.catalog,
        )  # fmt: skip
        options = dict(run.options)
        reused = set(plan.reused)  # approvals that run again are asked again, not taken from the parent
        options["decisions"] = {k: v for k, v in options.get("decisions", {}).items() if k in reused}
        options["rerun"] = {"recorded": recorded, "reused": list(plan.reused), "changed": list(plan.changed)}
        options["cluster"] = self._cluster()
        if suspend_on_wait is not None:
            options["suspend_on_wait"] = suspend_on_wait
        new_id = new_run_id()
        source = run.source
        self._insert_run(
            new_id, workflow, inputs, source=source, version=version, key=None, options=options,
            kind="rerun", parent=run.id, parent_node=from_node, restored=len(plan.prior),
        )  # fmt: skip
        summary = rerun_summary(run, version, from_node, plan.reused, plan.changed, recorded=recorded)
        self._log(new_id, summary)
        handle = self._launch(workflow, new_id, inputs, options, source, bus=bus, segment=0, prior=plan.prior)
        return Started(new_id, handle=handle, summary=summary)

    def _current(self, run: RunInfo, recorded: Workflow) -> tuple[Workflow, int | None]:
        """The workflow a run ran, as it is now: its library's current version (or its file, read again)."""
        if run.source == "library":
            if run.workflow_id is None or not self.store.workflows.exists(run.workflow_id):
                raise NotFoundError(
                    f"the workflow run '{run.id}' ran is no longer in the library; re-run the recorded version "
                    "(`flowdesk rerun --recorded`)"
                )
            info = self.store.workflows.get(run.workflow_id)
            return self.store.workflows.load(info.id), info.current_version
        if run.source == "child":
            return recorded, None
        try:
            return read_workflow(run.source), None
        except WorkflowFileError as exc:
            raise NotFoundError(f"cannot read the workflow file again: {exc}") from exc

    def _log(self, run_id: str, message: str) -> None:
        self.note(run_id, "run_rerun", message)

    def note(self, run_id: str, kind: str, message: str) -> None:
        """A line in the run's kept log (``flowdesk show --json``), beside its events'."""
        with self.store.db.write() as conn:
            conn.execute(insert(LOG).values(run_id=run_id, ts=time.time(), level="info", kind=kind, message=message))


def _version_name(run: RunInfo, version: int | None) -> str:
    return (
        f"version {version} of '{run.workflow_name}'" if version is not None else f"'{run.workflow_name}' as it is now"
    )


def rerun_summary(
    run: RunInfo, version: int | None, from_node: str, reused: tuple[str, ...], changed: tuple[str, ...], *,
    recorded: bool,
) -> str:  # fmt: skip
    """One line saying what a re-run ran and what it took from the run it came from."""
    ran = "the recorded version" if recorded else (f"version {version}" if version is not None else "the file now")
    text = f"re-run of {run.id} from '{from_node}' on {ran}: "
    text += f"reused {len(reused)} node result(s)" + (f" ({', '.join(reused[:20])})" if reused else "")
    if changed:
        text += f"; changed since, so run again: {', '.join(changed[:20])}"
    return text

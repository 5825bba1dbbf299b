"""Runs started from the app: recorded through the library, followed live, steered from the window.

Qt and asyncio share one loop (qasync), so a run is an asyncio task beside the widgets and the
window never waits for it. The engine publishes events on a bus; this controller drains each
live run's subscription on a timer (about 30 times a second), folds them into the run's
:class:`RunTrace` (the engine's read model, which a reopened run replays from the journal) and
tells the widgets once per tick, so a run of thousands of nodes costs the
window a handful of repaints a second rather than one per event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, Signal

from flowdesk.engine.bus import EventBus, Subscription
from flowdesk.engine.runner import InvalidWorkflowError, RunHandle, RunInputError
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import LibraryError
from flowdesk.store.running import RunService, RunStateError
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError
from flowdesk.ui.runs.trace import RunTrace

log = logging.getLogger(__name__)

TICK_MS = 33
"""How often live runs are drained and painted: about 30 times a second."""
MAX_EVENTS_PER_TICK = 20_000
"""A bound on one tick's work, so a flood of events cannot freeze the window (the rest waits a tick)."""


class RunStartError(Exception):
    """A run could not start or continue; the message says why, in words for the person who asked."""


@dataclass
class LiveRun:
    """A run this window started or continued and is following."""

    run_id: str
    workflow_id: str | None
    handle: RunHandle
    subscription: Subscription
    trace: RunTrace
    events_seen: int = 0
    finished: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class RunController(QObject):
    """Starts, steers and follows recorded runs; the window's widgets listen to its signals."""

    run_started = Signal(str)
    """A run started or continued (its id)."""
    run_events = Signal(str, list)
    """A batch of a run's events (sub-runs' included), in order: the log shows them."""
    run_changed = Signal(str)
    """A run's trace changed: node states, progress, status."""
    run_finished = Signal(str, str)
    """A run ended (id, status): succeeded, failed, cancelled or waiting (suspended)."""

    def __init__(self, store: Store, service: RunService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.service = service
        self.live: dict[str, LiveRun] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)

    # ------------------------------------------------------------ starting
    def start(
        self, workflow: Workflow, inputs: Mapping[str, Any], *, source: str = "library", version: int | None = None,
        files_root: str | None = None, validated: bool = False, service: RunService | None = None,
        where: str | None = None,
    ) -> str:  # fmt: skip
        """Start a recorded run of ``workflow`` (saved in the library as ``version``); returns its id.

        ``service`` is another run service than the window's (one that sends child runs to a cluster);
        ``where`` says in words where the run runs (the status bar shows it)."""

        def launch(bus: EventBus) -> tuple[str, RunHandle]:
            started = (service or self.service).start(
                workflow,
                inputs,
                source=source,
                workflow_version=version,
                bus=bus,
                files_root=files_root,
                validated=validated,
            )
            assert started.handle is not None  # no idempotency key, so always a new run
            return started.run_id, started.handle

        return self._follow(launch, workflow.id if source == "library" else None, where)

    def resume(self, run_id: str, *, service: RunService | None = None, where: str | None = None) -> str:
        """Continue an interrupted, failed or cancelled run; finished nodes are not run again."""
        info = self._info(run_id)
        runs = service or self.service
        return self._follow(lambda bus: (run_id, runs.resume(run_id, bus=bus)), info.workflow_id, where)

    def rerun(
        self, run_id: str, node_id: str, *, service: RunService | None = None, where: str | None = None
    ) -> str:  # fmt: skip
        """A new run that reuses everything upstream of ``node_id`` and runs it and what follows."""
        info = self._info(run_id)

        def launch(bus: EventBus) -> tuple[str, RunHandle]:
            started = (service or self.service).rerun(run_id, node_id, bus=bus)
            assert started.handle is not None
            return started.run_id, started.handle

        return self._follow(launch, info.workflow_id, where)

    def decide(
        self, run_id: str, node_id: str, approved: bool, comment: str = "", *, service: RunService | None = None,
        where: str | None = None,
    ) -> None:  # fmt: skip
        """Approve or reject a waiting node: directly in a live run, else by continuing the recorded one
        (with ``service``, when its workflow runs on a cluster: ``launch.decide_run``)."""
        live = self.live.get(run_id)
        if live is not None and not live.finished:
            decide = live.handle.approve if approved else live.handle.reject
            if not decide(node_id, comment):
                raise RunStartError(f"'{node_id}' is not waiting for a decision in this run")
            return
        info = self._info(run_id)
        runs = service or self.service
        self._follow(
            lambda bus: (run_id, runs.decide(run_id, node_id, approved, comment, bus=bus)), info.workflow_id, where
        )

    def _info(self, run_id: str) -> Any:
        try:
            return self.store.runs.get(run_id)
        except (NotFoundError, LibraryError) as exc:
            raise RunStartError(str(exc)) from exc

    def _follow(
        self, launch: Callable[[EventBus], tuple[str, RunHandle]], workflow_id: str | None, where: str | None = None
    ) -> str:
        bus = EventBus()
        subscription = bus.subscribe()
        try:
            run_id, handle = launch(bus)
        except (InvalidWorkflowError, RunInputError, RunStateError, NotFoundError, LibraryError, ValueError) as exc:
            raise RunStartError(str(exc)) from exc
        trace = self._recorded_trace(run_id) or RunTrace(run_id)
        self.live[run_id] = LiveRun(run_id, workflow_id, handle, subscription, trace, extra={"where": where})
        handle.task.add_done_callback(lambda _task: self._timer.start())
        self._timer.start()
        self.run_started.emit(run_id)
        return run_id

    # ------------------------------------------------------------ steering
    def handle(self, run_id: str) -> RunHandle | None:
        live = self.live.get(run_id)
        return None if live is None or live.finished else live.handle

    def cancel(self, run_id: str) -> None:
        if (handle := self.handle(run_id)) is not None:
            handle.cancel()

    def pause(self, run_id: str) -> None:
        if (handle := self.handle(run_id)) is not None:
            handle.pause()

    def resume_paused(self, run_id: str) -> None:
        if (handle := self.handle(run_id)) is not None:
            handle.resume()

    def step(self, run_id: str) -> None:
        if (handle := self.handle(run_id)) is not None:
            handle.step()

    def running_ids(self) -> list[str]:
        return [run_id for run_id, live in self.live.items() if not live.finished]

    # ------------------------------------------------------------ pictures
    def trace(self, run_id: str) -> RunTrace | None:
        """The run's picture: live while this window follows it, else read from the journal."""
        live = self.live.get(run_id)
        return live.trace if live is not None else self._recorded_trace(run_id)

    def _recorded_trace(self, run_id: str) -> RunTrace | None:
        try:
            return self.store.runs.view(run_id)
        except (NotFoundError, LibraryError) as exc:
            log.info("no recorded run %s: %s", run_id, exc)
            return None

    # ------------------------------------------------------------ following
    def tick(self) -> None:
        """Drain every live run's events, fold them in, tell the widgets once per run."""
        for live in list(self.live.values()):
            if live.finished:
                continue
            batch = live.subscription.drain(MAX_EVENTS_PER_TICK)
            for event in batch:
                if event.type != "events_dropped":
                    live.trace.apply(event)
            if batch:
                live.events_seen += len(batch)
                self.run_events.emit(live.run_id, batch)
                self.run_changed.emit(live.run_id)
            if live.handle.task.done() and not live.subscription.pending:
                self._finish(live)
        if not self.running_ids():
            self._timer.stop()

    def _finish(self, live: LiveRun) -> None:
        live.finished = True
        live.subscription.close()
        task = live.handle.task
        if task.cancelled():
            status = "cancelled"
        elif task.exception() is not None:
            exc = task.exception()
            log.error("run %s ended with an internal error", live.run_id, exc_info=exc)
            status = "failed"
            live.trace.status, live.trace.error = "failed", f"internal error: {exc}"
        else:
            status = task.result().status
            live.trace.status = status
        self.run_finished.emit(live.run_id, status)

    # ------------------------------------------------------------ closing
    def cancel_all_blocking(self, timeout_s: float = 10.0) -> None:
        """Cancel every live run and let the loop turn (bounded) until each has journaled its end.

        Called while the window closes, when there is no coroutine left to await in.
        """
        for run_id in self.running_ids():
            self.cancel(run_id)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(not live.handle.task.done() for live in self.live.values()):
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        self.tick()

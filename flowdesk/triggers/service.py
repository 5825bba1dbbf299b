"""The trigger service: fires schedules when they are due, watches folders, follows finished runs, and
starts each run through the service's ``SubmitRun``.

``flowdesk serve`` makes one, calls ``start()`` and ``stop()``, and ``on_run_finished`` for every run
that ends. Triggers are read from the library on every tick, so one added by `flowdesk triggers add`
in another process is picked up within ``poll_s``. Only an active workflow's unpaused triggers fire;
each firing has an idempotency key (the schedule slot, the file, the finished run), so the same
firing seen twice, or by two services, starts one run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flowdesk.store.lifecycle import run_version
from flowdesk.store.triggers import TriggerInfo, TriggerStore
from flowdesk.triggers.folders import FolderWatches, folder_spec
from flowdesk.triggers.inputs import check_inputs, matching_inputs
from flowdesk.triggers.schedule import due_slot, next_due
from flowdesk.triggers.submit import SubmitRun, TriggerRefused

if TYPE_CHECKING:
    from flowdesk.store.runs import RunInfo
    from flowdesk.store.store import Store

log = logging.getLogger(__name__)

SCHEDULES = ("cron", "interval")
ENDED = ("succeeded", "failed", "cancelled", "interrupted")


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class TriggerService:
    def __init__(self, store: Store, submit: SubmitRun, *, clock: Clock | None = None, poll_s: float = 5.0) -> None:
        self.store = store
        self.triggers = TriggerStore(store.db)
        self._submit = submit
        self._clock = clock or SystemClock()
        self._poll_s = poll_s
        self._folders = FolderWatches(self._file_appeared)
        self._loop_task: asyncio.Task[None] | None = None
        self._finished_mark: float | None = None
        """Runs that ended after this (a library time) are looked at for 'after' triggers."""

    # ------------------------------------------------------------ running
    async def start(self) -> None:
        """Fire what was missed while nothing ran (once per trigger), then keep firing on time."""
        await self.tick()
        self._loop_task = asyncio.create_task(self._loop(), name="trigger-schedules")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        await self._folders.stop()

    async def _loop(self) -> None:
        while True:
            wait = self._poll_s
            try:
                wait = min(wait, await self.tick())
            except Exception:  # a library that is busy or a bad trigger must not stop the others for good
                log.exception("triggers: a tick failed; trying again in %.0f s", wait)
            await self._clock.sleep(max(wait, 0.05))

    async def tick(self) -> float:
        """Fire every schedule that is due now, bring the folder watches in line; returns seconds to the next slot."""
        now = self._clock.now()
        soonest = self._poll_s
        triggers = self.triggers.list()
        for trigger in triggers:
            if trigger.kind in SCHEDULES:
                last = trigger.last_fired_at if trigger.last_fired_at is not None else trigger.created_at
                slot = due_slot(trigger.config, last, now)
                if slot is not None:
                    await self._fire_slot(trigger, slot)
                    last = slot
                soonest = min(soonest, next_due(trigger.config, last, now) - now)
        self._folders.sync(
            {t.id: folder_spec(t.config) for t in triggers if t.kind == "folder" and t.can_fire and _is_dir(t)}
        )
        await self._follow_finished({str(t.config["workflow_id"]) for t in triggers if t.kind == "after"})
        return soonest

    async def _follow_finished(self, sources: set[str]) -> None:
        """Runs of watched workflows that ended since the last tick, whoever ran them (the app, the CLI).

        The service also calls ``on_run_finished`` for its own runs; the idempotency key of each
        firing makes hearing of a run twice start one run."""
        if not sources:  # nothing waits: an after-trigger added later starts from when it is first seen
            self._finished_mark = None
            return
        if self._finished_mark is None:
            self._finished_mark = self.triggers.last_finish()  # what ended before the service started is past
            return
        for run_id, finished_at in self.triggers.finished_since(self._finished_mark, sources):
            await self.on_run_finished(self.store.runs.get(run_id))
            self._finished_mark = max(self._finished_mark, finished_at)

    async def _fire_slot(self, trigger: TriggerInfo, slot: float) -> None:
        if not trigger.can_fire:  # the slot passes unfired: resuming later does not fire it
            self.triggers.record_firing(trigger.id, slot, error=_why_not(trigger))
            return
        await self.fire(trigger, {}, key=f"{trigger.id}:{slot:.0f}", fired_at=slot)

    # ------------------------------------------------------------ events from elsewhere
    async def _file_appeared(self, trigger_id: str, path: Path) -> None:
        trigger = self.triggers.get(trigger_id)
        name = str(trigger.config.get("input") or "path")
        stamp = path.stat().st_mtime_ns if path.exists() else 0
        await self.fire(trigger, {name: str(path)}, key=f"{trigger.id}:{path}:{stamp}")

    async def on_run_finished(self, info: RunInfo) -> list[str]:
        """Start the runs of the 'after' triggers waiting for this run's workflow and status; returns their ids."""
        if info.kind == "child" or info.workflow_id is None or info.status not in ENDED:
            return []
        started = []
        for trigger in self.triggers.list(kind="after"):
            if trigger.config.get("workflow_id") != info.workflow_id:
                continue
            wanted = trigger.config.get("status") or "succeeded"
            if wanted not in ("any", info.status):
                continue
            _, outputs = self.store.runs.run_values(info.id)
            run_id = await self.fire(trigger, outputs, key=f"{trigger.id}:{info.id}", lenient=True)
            if run_id:
                started.append(run_id)
        return started

    # ------------------------------------------------------------ firing
    async def fire(
        self, trigger: TriggerInfo, inputs: dict[str, Any], *, key: str, fired_at: float | None = None,
        lenient: bool = False,
    ) -> str | None:  # fmt: skip
        """Start a run for ``trigger``; None (with the reason recorded) when it may not or cannot.

        The trigger's own fixed ``inputs`` (its config) come first, what the event brought over them.
        ``lenient`` drops values the workflow does not declare (a finished run's outputs) instead of
        refusing them. A webhook checks its body itself first (``inputs.body_inputs``), to answer 400.
        """
        at = fired_at if fired_at is not None else self._clock.now()
        if not trigger.can_fire:
            self.triggers.record_firing(trigger.id, at, error=_why_not(trigger))
            return None
        version = run_version(self.store.db, trigger.workflow_id)
        try:
            workflow = self.store.workflows.load(trigger.workflow_id, version)
            given = {**trigger.config.get("inputs", {}), **(matching_inputs(workflow, inputs) if lenient else inputs)}
            check_inputs(workflow, given)
            run_id = await self._submit(
                trigger.workflow_id, given, version=version, idempotency_key=f"trigger:{key}", trigger=trigger.id
            )
        except (TriggerRefused, ValueError, LookupError) as exc:
            log.warning("trigger %s (%s) started no run: %s", trigger.id, trigger.kind, exc)
            self.triggers.record_firing(trigger.id, at, error=str(exc))
            return None
        self.triggers.record_firing(trigger.id, at, run_id=run_id)
        return run_id


def _why_not(trigger: TriggerInfo) -> str:
    if trigger.paused:
        return "skipped: the trigger is paused"
    return f"skipped: workflow '{trigger.workflow_slug}' is {trigger.workflow_status}, not active"


def _is_dir(trigger: TriggerInfo) -> bool:
    folder = Path(trigger.config["path"])
    if folder.is_dir():
        return True
    log.warning("folder trigger %s: %s is not a folder (any more); not watched", trigger.id, folder)
    return False

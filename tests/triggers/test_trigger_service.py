"""The trigger service against a real library: schedules with a fake clock (on time, coalesced after
downtime, paused, inactive workflows), after-workflow triggers with their status filter, and folder
triggers on a real temporary folder."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from triggers.conftest import EngineSubmit, RecordingSubmit, echo_workflow

from flowdesk.store.lifecycle import publish
from flowdesk.store.store import Store
from flowdesk.store.triggers import TriggerStore
from flowdesk.triggers.service import TriggerService

PARIS = ZoneInfo("Europe/Paris")
TICK = {"text": "tick"}


class FakeClock:
    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


def _add(store: Store, workflow: str, kind: str, config: dict[str, Any], *, created: float) -> str:
    triggers = TriggerStore(store.db)
    trigger = triggers.add(workflow, kind, config)
    triggers.record_firing(trigger.id, created)  # as if made (or last fired) at ``created``
    return trigger.id


def test_a_cron_schedule_fires_at_its_slot_in_its_timezone_and_not_before(
    store: Store, echo: str, recording: RecordingSubmit
) -> None:
    _add(
        store,
        echo,
        "cron",
        {"cron": "0 9 * * 1-5", "tz": "Europe/Paris", "inputs": TICK},
        created=at("2026-12-04T18:00"),
    )  # a Friday
    clock = FakeClock(at("2026-12-07T08:59"))  # Monday, a minute early
    service = TriggerService(store, recording, clock=clock, poll_s=3600)
    wait = asyncio.run(service.tick())
    assert recording.calls == [] and wait == pytest.approx(60, abs=1)
    clock.t = at("2026-12-07T09:00:01")
    asyncio.run(service.tick())
    asyncio.run(service.tick())
    assert len(recording.calls) == 1
    call = recording.calls[0]
    assert (
        call["workflow_id"] == echo and call["inputs"] == TICK and call["key"].endswith(f"{at('2026-12-07T09:00'):.0f}")
    )


def test_missed_slots_while_down_fire_once_on_restart_not_once_each(
    store: Store, echo: str, recording: RecordingSubmit
) -> None:
    hourly = _add(
        store, echo, "cron", {"cron": "0 * * * *", "tz": "UTC", "inputs": TICK}, created=at("2026-12-07T08:30")
    )
    every = _add(store, echo, "interval", {"seconds": 60, "inputs": TICK}, created=at("2026-12-07T08:30"))
    clock = FakeClock(at("2026-12-07T14:10"))  # down for more than five hours: 6 hourly slots, 340 minutes missed

    async def restart() -> None:
        service = TriggerService(store, recording, clock=clock)
        await service.start()
        await service.stop()

    asyncio.run(restart())
    assert sorted(c["trigger"] for c in recording.calls) == sorted([hourly, every])
    asyncio.run(restart())  # a second restart at the same moment fires nothing more
    assert len(recording.calls) == 2
    clock.t += 60
    asyncio.run(TriggerService(store, recording, clock=clock).tick())
    assert [c["trigger"] for c in recording.calls[2:]] == [every]


def test_triggers_of_paused_triggers_and_inactive_workflows_do_not_fire(
    store: Store, echo: str, recording: RecordingSubmit
) -> None:
    triggers = TriggerStore(store.db)
    tid = _add(store, echo, "interval", {"seconds": 10, "inputs": TICK}, created=1000.0)
    triggers.set_paused(tid, True)
    clock = FakeClock(1015.0)
    service = TriggerService(store, recording, clock=clock)
    asyncio.run(service.tick())
    assert recording.calls == [] and "paused" in (triggers.get(tid).last_error or "")
    triggers.set_paused(tid, False, now=1100.0)  # resuming does not fire the slots missed while paused
    clock.t = 1105.0
    asyncio.run(service.tick())
    assert recording.calls == []
    store.workflows.set_status(echo, "draft")
    clock.t = 1111.0
    asyncio.run(service.tick())
    assert recording.calls == [] and "draft, not active" in (triggers.get(tid).last_error or "")
    store.workflows.set_status(echo, "active")
    clock.t = 1121.0
    asyncio.run(service.tick())
    assert len(recording.calls) == 1 and triggers.get(tid).last_run_id == "run_1"


def test_a_schedule_runs_the_published_version(store: Store, echo: str, recording: RecordingSubmit) -> None:
    publish(store.db, echo, 1)
    store.workflows.save(echo_workflow(name="Echo, edited"))  # a new draft version 2
    _add(store, echo, "interval", {"seconds": 5, "inputs": TICK}, created=0.0)
    asyncio.run(TriggerService(store, recording, clock=FakeClock(6.0)).tick())
    assert recording.calls[0]["version"] == 1


def test_a_scheduled_workflow_whose_inputs_are_required_records_why_it_did_not_run(
    store: Store, echo: str, recording: RecordingSubmit
) -> None:
    tid = _add(store, echo, "interval", {"seconds": 5}, created=0.0)
    asyncio.run(TriggerService(store, recording, clock=FakeClock(6.0)).tick())
    assert recording.calls == []
    assert "inputs.text: input 'text' is required" in (TriggerStore(store.db).get(tid).last_error or "")


def _upstream(store: Store, *, fail: bool) -> str:
    wf = echo_workflow("wf_up", "Upstream")
    if fail:  # a transform that fails: its expression reads a name that is not there
        nodes = tuple(
            n.model_copy(update={"config": {"expression": "inputs.input.nope.deeper"}}) if n.id == "t" else n
            for n in wf.nodes
        )
        wf = wf.model_copy(update={"nodes": nodes})
    saved = store.workflows.save(wf)
    return saved.workflow_id


def test_after_workflow_fires_on_the_statuses_it_asks_for_with_the_outputs_as_inputs(store: Store, echo: str) -> None:
    up = _upstream(store, fail=False)
    submit = EngineSubmit(store)
    triggers = TriggerStore(store.db)
    on_success = triggers.add(echo, "after", {"workflow_id": up, "status": "succeeded"}).id
    triggers.add(echo, "after", {"workflow_id": up, "status": "failed"})
    service = TriggerService(store, submit)

    async def scenario() -> list[str]:
        first = await submit(up, {"text": "passed on"})
        started = await service.on_run_finished(store.runs.get(first))
        again = await service.on_run_finished(store.runs.get(first))  # told twice: still one run
        assert again == started
        return started

    started = asyncio.run(scenario())
    assert len(started) == 1 and triggers.get(on_success).last_run_id == started[0]
    run = store.runs.get(started[0])
    assert run.workflow_id == echo and run.status == "succeeded"
    assert store.runs.run_values(run.id) == ({"text": "passed on", "count": 1}, {"text": "passed on"})


def test_after_workflow_with_a_failed_filter_fires_only_on_failure(store: Store, echo: str) -> None:
    up = _upstream(store, fail=True)
    submit = EngineSubmit(store)
    triggers = TriggerStore(store.db)
    on_failure = triggers.add(echo, "after", {"workflow_id": up, "status": "failed"}).id
    on_success = triggers.add(echo, "after", {"workflow_id": up}).id  # default: succeeded
    service = TriggerService(store, submit)

    async def scenario() -> list[str]:
        first = await submit(up, {"text": "x"})
        assert store.runs.get(first).status == "failed"
        return await service.on_run_finished(store.runs.get(first))

    started = asyncio.run(scenario())
    # the failed upstream has no outputs, so the echo's required 'text' is missing: refused, and said why
    assert started == []
    assert "input 'text' is required" in (triggers.get(on_failure).last_error or "")
    assert triggers.get(on_success).last_fired_at is None


def test_a_file_appearing_in_a_watched_folder_starts_one_run_with_its_path(
    store: Store, echo: str, recording: RecordingSubmit, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "old.txt").write_text("there before")  # files already there do not fire
    TriggerStore(store.db).add(echo, "folder", {"path": str(inbox), "input": "text"})
    service = TriggerService(store, recording, poll_s=0.1)

    async def scenario() -> None:
        await service.start()
        await asyncio.sleep(0.5)  # the watch is set up
        (inbox / "new.csv").write_text("a,b\n")
        for _ in range(100):
            if recording.calls:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.4)
        await service.stop()

    asyncio.run(scenario())
    assert [c["inputs"] for c in recording.calls] == [{"text": str(inbox / "new.csv")}]


def test_after_workflow_also_follows_runs_the_service_did_not_start(store: Store, echo: str) -> None:
    up = _upstream(store, fail=False)
    submit = EngineSubmit(store)
    asyncio.run(submit(up, {"text": "before the service"}))  # ended before it started: not followed
    trigger = TriggerStore(store.db).add(echo, "after", {"workflow_id": up}).id
    service = TriggerService(store, submit)

    async def scenario() -> None:
        await service.tick()
        await submit(up, {"text": "from the app"})  # a run of another process: nobody calls on_run_finished
        await service.tick()
        await service.tick()

    asyncio.run(scenario())
    runs = store.runs.list(echo)
    assert len(runs) == 1 and TriggerStore(store.db).get(trigger).last_run_id == runs[0].id
    assert store.runs.run_values(runs[0].id)[0]["text"] == "from the app"

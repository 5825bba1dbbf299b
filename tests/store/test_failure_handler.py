"""The on-failure handler: a failed run starts the workflow its settings name, as a run of its own linked
to the failed one, with the failure's context as inputs; never for a cancelled run, never in a loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support.failing_flows import edge_of, failing, handler
from support.wfbuild import node

from flowdesk.engine.on_failure import HandledRunResult
from flowdesk.engine.results import InvalidWorkflowError
from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import write_workflow
from flowdesk.model.workflow import RunInput, Workflow
from flowdesk.nodes.kinds import BUILTIN_KINDS
from flowdesk.nodes.registry import Registry
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store

CATALOG = Registry(BUILTIN_KINDS)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


def _service(store: Store) -> RunService:
    return RunService(store, CATALOG, EngineServices())


async def _run(service: RunService, wf: Workflow, **kwargs: Any) -> Any:
    if "source" not in kwargs:  # a library run: of a saved workflow
        kwargs.setdefault("workflow_version", service.store.workflows.save(wf).version)
    started = service.start(wf, **kwargs)
    assert started.handle is not None
    return await started.handle.wait()


def _handler_runs(store: Store, run_id: str) -> list[Any]:
    return [r for r in store.runs.list(parent_run_id=run_id, limit=None) if r.kind == "handler"]


def test_a_failed_library_run_starts_its_handler_with_the_failure_as_inputs(store: Store) -> None:
    store.workflows.save(handler())
    result = asyncio.run(_run(_service(store), failing(), inputs={"n": 0}))
    assert result.status == "failed" and isinstance(result, HandledRunResult)
    handled = result.handled_by
    assert handled is not None and handled.status == "succeeded" and handled.workflow == "notify"
    [row] = _handler_runs(store, result.run_id)
    assert row.id == handled.run_id and row.parent_run_id == result.run_id and row.workflow_name == "Notify the team"
    _, outputs = store.runs.run_values(row.id)
    seen = outputs["seen"]
    assert seen["failed_run_id"] == result.run_id
    assert (seen["workflow_id"], seen["workflow_name"], seen["workflow_slug"], seen["workflow_version"]) == (
        "nightly", "Nightly import", "nightly-import", 1,
    )  # fmt: skip
    assert seen["failed_node_id"] == "boom" and seen["failed_node_name"] == "Divide"
    assert "division or modulo by zero" in seen["error_message"] and seen["error_class"] == "node"
    assert seen["failed_node_inputs"] == {"input": {"n": 0}}
    assert seen["run_inputs"] == {"n": 0}
    assert store.runs.get(result.run_id).status == "failed"  # the failed run stays failed


def test_a_handler_gets_only_the_inputs_it_declares(store: Store) -> None:
    store.workflows.save(handler(inputs=("error_message",)))
    result = asyncio.run(_run(_service(store), failing()))
    assert result.handled_by.status == "succeeded"
    _, outputs = store.runs.run_values(result.handled_by.run_id)
    assert list(outputs["seen"]) == ["error_message"]


def test_a_succeeding_or_cancelled_run_starts_no_handler(store: Store) -> None:
    store.workflows.save(handler())
    ok = asyncio.run(_run(_service(store), failing(), inputs={"n": 5}))
    assert ok.status == "succeeded" and _handler_runs(store, ok.run_id) == []

    async def cancelled() -> Any:
        wf = failing()  # it would fail, but is cancelled on its way there
        wait = node("wait", "delay", seconds=30)
        edges = (edge_of("start", "inputs", "wait", "value"), edge_of("wait", "value", "boom", "input"), wf.edges[1])
        slow = wf.model_copy(update={"nodes": (*wf.nodes, wait), "edges": edges})
        started = _service(store).start(slow, workflow_version=store.workflows.save(slow).version)
        await asyncio.sleep(0.2)
        started.handle.cancel()
        return await started.handle.wait()

    result = asyncio.run(cancelled())
    assert result.status == "cancelled" and _handler_runs(store, result.run_id) == []


def test_a_failing_handler_starts_no_handler_of_its_own_even_when_it_names_one(store: Store) -> None:
    store.workflows.save(handler(fail=True, on_failure="notify"))  # names itself: would loop
    result = asyncio.run(_run(_service(store), failing()))
    assert result.handled_by.status == "failed"
    assert "missing" in result.handled_by.message
    [row] = _handler_runs(store, result.run_id)
    assert _handler_runs(store, row.id) == []
    assert len([r for r in store.runs.list(limit=None) if r.kind == "handler"]) == 1


def test_a_workflow_whose_handler_does_not_exist_does_not_start(store: Store) -> None:
    with pytest.raises(InvalidWorkflowError) as caught:
        _service(store).start(failing(on_failure="no_such_flow"))
    [problem] = caught.value.problems
    assert problem.field == "settings.on_failure" and problem.code == "on-failure-handler"
    assert problem.message == (
        "The on-failure handler 'no_such_flow' (settings.on_failure) cannot run: there is no library workflow "
        "'no_such_flow' (see `flowdesk list`)."
    )
    assert store.runs.list() == []  # nothing was recorded, nothing ran


def test_a_handler_wanting_an_input_a_failure_does_not_give_is_refused_before_the_run(store: Store) -> None:
    wants = handler().model_copy(update={"inputs": (RunInput(name="channel", required=True),)})
    store.workflows.save(wants)
    with pytest.raises(InvalidWorkflowError, match="it requires the input 'channel', which a failed run does not"):
        _service(store).start(failing())


def test_a_file_run_finds_its_handler_beside_its_file(store: Store, tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    write_workflow(handler(), tmp_path / "handlers" / "notify.json")
    wf = failing(on_failure="handlers/notify")
    write_workflow(wf, tmp_path / "nightly.json")
    result = asyncio.run(_run(_service(store), wf, source=str(tmp_path / "nightly.json")))
    assert result.handled_by.status == "succeeded"
    row = store.runs.get(result.handled_by.run_id)
    assert row.source == str((tmp_path / "handlers" / "notify.json").resolve())
    _, outputs = store.runs.run_values(row.id)
    assert outputs["seen"]["workflow_slug"] == str(tmp_path / "nightly.json")
    assert outputs["seen"]["workflow_version"] is None  # a file has none: the input keeps its default


def test_a_handler_gone_by_the_time_the_run_fails_is_said_not_started(store: Store) -> None:
    store.workflows.save(handler())
    wf = failing()
    version = store.workflows.save(wf).version

    async def scenario() -> Any:
        started = _service(store).start(wf, workflow_version=version)  # the handler is there now
        store.workflows.delete("notify")  # and gone before the run fails
        return await started.handle.wait()

    result = asyncio.run(scenario())
    assert result.status == "failed" and result.handled_by.run_id is None
    assert result.handled_by.status == "not started"
    assert result.handled_by.message == (
        "the on-failure handler 'notify' could not start: there is no library workflow 'notify' (see `flowdesk list`)"
    )
    notes = [line.message for line in store.runs.logs(result.run_id) if line.kind == "on_failure"]
    assert notes == [result.handled_by.message]


def test_a_library_run_finds_a_handler_named_by_the_file_it_was_imported_from(store: Store) -> None:
    store.workflows.save(handler())  # imported from notify.json, say
    result = asyncio.run(_run(_service(store), failing(on_failure="handlers/notify.json")))
    assert result.handled_by.status == "succeeded"
    assert store.runs.get(result.handled_by.run_id).workflow_name == "Notify the team"


def test_cancelling_a_failed_run_whose_handler_runs_cancels_the_handler(store: Store) -> None:
    slow = handler()
    wait = node("wait", "delay", seconds=30)
    edges = (edge_of("start", "inputs", "wait", "value"), edge_of("wait", "value", "seen", "input"), slow.edges[1])
    store.workflows.save(slow.model_copy(update={"nodes": (*slow.nodes, wait), "edges": edges}))
    wf = failing()
    version = store.workflows.save(wf).version

    async def scenario() -> Any:
        handle = _service(store).start(wf, workflow_version=version).handle
        while handle.follow_up is None:  # the run failed and its handler started (and now waits 30 s)
            await asyncio.sleep(0.01)
        handle.cancel()  # Ctrl-C in `flowdesk run`, Stop in the app
        return await asyncio.wait_for(handle.wait(), 10)

    result = asyncio.run(scenario())
    assert result.status == "failed" and result.handled_by.status == "cancelled"
    assert store.runs.get(result.handled_by.run_id).status == "cancelled"

"""Recorded runs: what the journal holds, and resume, approval after a restart, re-run, idempotency."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import RunInput
from flowdesk.providers.resolver import default_providers
from flowdesk.store.running import RunService, RunStateError
from flowdesk.store.store import Store, open_store

Calls = list[tuple[str, int, int]]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


def _service(store: Store, calls: Calls) -> RunService:
    return RunService(store, catalog_with(calls), EngineServices())


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _start(service: RunService, wf: Any, **kwargs: Any) -> Any:
    service.store.workflows.save(wf)
    started = service.start(wf, **kwargs)
    assert started.handle is not None
    return started.run_id, await started.handle.wait()


def test_every_attempt_is_a_step_with_its_values_usage_and_timing(store: Store) -> None:
    calls: Calls = []
    wf = workflow(
        [node("a", "t.noop"), node("b", "t.flaky", fail_times=1, retry={"max_attempts": 3, "initial_delay_s": 0.0})],
        ["a.output -> b.input"],
    )
    run_id, result = _run(_start(_service(store, calls), wf))
    assert result.status == "succeeded"
    steps = store.runs.steps(run_id)
    assert [(s.node_id, s.attempt, s.status) for s in steps] == [
        ("a", 1, "succeeded"),
        ("b", 1, "failed"),
        ("b", 2, "succeeded"),
    ]
    assert steps[1].error is not None and "injected failure 1" in steps[1].error["message"]
    assert all(s.started_at is not None and s.finished_at is not None and s.finished_at >= s.started_at for s in steps)
    inputs, outputs = store.runs.step_values(steps[2].id)
    assert inputs == {"input": None} and outputs == {"output": None}
    run = store.runs.get(run_id)
    assert (run.status, run.node_counts, run.workflow_version, run.source) == (
        "succeeded",
        {"succeeded": 2},
        None,
        "library",
    )
    logs = store.runs.logs(run_id)
    assert any(log.kind == "node_retrying" and log.node_id == "b" and log.level == "warning" for log in logs)


def test_a_value_passed_down_a_chain_is_stored_once(store: Store) -> None:
    calls: Calls = []
    big = "x" * 100_000
    wf = workflow(
        [node(f"n{i}", "t.noop") for i in range(10)],
        [f"n{i}.output -> n{i + 1}.input" for i in range(9)],
        inputs=[RunInput(name="text", type="string")],
    )
    wf = wf.model_copy(update={"nodes": (node("start", "start"), *wf.nodes)})
    wf = wf.model_copy(update={"edges": (*wf.edges, *workflow([], ["start.inputs -> n0.input"]).edges)})
    run_id, result = _run(_start(_service(store, calls), wf, inputs={"text": big}))
    assert result.status == "succeeded"
    conn = store.db.raw()
    stored = conn.execute("SELECT sum(size) FROM blob").fetchone()[0]
    # 11 nodes saw it as input and output (22 values); stored are the run input (the string) and
    # the start node's object holding it, once each
    assert stored < 3 * len(big)
    _, outputs = store.runs.step_values(store.runs.steps(run_id)[-1].id)
    assert outputs == {"output": {"text": big}}


def test_resume_reruns_only_what_had_not_finished(store: Store) -> None:
    calls: Calls = []
    service = _service(store, calls)
    wf = workflow([node("a", "t.noop"), node("b", "t.sleep", seconds=0.3), node("c", "t.noop")],
                  ["a.output -> b.input", "b.output -> c.input"])  # fmt: skip
    store.workflows.save(wf)

    async def stop_during_b() -> Any:
        started = service.start(wf)
        while not calls or calls[-1][0] != "b":
            await asyncio.sleep(0.01)
        started.handle.cancel()
        return started.run_id, await started.handle.wait()

    run_id, result = _run(stop_during_b())
    assert result.status == "cancelled"
    assert [c[0] for c in calls] == ["a", "b"]

    async def resume() -> Any:
        return await service.resume(run_id).wait()

    calls.clear()
    result = _run(resume())
    assert result.status == "succeeded"
    assert [c[0] for c in calls] == ["b", "c"]
    run = store.runs.get(run_id)
    assert (run.status, run.segment, run.restored_nodes) == ("succeeded", 1, 1)
    assert [(s.node_id, s.segment, s.status) for s in store.runs.steps(run_id)] == [
        ("a", 0, "succeeded"), ("b", 0, "cancelled"), ("b", 1, "succeeded"), ("c", 1, "succeeded"),
    ]  # fmt: skip
    with pytest.raises(RunStateError, match="succeeded"):
        service.resume(run_id)


def test_a_run_left_running_by_a_dead_process_is_interrupted_on_open(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    store = open_store(path)
    conn = store.db.raw()
    conn.execute("INSERT INTO run (id, status, created_at, owner) VALUES ('dead', 'running', 1, 'gone123')")
    conn.execute("INSERT INTO step (run_id, node_id, status) VALUES ('dead', 'a', 'succeeded')")
    conn.execute("INSERT INTO step (run_id, node_id, attempt, status) VALUES ('dead', 'b', 1, 'running')")
    conn.execute(
        "INSERT INTO run (id, status, created_at, owner) VALUES ('mine', 'running', 1, ?)", (store.owner.token,)
    )
    store.close()  # our owner token goes with this store: 'mine' is now a dead process's run too
    other = open_store(path)
    assert other.runs.get("dead").status == "interrupted"
    assert other.runs.get("mine").status == "interrupted"
    assert [s.status for s in other.runs.steps("dead")] == ["succeeded", "interrupted"]
    assert any("interrupted" in log.message for log in other.runs.logs("dead"))
    other.close()


def test_a_live_owner_keeps_its_runs_running(store: Store, tmp_path: Path) -> None:
    store.db.raw().execute(
        "INSERT INTO run (id, status, created_at, owner) VALUES ('live', 'running', 1, ?)", (store.owner.token,)
    )
    second = open_store(store.path)  # a second process (or window) opening the same library
    assert second.runs.get("live").status == "running"
    second.close()


def _approval_workflow() -> Any:
    return workflow(
        [node("a", "t.noop"), node("ok", "approval", message="ship it?"), node("done", "t.noop")],
        ["a.output -> ok.value", "ok.approved -> done.input"],
    )


def test_a_suspended_approval_is_decided_later_and_the_run_continues(tmp_path: Path) -> None:
    calls: Calls = []
    store = open_store(tmp_path / "lib.db")
    run_id, result = _run(_start(_service(store, calls), _approval_workflow(), suspend_on_wait=True))
    assert result.status == "waiting"
    assert store.runs.get(run_id).status == "waiting"
    store.close()  # "restart the program"

    store = open_store(tmp_path / "lib.db")
    service = _service(store, calls)
    assert store.runs.get(run_id).status == "waiting"  # not interrupted: it waits for a person
    with pytest.raises(RunStateError, match="'a' .* not waiting"):
        service.decide(run_id, "a", True)
    calls.clear()

    async def approve() -> Any:
        return await service.decide(run_id, "ok", True, "looks good").wait()

    result = _run(approve())
    assert result.status == "succeeded"
    assert [c[0] for c in calls] == ["done"]  # 'a' was not run again
    assert store.runs.get(run_id).status == "succeeded"
    store.close()


def test_rerun_from_a_node_is_a_child_run_reusing_upstream_results(store: Store) -> None:
    calls: Calls = []
    service = _service(store, calls)
    wf = workflow([node("a", "t.noop"), node("b", "t.noop"), node("c", "t.noop")],
                  ["a.output -> b.input", "b.output -> c.input"])  # fmt: skip
    run_id, _ = _run(_start(service, wf))
    calls.clear()

    async def rerun() -> Any:
        started = service.rerun(run_id, "b")
        return started.run_id, await started.handle.wait()

    child_id, result = _run(rerun())
    assert result.status == "succeeded" and child_id != run_id
    assert [c[0] for c in calls] == ["b", "c"]
    child = store.runs.get(child_id)
    assert (child.kind, child.parent_run_id, child.parent_node_id, child.restored_nodes) == ("rerun", run_id, "b", 1)
    assert [(s.node_id, s.source) for s in store.runs.steps(child_id)] == [
        ("a", "restored"),
        ("b", "run"),
        ("c", "run"),
    ]
    assert [r.id for r in store.runs.list()] == [child_id, run_id]


def test_an_idempotency_key_returns_the_earlier_run(store: Store) -> None:
    calls: Calls = []
    service = _service(store, calls)
    wf = workflow([node("a", "t.noop")])
    run_id, _ = _run(_start(service, wf, idempotency_key="nightly-2026-11-22"))

    async def again() -> Any:
        return service.start(wf, idempotency_key="nightly-2026-11-22")

    second = _run(again())
    assert second.handle is None and second.run_id == run_id and second.existing.status == "succeeded"
    assert len(calls) == 1
    with pytest.raises(sqlite3.IntegrityError):  # the database itself refuses a second run with that key
        store.db.raw().execute(
            "INSERT INTO run (id, status, created_at, idempotency_key) VALUES ('x', 'pending', 1, 'nightly-2026-11-22')"
        )


def test_sub_workflow_runs_are_recorded_as_children(store: Store, tmp_path: Path) -> None:
    calls: Calls = []
    service = _service(store, calls)
    inner = workflow([node("start", "start"), node("x", "t.noop"), node("out", "output")],
                     ["start.inputs -> x.input", "x.output -> out.value"])  # fmt: skip
    inner = inner.model_copy(update={"id": "wf_inner", "name": "inner"})
    store.workflows.save(inner)
    outer = workflow(
        [
            node("s", "start"),
            node("xs", "transform", expression="inputs.input.xs"),
            node("m", "map", workflow="wf_inner", item_input="n"),
        ],
        ["s.inputs -> xs.input", "xs.output -> m.items"],
        inputs=[RunInput(name="xs", type="array")],
    )
    inner = inner.model_copy(update={"inputs": (RunInput(name="n", type="any"),)})
    store.workflows.save(inner)
    run_id, result = _run(_start(service, outer, inputs={"xs": [1, 2, 3]}))
    assert result.status == "succeeded", result.error
    children = store.runs.list(parent_run_id=run_id)
    assert len(children) == 3 and all(c.kind == "child" and c.status == "succeeded" for c in children)
    assert [r.id for r in store.runs.list()] == [run_id]  # lists show top-level runs


def test_a_runs_recorded_tokens_include_its_map_items(store: Store) -> None:
    """The runs list shows the run row's totals: what the map's child runs spent must be in them."""
    inner = workflow(
        [node("say", "llm", model="offline:echo", prompt="Summarise {{ run.inputs.n }}"), node("out", "output")],
        ["say.text -> out.value"],
        inputs=[RunInput(name="n", type="any")],
    ).model_copy(update={"id": "wf_inner", "name": "inner"})
    store.workflows.save(inner)
    outer = workflow(
        [node("xs", "transform", expression="['one', 'two two', 'three three three']"),
         node("m", "map", workflow="wf_inner", item_input="n")],
        ["xs.output -> m.items"],
    )  # fmt: skip
    service = RunService(store, catalog_with([]), EngineServices(providers=default_providers()))
    run_id, result = _run(_start(service, outer))
    assert result.status == "succeeded", result.error
    children = store.runs.list(parent_run_id=run_id)
    spent = sum(c.input_tokens for c in children), sum(c.output_tokens for c in children)
    assert len(children) == 3 and spent[1] > 0
    row = store.runs.get(run_id)
    assert (row.input_tokens, row.output_tokens) == spent
    (mapped,) = [s for s in store.runs.steps(run_id) if s.node_id == "m"]
    assert (mapped.input_tokens, mapped.output_tokens) == spent


def test_a_live_wait_is_on_disk_at_once_and_survives_the_process(tmp_path: Path) -> None:
    """A run waiting in a live process (not suspended) that dies stays decidable after a restart."""
    calls: Calls = []
    store = open_store(tmp_path / "lib.db")
    service = _service(store, calls)
    wf = _approval_workflow()
    store.workflows.save(wf)

    async def start_and_abandon() -> str:
        started = service.start(wf)  # waits for a person, as the app does
        while started.handle.waiting_for != ["ok"]:
            await asyncio.sleep(0.01)
        seen = open_store(tmp_path / "lib.db", recover=False)  # another process looks at the library now
        assert seen.runs.get(started.run_id).status == "waiting"
        assert seen.runs.node_results(started.run_id)[0]["ok"] == "waiting"
        seen.close()
        started.handle.cancel()  # stands in for the process dying: nothing more is written below
        return started.run_id

    run_id = _run(start_and_abandon())
    assert store.runs.get(run_id).status == "cancelled"
    store.close()


def test_a_rerun_asks_again_for_approvals_it_redoes(store: Store) -> None:
    calls: Calls = []
    service = _service(store, calls)
    run_id, result = _run(_start(service, _approval_workflow(), decisions={"ok": (True, "yes")}))
    assert result.status == "succeeded"

    async def rerun(from_node: str) -> Any:
        started = service.rerun(run_id, from_node, suspend_on_wait=True)
        return await started.handle.wait()

    assert _run(rerun("a")).status == "waiting"  # 'ok' is downstream of 'a': decided afresh
    assert _run(rerun("done")).status == "succeeded"  # 'ok' is reused as it was


def test_sub_workflows_named_by_file_resolve_to_the_imported_workflow(store: Store) -> None:
    from flowdesk.store.running import LibraryWorkflowResolver

    inner = workflow([node("x", "t.noop")]).model_copy(update={"id": "summarise_document", "name": "inner"})
    store.workflows.save(inner)
    resolver = LibraryWorkflowResolver(store)
    assert resolver.resolve("summarise_document.json").id == "summarise_document"
    assert resolver.resolve("summarise_document").id == "summarise_document"


def test_a_run_id_prefix_names_top_level_runs_only(store: Store) -> None:
    conn = store.db.raw()
    conn.execute("INSERT INTO run (id, status, created_at) VALUES ('abcd1234', 'succeeded', 1)")
    conn.execute(
        "INSERT INTO run (id, status, created_at, kind, parent_run_id) VALUES ('abcd1234.m.0.1.item_1', 'succeeded', 1, 'child', 'abcd1234')"
    )
    assert store.runs.get("abcd").id == "abcd1234"

"""Workflows and helpers the service's tests and benchmark share."""

from __future__ import annotations

import time
from typing import Any

import httpx

from flowdesk.model.workflow import RunInput, Workflow
from support.wfbuild import node, workflow

FINAL = ("succeeded", "failed", "cancelled", "waiting", "interrupted")


def slow_chain(seconds: float = 0.05, wf_id: str = "wf_slow", name: str = "slow chain") -> Workflow:
    """start -> first (delay) -> second (delay) -> out: output 'result' is the input 'text'."""
    wf = workflow(
        [node("start", "start"), node("first", "delay", seconds=seconds), node("second", "delay", seconds=seconds),
         node("out", "output", name="result")],
        ["start.inputs -> first.value", "first.value -> second.value", "second.value -> out.value"],
        inputs=[RunInput(name="text", type="string", required=True)],
    )  # fmt: skip
    return wf.model_copy(update={"id": wf_id, "name": name})


def approval_flow() -> Workflow:
    wf = workflow(
        [node("start", "start"), node("ok", "approval", message="go on?"), node("out", "output", name="result")],
        ["start.inputs -> ok.value", "ok.approved -> out.value"],
        inputs=[RunInput(name="text", type="string", required=True)],
    )
    return wf.model_copy(update={"id": "wf_approve", "name": "needs approval"})


def wait_for_run(
    api: httpx.Client, run_id: str, statuses: tuple[str, ...] = FINAL, timeout: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/api/runs/{run_id}").json()
        if body["status"] in statuses:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {body['status']} after {timeout} s")
        time.sleep(0.02)


def item_loop(items: int, *, seconds: float = 0.0, concurrency: int = 8, wf_id: str = "wf_items") -> Workflow:
    """A for_each over ``items`` numbers (a delay of ``seconds`` each, ``concurrency`` at a time): a run of many
    events in many journal batches."""
    nodes = [
        node("xs", "transform", expression=f"range({items}) | list"),
        node("fe", "for_each", concurrency=concurrency, max_items=items),
        node("wait", "delay", seconds=seconds),
        node("c", "collect"),
        node("out", "output", name="out"),
    ]
    edges = ["xs.output -> fe.items", "fe.item -> wait.value", "wait.value -> c.value", "c.results -> out.value"]
    return workflow(nodes, edges).model_copy(update={"id": wf_id, "name": f"{items} items"})

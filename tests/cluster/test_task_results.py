"""What a child's task hands back to Dask: its outcome as bytes, so the worker's memory accounting
(``dask.sizeof``, run on the worker's event loop for every result it keeps) reads a length instead of
walking the child's events; that walk was 0.17 ms per map item, thirty times pickling them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from dask.sizeof import sizeof

import flowdesk
from flowdesk.cluster.payload import PayloadMaker, SealedKeys, unpacked
from flowdesk.cluster.worker_task import run_child_task
from flowdesk.engine.remote import ChildJob
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import LLMSettings
from tests.support.wfbuild import node, workflow


def _chain(steps: int) -> Any:
    nodes = [node(f"s{i}", "transform", expression=f"run.inputs.item + {i}") for i in range(steps)]
    return workflow([*nodes, node("o", "output", name="value")], [f"s{steps - 1}.output -> o.value"],
                    inputs=[{"name": "item", "type": "any"}])  # type: ignore[list-item]  # fmt: skip


def _outcome(steps: int) -> bytes:
    maker = PayloadMaker(Credentials(LLMSettings(), keys=SealedKeys(), environ={}), 16, flowdesk.__version__)  # type: ignore[arg-type]
    job = ChildJob("r.each.0.1.item_0", "r", "each", 1, _chain(steps), {"item": 1})
    return asyncio.run(run_child_task(maker.payload(job)))


def test_a_childs_outcome_comes_back_whole_from_the_bytes_its_task_returns() -> None:
    outcome = unpacked(_outcome(3))
    assert outcome["status"] == "succeeded" and outcome["outputs"] == {"value": 3}
    types = [event["type"] for event in outcome["events"]]
    assert types[0] == "run_started" and types[-1] == "run_finished" and types.count("node_succeeded") == 4


def test_the_workers_accounting_of_a_result_costs_the_same_for_few_or_many_events() -> None:
    small, large = _outcome(2), _outcome(200)
    assert sizeof(small) == len(small) and sizeof(large) == len(large)  # measured as what it is
    assert len(unpacked(large)["events"]) > 20 * len(unpacked(small)["events"])

    def cost(result: bytes) -> float:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(200):
                sizeof(result)
            best = min(best, time.perf_counter() - started)
        return best

    assert cost(large) < 3 * cost(small)  # flat in the number of events (a walk would be ~100x)

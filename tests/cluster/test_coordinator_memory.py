"""The coordinator's memory stays flat in the number of items and runs it sends to a cluster.

In the app and the service one cluster connection serves every run for as long as they are open:
whatever it keeps per run's workflow must be bounded, or memory grows with every run sent."""

from __future__ import annotations

import gc
from typing import Any

import flowdesk
from flowdesk.cluster.payload import PayloadMaker, SealedKeys
from flowdesk.engine.remote import ChildJob
from flowdesk.model.workflow import Workflow
from flowdesk.providers.credentials import Credentials
from flowdesk.providers.settings import LLMSettings
from tests.support.wfbuild import node, workflow


def _child(tag: int) -> Any:
    return workflow(
        [node("item", "transform", expression=f"run.inputs.item + {tag}"), node("o", "output", name="value")],
        ["item.output -> o.value"],
        inputs=[{"name": "item", "type": "any"}],  # type: ignore[list-item]
    )


def _live_workflows_after(runs: int) -> int:
    """Workflows still alive after a connection sent ``runs`` runs' children (each run resolves its own)."""
    maker = PayloadMaker(Credentials(LLMSettings(), keys=SealedKeys(), environ={}), 16, flowdesk.__version__)  # type: ignore[arg-type]
    for run in range(runs):
        child = _child(run)
        for item in range(3):  # a map: the same child workflow per item
            maker.payload(ChildJob(f"r{run}.each.{item}.1.item_{item}", f"r{run}", "each", 1, child, {"item": item}))
        del child
    gc.collect()
    live = sum(1 for obj in gc.get_objects() if isinstance(obj, Workflow))
    del maker
    return live


def test_a_connection_keeps_as_many_workflows_after_400_runs_as_after_200() -> None:
    before = sum(1 for obj in gc.get_objects() if isinstance(obj, Workflow))
    after_200 = _live_workflows_after(200) - before
    after_400 = _live_workflows_after(400) - before
    assert after_400 == after_200 < 200  # bounded, not one per run

"""Fixtures of the trigger tests: a library with an active workflow that declares inputs, and two submits
(one records calls, one really runs the workflow through the store's RunService, as `flowdesk run` does)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.wfbuild import edge, node

from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import RunInput, Workflow
from flowdesk.nodes.registry import default_registry
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store


def echo_workflow(workflow_id: str = "wf_echo", name: str = "Echo") -> Workflow:
    """text (required string) and count (integer, default 1) in; the text out."""
    return Workflow(
        id=workflow_id,
        name=name,
        nodes=(
            node("start", "start"),
            node("t", "transform", expression="inputs.input.text"),
            node("out", "output", name="text"),
        ),
        edges=(edge("start.inputs -> t.input"), edge("t.output -> out.value")),
        inputs=(
            RunInput(name="text", type="string", required=True),
            RunInput(name="count", type="integer", required=False, default=1),
        ),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "library.db")
    yield opened
    opened.close()


@pytest.fixture
def echo(store: Store) -> str:
    """The echo workflow, saved and active; its id."""
    saved = store.workflows.save(echo_workflow())
    store.workflows.set_status(saved.workflow_id, "active")
    return saved.workflow_id


@dataclass
class RecordingSubmit:
    """A submit that records each call and keeps idempotency keys as the service does."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)

    async def __call__(
        self, workflow_id: str, inputs: dict[str, Any], *, version: int | None = None,
        idempotency_key: str | None = None, trigger: str | None = None,
    ) -> str:  # fmt: skip
        if idempotency_key and idempotency_key in self.keys:
            return self.keys[idempotency_key]
        run_id = f"run_{len(self.calls) + 1}"
        self.calls.append(
            {
                "workflow_id": workflow_id,
                "inputs": inputs,
                "version": version,
                "key": idempotency_key,
                "trigger": trigger,
            }
        )
        if idempotency_key:
            self.keys[idempotency_key] = run_id
        return run_id


@pytest.fixture
def recording() -> RecordingSubmit:
    return RecordingSubmit()


class EngineSubmit:
    """A submit that runs the library workflow for real (RunService, recorded in the library) and waits."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.service = RunService(store, default_registry(), EngineServices())

    async def __call__(
        self, workflow_id: str, inputs: dict[str, Any], *, version: int | None = None,
        idempotency_key: str | None = None, trigger: str | None = None,
    ) -> str:  # fmt: skip
        workflow = self.store.workflows.load(workflow_id, version)
        started = self.service.start(workflow, inputs, workflow_version=version, idempotency_key=idempotency_key)
        if started.handle is not None:
            await started.handle.wait()
        return started.run_id

"""A server's Retry-After has a ceiling: the retry policy's max_delay_s, the node's timeout_s and the
run's time limit. Past it the node fails at once with a sentence instead of waiting an hour."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from support.wfbuild import node, workflow

from flowdesk.engine.clock import FakeClock
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.nodes.kinds import BUILTIN_KINDS
from flowdesk.nodes.llm_contract import LLMError
from flowdesk.nodes.registry import Registry


class _LimitedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retry_after: float = 1.0
    fail_times: int = 1


def _catalog(calls: list[int]) -> Registry:
    async def limited(ctx: Any, inputs: dict[str, Any], config: _LimitedConfig) -> dict[str, Any]:
        calls.append(ctx.attempt)
        if ctx.attempt <= config.fail_times:
            raise LLMError("rate limited (HTTP 429)", "rate_limit", retry_after_s=config.retry_after)
        return {"output": "ok"}

    spec = KindSpec(
        name="t.limited", display_name="limited", category="Test", description="limited",
        config_model=_LimitedConfig, ports=NodePorts((PortSpec("input"),), (PortSpec("output"),)), run=limited,
    )  # fmt: skip
    return Registry([*BUILTIN_KINDS, spec])


RETRY = {"max_attempts": 3, "initial_delay_s": 0.5, "max_delay_s": 60, "jitter": 0, "retry_on": ["rate_limit"]}


def _run(retry_after: float, *, timeout_s: float | None = None, run_timeout_s: float | None = None) -> Any:
    calls: list[int] = []
    options: dict[str, Any] = {"retry": RETRY}
    if timeout_s is not None:
        options["timeout_s"] = timeout_s
    wf = workflow([node("n", "t.limited", retry_after=retry_after, **options)], run_timeout_s=run_timeout_s)
    clock = FakeClock()
    result = asyncio.run(run_workflow(wf, _catalog(calls), EngineServices(clock=clock)))
    return result, calls, clock.sleeps


def test_a_retry_after_within_the_cap_is_waited() -> None:
    result, calls, sleeps = _run(7)
    assert result.ok and calls == [1, 2] and sleeps == [7]


@pytest.mark.parametrize(
    ("options", "limit"),
    [
        ({}, "the retry policy's max_delay_s (60 s)"),
        ({"timeout_s": 30}, "the node's timeout_s (30 s)"),
        ({"run_timeout_s": 20}, "the run's time limit (20 s)"),
    ],
)
def test_a_retry_after_past_a_limit_fails_at_once_naming_it(options: dict[str, Any], limit: str) -> None:
    result, calls, sleeps = _run(3600, **options)
    assert result.status == "failed" and calls == [1] and sleeps == []
    assert result.error.message.endswith(
        f"rate limited (HTTP 429); the server asked to wait 3600 s before trying again (Retry-After), longer than "
        f"{limit}, so the node does not retry"
    )

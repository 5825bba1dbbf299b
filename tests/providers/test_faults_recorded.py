"""Each fault of a real provider, run through the engine and the recorder: a retry that succeeds or a
clear recorded failure, every attempt a step with its error and usage, nothing hanging past the timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import keyring
import pytest
from support.fake_llm_server import FakeLLMServer, cut, hang, huge, malformed, ok, slow_first_byte, status
from support.wfbuild import node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import builtin_registry
from flowdesk.providers.settings import CredentialInfo, LLMSettings
from flowdesk.providers.setup import llm_services
from flowdesk.store.store import Store, open_store

KEY = "sk-fault-test-key-42"
RETRY = {"max_attempts": 3, "initial_delay_s": 0.0, "jitter": 0.0}


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


def run_llm_node(
    store: Store, server: FakeLLMServer, provider: str = "openai", retry: dict[str, Any] | None = None, **options: Any
) -> tuple[Any, list[Any]]:
    from flowdesk.store.running import RunService

    base = server.url + ("/v1" if provider == "openai" else "")
    settings = LLMSettings(credentials=(CredentialInfo(name="fake", provider=provider, base_url=base),))
    keyring.set_password("flowdesk", "fake", KEY)
    model = "gpt-4o-mini" if provider == "openai" else "claude-3-5-haiku"
    wf = workflow(
        [
            node(
                "ask",
                "llm",
                model=f"{provider}:{model}",
                prompt="Why test?",
                credential="fake",
                retry=retry or RETRY,
                **options,
            )
        ]
    )

    async def go() -> Any:
        llm = llm_services(settings)
        try:
            service = RunService(store, builtin_registry(), EngineServices(providers=llm.providers))
            store.workflows.save(wf)
            started = service.start(wf)
            return started.run_id, await asyncio.wait_for(started.handle.wait(), 60)  # a hang guard only
        finally:
            await llm.aclose()

    run_id, result = asyncio.run(go())
    return result, store.runs.steps(run_id)


def statuses(steps: list[Any]) -> list[tuple[int, str, str | None]]:
    return [(s.attempt, s.status, s.error["error_class"] if s.error else None) for s in steps]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_429_waits_as_asked_then_succeeds(store: Store, fake_llm: FakeLLMServer, provider: str) -> None:
    fake_llm.script(status(429, '{"error": {"message": "slow down"}}', {"retry-after": "0.2"}), ok())
    result, steps = run_llm_node(store, fake_llm, provider)
    assert result.status == "succeeded" and result.outputs == {} and len(fake_llm.requests) == 2
    assert statuses(steps) == [(1, "failed", "rate_limit"), (2, "succeeded", None)]
    assert "slow down" in steps[0].error["message"]


def test_500_then_success_records_both_attempts_and_the_tokens(store: Store, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(status(500, "boom"), ok(usage=(1000, 2000)))
    result, steps = run_llm_node(store, fake_llm)
    assert result.status == "succeeded"
    assert statuses(steps) == [(1, "failed", "server"), (2, "succeeded", None)]
    assert (steps[1].input_tokens, steps[1].output_tokens) == (1000, 2000)
    assert steps[1].cost_usd == pytest.approx(0.00135)
    assert result.usage.cost_usd == pytest.approx(0.00135)


def test_401_fails_at_once_with_a_clear_message(store: Store, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(status(401, f'{{"error": {{"message": "bad key {KEY}"}}}}'))
    result, steps = run_llm_node(store, fake_llm)
    assert result.status == "failed" and len(fake_llm.requests) == 1
    assert statuses(steps) == [(1, "failed", "node")]
    message = steps[0].error["message"]
    assert "HTTP 401" in message and "credential 'fake'" in message and KEY not in message


def test_a_cut_stream_is_retried_and_its_partial_usage_is_kept(store: Store, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(cut(after=2), ok())
    result, steps = run_llm_node(store, fake_llm)
    assert result.status == "succeeded"
    assert statuses(steps) == [(1, "failed", "network"), (2, "succeeded", None)]
    assert steps[0].output_tokens > 0 and steps[0].cost_usd > 0


def test_malformed_json_is_retried(store: Store, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(malformed(), ok())
    result, steps = run_llm_node(store, fake_llm)
    assert result.status == "succeeded"
    assert statuses(steps) == [(1, "failed", "server"), (2, "succeeded", None)]


def test_malformed_json_with_no_retries_left_is_a_recorded_failure(store: Store, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(malformed())
    result, steps = run_llm_node(store, fake_llm, retry={"max_attempts": 1})
    assert result.status == "failed" and "malformed stream event" in result.error.message
    assert statuses(steps) == [(1, "failed", "server")]


def test_a_50_mb_reply_is_refused_and_not_retried(store: Store, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(huge(50 * 1024 * 1024))
    result, steps = run_llm_node(store, fake_llm)
    assert result.status == "failed" and "passed 16 MB" in result.error.message
    assert statuses(steps) == [(1, "failed", "invalid_output")]


def test_a_server_that_never_answers_is_ended_by_the_node_timeout(store: Store, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(hang(), hang())
    result, steps = run_llm_node(store, fake_llm, retry={"max_attempts": 2, "initial_delay_s": 0.0}, timeout_s=0.5)
    assert result.status == "failed" and "timed out after 0.5 s" in result.error.message
    assert statuses(steps) == [(1, "failed", "timeout"), (2, "failed", "timeout")]


def test_a_slow_first_byte_past_the_node_timeout_is_retried(store: Store, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(slow_first_byte(3.0), ok())
    result, steps = run_llm_node(store, fake_llm, timeout_s=0.5)
    assert result.status == "succeeded"
    assert statuses(steps) == [(1, "failed", "timeout"), (2, "succeeded", None)]


def test_a_missing_key_fails_the_node_naming_both_ways_to_give_one(store: Store, fake_llm: FakeLLMServer) -> None:
    keyring.get_keyring().entries.clear()
    from flowdesk.store.running import RunService

    settings = LLMSettings(credentials=(CredentialInfo(name="fake", provider="openai", base_url=fake_llm.url),))
    wf = workflow([node("ask", "llm", model="openai:m", prompt="hi", credential="fake")])

    async def go() -> Any:
        llm = llm_services(settings)
        try:
            store.workflows.save(wf)
            started = RunService(store, builtin_registry(), EngineServices(providers=llm.providers)).start(wf)
            return await started.handle.wait()
        finally:
            await llm.aclose()

    result = asyncio.run(go())
    assert result.status == "failed" and not fake_llm.requests
    assert "credential 'fake' has no key" in result.error.message
    assert (
        "flowdesk credentials add fake" in result.error.message and "FLOWDESK_CREDENTIAL_FAKE" in result.error.message
    )

"""Reasoning models with the node's defaults (17.1) and what a reply ended with (17.2), over real HTTP
against the loopback fake, which refuses temperature, stop and max_tokens for reasoning models as OpenAI does."""

from __future__ import annotations

import asyncio
from typing import Any

import keyring
import pytest
from support.fake_llm_server import FakeLLMServer, ok, tool_call_only
from support.wfbuild import node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import NodeLog
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.llm_contract import cost_text
from flowdesk.nodes.registry import builtin_registry
from flowdesk.providers.settings import CredentialInfo, LLMSettings
from flowdesk.providers.setup import check_connection, llm_services

SCHEMA = {"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}
RETRY_ALL = {"max_attempts": 3, "initial_delay_s": 0.0, "retry_on": ["invalid_output", "server"]}


def run_node(server: FakeLLMServer, provider: str = "openai", **config: Any) -> tuple[Any, list[NodeLog]]:
    base = server.url + ("/v1" if provider == "openai" else "")
    settings = LLMSettings(credentials=(CredentialInfo(name="fake", provider=provider, base_url=base),))
    keyring.set_password("flowdesk", "fake", "sk-test-key-0123456789")
    fields = {"model": "openai:gpt-4o-mini", "prompt": "Why test?", "credential": "fake"} | config
    wf = workflow([node("ask", "llm", **fields)])

    async def go() -> Any:
        llm = llm_services(settings)
        bus = EventBus()
        sub = bus.subscribe()
        try:
            services = EngineServices(providers=llm.providers, secrets=llm.credentials)
            result = await run_workflow(wf, builtin_registry(), services, bus=bus)
            return result, [e for e in sub.drain() if isinstance(e, NodeLog)]
        finally:
            await llm.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("model", ["o3", "o4-mini", "gpt-5-mini", "openai/gpt-5"])
def test_a_reasoning_model_runs_with_the_node_defaults_on_any_server(fake_llm: FakeLLMServer, model: str) -> None:
    result, _ = run_node(fake_llm, model=f"openai:{model}")
    assert result.status == "succeeded", result.error
    body = fake_llm.requests[-1].body
    assert "temperature" not in body and "max_tokens" not in body
    assert body["max_completion_tokens"] == 1024


def test_reasoning_effort_is_sent_and_stop_is_left_out_with_a_warning(fake_llm: FakeLLMServer) -> None:
    result, logs = run_node(fake_llm, model="openai:o4-mini", reasoning_effort="high", stop=["END"])
    assert result.status == "succeeded", result.error
    body = fake_llm.requests[-1].body
    assert body["reasoning_effort"] == "high" and "stop" not in body
    assert any(log.level == "warning" and "takes no stop sequences" in log.message for log in logs)
    # a plain model behind the same server keeps its temperature, stop and max_tokens; the effort is not sent
    result, logs = run_node(fake_llm, model="openai:llama3.2", temperature=0.2, stop=["END"], reasoning_effort="high")
    assert result.status == "succeeded"
    body = fake_llm.requests[-1].body
    assert (body["temperature"], body["max_tokens"], body["stop"]) == (0.2, 1024, ["END"])
    assert "reasoning_effort" not in body
    assert any("llama3.2 is not a reasoning model; reasoning_effort was not sent" in log.message for log in logs)


def test_the_connection_test_works_for_a_reasoning_model(fake_llm: FakeLLMServer) -> None:
    settings = LLMSettings(credentials=(CredentialInfo(name="fake", provider="openai", base_url=fake_llm.url + "/v1"),))
    keyring.set_password("flowdesk", "fake", "sk-test")

    async def go() -> Any:
        services = llm_services(settings, shared_client=False)
        return await check_connection(services, services.credentials.resolve("fake", "openai"), "gpt-5")

    result = asyncio.run(go())
    assert result.text and "temperature" not in fake_llm.requests[-1].body


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_cut_reply_is_a_warning_and_shows_its_finish_reason(fake_llm: FakeLLMServer, provider: str) -> None:
    fake_llm.script(ok("half a sent", finish="length"))
    model = "openai:gpt-4o-mini" if provider == "openai" else "anthropic:claude-3-5-haiku"
    result, logs = run_node(fake_llm, provider, model=model, max_tokens=3)
    assert result.status == "succeeded" and result.node_outputs["ask"]["text"] == "half a sent"
    messages = [(log.level, log.message) for log in logs]
    assert ("warning", "the reply was cut at max_tokens (3); raise max_tokens to get all of it") in messages
    assert any(m.startswith("finished: length; 11 in + 7 out tokens, reported") for _, m in messages)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_cut_json_reply_fails_as_truncated_at_once(fake_llm: FakeLLMServer, provider: str) -> None:
    fake_llm.script(*[ok('{"score": ', finish="length")] * 9)
    model = "openai:gpt-4o-mini" if provider == "openai" else "anthropic:claude-3-5-haiku"
    result, _ = run_node(fake_llm, provider, model=model, output_schema=SCHEMA, retry=RETRY_ALL)
    assert result.status == "failed" and result.error.error_class == "truncated"
    assert "cut at max_tokens (1024) before its JSON was complete" in result.error.message
    assert len(fake_llm.requests) == 1  # not asked again, not retried: it would be cut the same way


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_tool_call_only_reply_does_not_succeed_with_empty_text(fake_llm: FakeLLMServer, provider: str) -> None:
    fake_llm.script(tool_call_only())
    model = "openai:gpt-4o-mini" if provider == "openai" else "anthropic:claude-3-5-haiku"
    result, _ = run_node(fake_llm, provider, model=model)
    assert result.status == "failed" and result.error.error_class == "invalid_output"
    assert "no text (it asked for a tool call instead; finish reason: tool_calls)" in result.error.message


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_cached_and_reasoning_tokens_are_shown_and_priced(fake_llm: FakeLLMServer, provider: str) -> None:
    fake_llm.script(ok(usage=(1000, 2000), details=(800, 1500 if provider == "openai" else 0)))
    model = "openai:gpt-4o-mini" if provider == "openai" else "anthropic:claude-3-5-haiku"
    result, logs = run_node(fake_llm, provider, model=model)
    assert result.status == "succeeded"
    finished = next(log.message for log in logs if log.message.startswith("finished:"))
    if provider == "openai":  # 200 fresh at $0.15, 800 cached at $0.075, 2,000 out at $0.60 per million
        assert result.usage.cost_usd == pytest.approx(0.00129)
        assert "1,000 in (800 cached) + 2,000 out (1,500 reasoning) tokens, reported; $0.0013" in finished
    else:  # 200 fresh at $0.80, 800 cache reads at $0.08, 2,000 out at $4.00
        assert result.usage.cost_usd == pytest.approx(0.008224)
        assert "1,000 in (800 cached) + 2,000 out tokens, reported" in finished


def test_counts_a_server_did_not_report_are_marked_estimated(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(ok("one two three", usage=None))
    _, logs = run_node(fake_llm)
    assert any("tokens, estimated" in log.message for log in logs)


def test_a_small_cost_is_not_shown_as_zero() -> None:
    assert cost_text(0.0000123) == "$0.000012"
    assert (cost_text(0.00135), cost_text(0), cost_text(12.5)) == ("$0.0014", "$0", "$12.50")


def test_reasoning_effort_is_a_thinking_budget_for_claude_models_that_think(fake_llm: FakeLLMServer) -> None:
    result, _ = run_node(
        fake_llm, "anthropic", model="anthropic:claude-sonnet-4-5", reasoning_effort="medium", max_tokens=16000
    )
    assert result.status == "succeeded"
    body = fake_llm.requests[-1].body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8192} and "temperature" not in body
    result, logs = run_node(fake_llm, "anthropic", model="anthropic:claude-3-5-haiku", reasoning_effort="high")
    body = fake_llm.requests[-1].body
    assert "thinking" not in body and body["temperature"] == 0.7
    assert any("claude-3-5-haiku has no extended thinking" in log.message for log in logs)

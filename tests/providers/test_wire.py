"""Both real providers against the loopback fake: what goes over the wire, what comes back, every failure."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from support.fake_llm_server import FakeLLMServer, cut, huge, malformed, ok, slow_first_byte, status

from flowdesk.nodes.llm_contract import LLMError, LLMRequest, LLMResult
from flowdesk.providers.anthropic import AnthropicProvider
from flowdesk.providers.credentials import ResolvedCredential
from flowdesk.providers.http_llm import LLMHttp
from flowdesk.providers.openai import OpenAICompatibleProvider
from flowdesk.providers.prices import PriceTable

KEY = "sk-test-very-secret-0123456789"
PROVIDERS = ["openai", "anthropic"]


def provider(kind: str, server: FakeLLMServer, http: LLMHttp | None = None, key: str = KEY) -> Any:
    base = server.url + ("/v1" if kind == "openai" else "")
    credential = ResolvedCredential(f"my-{kind}", kind, base, key)
    cls = OpenAICompatibleProvider if kind == "openai" else AnthropicProvider
    return cls(credential, PriceTable.shipped(), http or LLMHttp())


def call(kind: str, server: FakeLLMServer, http: LLMHttp | None = None, **request: Any) -> tuple[LLMResult, list[str]]:
    deltas: list[str] = []
    fields = {"model": "gpt-4o-mini" if kind == "openai" else "claude-3-5-haiku-20241022", "prompt": "Why test?"}
    result = asyncio.run(provider(kind, server, http).complete(LLMRequest(**(fields | request)), deltas.append))
    return result, deltas


def failure(kind: str, server: FakeLLMServer, http: LLMHttp | None = None) -> LLMError:
    with pytest.raises(LLMError) as info:
        call(kind, server, http)
    assert KEY not in str(info.value)
    return info.value


@pytest.mark.parametrize("kind", PROVIDERS)
def test_a_reply_streams_in_pieces_with_the_servers_usage_and_its_cost(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(ok("Tests make change safe.", usage=(1000, 2000)))
    result, deltas = call(kind, fake_llm)
    assert result.text == "Tests make change safe." and result.finish_reason == "stop"
    assert deltas == ["Tests ", "make ", "change ", "safe."]
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1000, 2000)
    # gpt-4o-mini: $0.15 in / $0.60 out per million; claude-3-5-haiku: $0.80 / $4.00
    expected = 0.00135 if kind == "openai" else 0.0088
    assert result.usage.cost_usd == pytest.approx(expected)


@pytest.mark.parametrize("kind", PROVIDERS)
def test_a_server_without_usage_gets_the_estimate(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(ok("one two three", usage=None))
    result, _ = call(kind, fake_llm)
    assert result.usage.input_tokens > 0 and result.usage.output_tokens == 3


def test_openai_request_carries_the_node_settings(fake_llm: FakeLLMServer) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    call("openai", fake_llm, system="Be brief.", temperature=0.2, max_tokens=50, stop=("END",), output_schema=schema)
    sent = fake_llm.requests[-1]
    assert sent.path == "/v1/chat/completions" and sent.headers["authorization"] == f"Bearer {KEY}"
    body = sent.body
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why test?"}]
    assert (body["temperature"], body["max_tokens"], body["stop"], body["stream"]) == (0.2, 50, ["END"], True)
    assert body["stream_options"] == {"include_usage": True}
    assert body["response_format"]["json_schema"]["schema"] == schema


def test_anthropic_request_carries_the_node_settings(fake_llm: FakeLLMServer) -> None:
    schema = {"type": "object", "required": ["a"]}
    call("anthropic", fake_llm, system="Be brief.", temperature=0.2, max_tokens=50, stop=("END",), output_schema=schema)
    sent = fake_llm.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == KEY and sent.headers["anthropic-version"] == "2023-06-01"
    body = sent.body
    assert body["messages"] == [{"role": "user", "content": "Why test?"}]
    assert (body["temperature"], body["max_tokens"], body["stop_sequences"]) == (0.2, 50, ["END"])
    assert body["system"].startswith("Be brief.") and '"required": ["a"]' in body["system"]


def test_a_keyless_local_server_gets_no_authorization_header(fake_llm: FakeLLMServer) -> None:
    credential = ResolvedCredential("ollama", "openai", fake_llm.url + "/v1", "")
    made = OpenAICompatibleProvider(credential, PriceTable.shipped(), LLMHttp())
    asyncio.run(made.complete(LLMRequest(model="llama3.2", prompt="hi"), lambda _d: None))
    assert "authorization" not in fake_llm.requests[-1].headers


@pytest.mark.parametrize("kind", PROVIDERS)
def test_429_is_a_rate_limit_with_the_servers_retry_after(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(status(429, '{"error": {"message": "slow down"}}', {"retry-after": "7"}))
    error = failure(kind, fake_llm)
    assert (error.error_class, error.retry_after_s) == ("rate_limit", 7.0)
    assert "slow down" in str(error) and "HTTP 429" in str(error) and fake_llm.url in str(error)


@pytest.mark.parametrize("kind", PROVIDERS)
def test_5xx_is_a_server_error(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(status(503, "upstream exploded"))
    error = failure(kind, fake_llm)
    assert error.error_class == "server" and "HTTP 503" in str(error) and "upstream exploded" in str(error)


@pytest.mark.parametrize("kind", PROVIDERS)
def test_401_is_not_retried_names_the_credential_and_never_shows_the_key(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(status(401, f'{{"error": {{"message": "Incorrect API key provided: {KEY}"}}}}'))
    error = failure(kind, fake_llm)
    assert error.error_class == "node"
    assert f"credential 'my-{kind}'" in str(error) and "[key removed]" in str(error)


@pytest.mark.parametrize("code", [400, 404])
def test_other_4xx_are_request_errors(code: int, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(status(code, '{"error": {"message": "no such model"}}'))
    error = failure("openai", fake_llm)
    assert error.error_class == "node" and f"HTTP {code}" in str(error) and "no such model" in str(error)


@pytest.mark.parametrize("kind", PROVIDERS)
def test_a_stream_cut_mid_way_is_a_network_error_that_keeps_its_usage(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(cut(after=2))
    error = failure(kind, fake_llm)
    assert error.error_class == "network"
    assert error.usage is not None and error.usage.output_tokens > 0


@pytest.mark.parametrize("kind", PROVIDERS)
def test_malformed_json_in_a_stream_is_a_server_error(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(malformed())
    error = failure(kind, fake_llm)
    assert error.error_class == "server" and "malformed stream event" in str(error)


@pytest.mark.parametrize("kind", PROVIDERS)
def test_a_50_mb_reply_is_refused_at_the_cap(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(huge(50 * 1024 * 1024))
    error = failure(kind, fake_llm, LLMHttp(max_bytes=2 * 1024 * 1024))
    assert error.error_class == "invalid_output" and "passed 2 MB" in str(error)


def test_the_default_cap_is_far_below_50_mb() -> None:
    assert LLMHttp().max_bytes <= 16 * 1024 * 1024


@pytest.mark.parametrize("kind", PROVIDERS)
def test_a_slow_first_byte_past_the_read_timeout_is_a_timeout(kind: str, fake_llm: FakeLLMServer) -> None:
    fake_llm.script(slow_first_byte(2.0))
    error = failure(kind, fake_llm, LLMHttp(timeout=httpx.Timeout(5.0, read=0.2)))
    assert error.error_class == "timeout"


def test_a_slow_first_byte_within_the_read_timeout_is_fine(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(slow_first_byte(0.3))
    result, _ = call("openai", fake_llm, LLMHttp(timeout=httpx.Timeout(5.0, read=5.0)))
    assert result.text == "Tests make change safe."


def test_a_server_that_is_not_there_is_a_network_error() -> None:
    credential = ResolvedCredential("gone", "openai", "http://127.0.0.1:9/v1", KEY)
    made = OpenAICompatibleProvider(credential, PriceTable.shipped(), LLMHttp())
    with pytest.raises(LLMError) as info:
        asyncio.run(made.complete(LLMRequest(model="m", prompt="hi"), lambda _d: None))
    assert info.value.error_class == "network" and "127.0.0.1:9" in str(info.value)


def test_a_shared_client_serves_several_calls(fake_llm: FakeLLMServer) -> None:
    async def twice() -> list[str]:
        http = LLMHttp(httpx.AsyncClient())
        try:
            made = provider("openai", fake_llm, http)
            first = await made.complete(LLMRequest(model="m", prompt="a"), lambda _d: None)
            second = await made.complete(LLMRequest(model="m", prompt="b"), lambda _d: None)
            return [first.text, second.text]
        finally:
            await http.aclose()

    assert asyncio.run(twice()) == ["Tests make change safe."] * 2

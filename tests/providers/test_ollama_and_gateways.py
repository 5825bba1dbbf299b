"""The native Ollama provider over its NDJSON protocol (17.3) and gateway settings per credential (17.5),
against the loopback fake server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from support.fake_llm_server import FakeLLMServer, cut, malformed, ok
from test_model_rules_and_finish import run_node

from flowdesk.nodes.llm_contract import LLMError, LLMRequest
from flowdesk.providers.settings import CredentialInfo, LLMSettings
from flowdesk.providers.setup import list_models, llm_services

KEY = "sk-gateway-0123456789abcdef"


def settings_with(**fields: Any) -> LLMSettings:
    return LLMSettings(credentials=(CredentialInfo(name="fake", **fields),))


def call(settings: LLMSettings, provider: str, model: str, **request: Any) -> tuple[Any, list[str]]:
    deltas: list[str] = []

    async def go() -> Any:
        services = llm_services(settings, environ={"FLOWDESK_CREDENTIAL_FAKE": KEY}, shared_client=False)
        credential = services.credentials.resolve("fake", provider)
        req = LLMRequest(model=model, prompt="Why test?", **request)
        return await services.provider_for(credential).complete(req, deltas.append)

    return asyncio.run(go()), deltas


def test_ollama_streams_ndjson_with_its_node_settings(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(ok("Tests make change safe.", usage=(40, 5)))
    result, logs = run_node(
        fake_llm, "ollama", model="ollama:qwen3", num_ctx=32768, keep_alive="10m", think="off", temperature=0.3
    )
    assert result.status == "succeeded", result.error
    assert result.node_outputs["ask"]["text"] == "Tests make change safe."
    request = fake_llm.requests[-1]
    assert request.path == "/api/chat" and "authorization" not in request.headers  # Ollama needs no key
    body = request.body
    assert body["model"] == "qwen3" and body["stream"] is True and body["keep_alive"] == "10m"
    assert body["think"] is False
    assert body["options"] == {"temperature": 0.3, "num_predict": 1024, "num_ctx": 32768}
    assert any("finished: stop; 40 in + 5 out tokens, reported" in log.message for log in logs)


def test_ollama_pieces_stream_as_they_come_and_a_schema_goes_as_format(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(ok('{"score": 4}'))
    settings = settings_with(provider="ollama", base_url=fake_llm.url)
    schema = {"type": "object"}
    result, deltas = call(settings, "ollama", "llama3.2", output_schema=schema)
    assert deltas == ['{"score": ', "4}"] and result.text == '{"score": 4}'
    assert fake_llm.requests[-1].body["format"] == schema


def test_ollama_defaults_leave_the_server_settings_alone(fake_llm: FakeLLMServer) -> None:
    result, _ = run_node(fake_llm, "ollama", model="ollama:llama3.2")
    assert result.status == "succeeded"
    body = fake_llm.requests[-1].body
    assert "keep_alive" not in body and "think" not in body and "num_ctx" not in body["options"]


def test_ollama_a_cut_stream_is_a_network_error_that_keeps_its_usage(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(cut(after=2))
    settings = settings_with(provider="ollama", base_url=fake_llm.url)
    with pytest.raises(LLMError) as info:
        call(settings, "ollama", "llama3.2")
    assert info.value.error_class == "network" and "connection failed" in str(info.value)
    assert info.value.usage is not None and info.value.usage.estimated


def test_ollama_malformed_lines_are_the_servers_fault(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(malformed())
    with pytest.raises(LLMError) as info:
        call(settings_with(provider="ollama", base_url=fake_llm.url), "ollama", "llama3.2")
    assert info.value.error_class == "server" and "malformed stream line" in str(info.value)


@pytest.mark.parametrize(
    ("provider", "base", "path"),
    [("ollama", "", "/api/tags"), ("openai", "/v1", "/v1/models"), ("anthropic", "", "/v1/models")],
)
def test_each_provider_lists_its_models(fake_llm: FakeLLMServer, provider: str, base: str, path: str) -> None:
    fake_llm.models = ["zeta", "alpha"]
    settings = settings_with(provider=provider, base_url=fake_llm.url + base)

    async def go() -> list[str]:
        services = llm_services(settings, environ={"FLOWDESK_CREDENTIAL_FAKE": KEY}, shared_client=False)
        return await list_models(services, services.credentials.resolve("fake", provider))

    assert asyncio.run(go()) == ["alpha", "zeta"]
    assert fake_llm.requests[-1].method == "GET" and fake_llm.requests[-1].path == path


def test_gateway_headers_query_and_a_base_url_with_a_query(fake_llm: FakeLLMServer) -> None:
    settings = settings_with(
        provider="openai",
        base_url=fake_llm.url + "/v1?tenant=acme",
        headers={"X-Title": "flowdesk", "X-Gateway-Auth": "Key {key}"},
        query={"route": "fast"},
        stream_options=False,
    )
    result, _ = call(settings, "openai", "gpt-4o-mini")
    assert result.text == "Tests make change safe."
    request = fake_llm.requests[-1]
    assert request.path == "/v1/chat/completions?tenant=acme&route=fast"
    assert request.headers["x-title"] == "flowdesk" and request.headers["x-gateway-auth"] == f"Key {KEY}"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "stream_options" not in request.body


def test_azure_deployments_take_api_key_and_api_version(fake_llm: FakeLLMServer) -> None:
    settings = settings_with(provider="azure", base_url=fake_llm.url, api_version="2025-01-01-preview")
    result, _ = call(settings, "azure", "my-gpt5", reasoning_effort="low")
    assert result.text
    request = fake_llm.requests[-1]
    assert request.path == "/openai/deployments/my-gpt5/chat/completions?api-version=2025-01-01-preview"
    assert request.headers["api-key"] == KEY and "authorization" not in request.headers


def test_a_header_that_breaks_http_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="header 'X-Bad' is not a valid HTTP header"):
        CredentialInfo(name="g", provider="openai", headers={"X-Bad": "a\r\nInjected: 1"})
    with pytest.raises(ValueError, match="unknown provider 'cohere'"):
        CredentialInfo(name="g", provider="cohere")
    assert json.loads(settings_with(provider="ollama").model_dump_json())["credentials"][0]["provider"] == "ollama"

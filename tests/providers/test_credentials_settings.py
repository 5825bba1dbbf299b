"""Settings file, named credentials (keyring first, environment second), prices and structured output."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import pytest
from support.fake_llm_server import FakeLLMServer, ok
from support.wfbuild import node, workflow

from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import builtin_registry
from flowdesk.providers.credentials import CredentialError, Credentials, KeyStore
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.resolver import default_providers
from flowdesk.providers.settings import (
    CredentialInfo,
    LLMSettings,
    PriceOverride,
    SettingsError,
    load_settings,
    save_settings,
    settings_path,
)
from flowdesk.providers.setup import llm_services


def test_settings_path_follows_flowdesk_config(private_settings: Path) -> None:
    assert settings_path() == private_settings
    assert load_settings() == LLMSettings()  # no file yet: the defaults


def test_settings_round_trip_without_any_key(private_settings: Path) -> None:
    settings = LLMSettings(
        default_model="openai:gpt-4o-mini",
        credentials=(CredentialInfo(name="ollama", provider="openai", base_url="http://localhost:11434/v1/"),),
        prices={"llama3.2": PriceOverride(input_per_mtok=0, output_per_mtok=0)},
    )
    save_settings(settings)
    loaded = load_settings()
    assert loaded == settings.model_copy(update={"credentials": (settings.credentials[0],)})
    assert loaded.credential("ollama").base_url == "http://localhost:11434/v1"  # trailing slash dropped
    saved = set(json.loads(private_settings.read_text()))
    assert saved == {"credentials", "default_model", "prices", "trace_otlp_url", "default_executor"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "settings.json:1:2: not valid JSON"),
        ('{"credentials": [{"name": "x", "provider": "cohere"}]}', "settings.json: credentials.0.provider:"),
        ('{"default_model": "gpt-4o"}', "settings.json: default_model:"),
        ('{"colour": "blue"}', "settings.json: colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_settings_file_gets_one_located_line(private_settings: Path, text: str, expected: str) -> None:
    private_settings.write_text(text)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value)


def _credentials(*infos: CredentialInfo, env: dict[str, str] | None = None) -> Credentials:
    return Credentials(LLMSettings(credentials=infos), KeyStore(), env or {})


def test_the_keyring_comes_first_then_the_environment() -> None:
    info = CredentialInfo(name="work", provider="openai")
    keyring.set_password("flowdesk", "work", "from-keyring")
    found = _credentials(info, env={"FLOWDESK_CREDENTIAL_WORK": "from-env"}).resolve("work", "openai")
    assert (found.key, found.source, found.base_url) == ("from-keyring", "keyring", "https://api.openai.com/v1")
    keyring.delete_password("flowdesk", "work")
    found = _credentials(info, env={"FLOWDESK_CREDENTIAL_WORK": "from-env"}).resolve("work", "openai")
    assert (found.key, found.source) == ("from-env", "FLOWDESK_CREDENTIAL_WORK")
    assert "from-env" not in repr(found)


def test_provider_variables_serve_the_public_api_only() -> None:
    env = {"OPENAI_API_KEY": "sk-openai", "ANTHROPIC_API_KEY": "sk-ant"}
    assert _credentials(env=env).resolve(None, "openai").key == "sk-openai"
    assert _credentials(env=env).resolve(None, "anthropic").key == "sk-ant"
    router = CredentialInfo(name="openai", provider="openai", base_url="https://openrouter.ai/api/v1")
    with pytest.raises(CredentialError) as info:
        _credentials(router, env=env).resolve(None, "openai")  # never send the OpenAI key to another host
    assert "FLOWDESK_CREDENTIAL_OPENAI" in str(info.value) and "OPENAI_API_KEY" not in str(info.value)


def test_a_missing_key_names_both_ways_to_give_one() -> None:
    with pytest.raises(CredentialError) as info:
        _credentials(CredentialInfo(name="openai", provider="openai")).resolve(None, "openai")
    message = str(info.value)
    assert "flowdesk credentials add openai --provider openai" in message and "OS keyring" in message
    assert "FLOWDESK_CREDENTIAL_OPENAI or OPENAI_API_KEY" in message


def test_unknown_and_mismatched_credentials_are_named() -> None:
    with pytest.raises(CredentialError, match="there is no credential 'nope'"):
        _credentials().resolve("nope", "openai")
    with pytest.raises(CredentialError, match="'claude' is for provider 'anthropic', but the node uses 'openai'"):
        _credentials(CredentialInfo(name="claude", provider="anthropic")).resolve("claude", "openai")


def test_a_keyless_local_server_needs_no_key() -> None:
    info = CredentialInfo(name="ollama", provider="openai", base_url="http://localhost:11434/v1", needs_key=False)
    found = _credentials(info).resolve("ollama", "openai")
    assert (found.key, found.base_url) == ("", "http://localhost:11434/v1")


class BrokenKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.NoKeyringError("No recommended backend was available. Install one.")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.NoKeyringError("No recommended backend was available. Install one.")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.NoKeyringError("No recommended backend was available. Install one.")


def test_no_keyring_falls_back_to_the_environment_and_says_why_when_that_is_empty() -> None:
    info = CredentialInfo(name="work", provider="anthropic")
    store = KeyStore(backend=BrokenKeyring())
    found = Credentials(LLMSettings(credentials=(info,)), store, {"FLOWDESK_CREDENTIAL_WORK": "k"}).resolve(
        "work", "anthropic"
    )
    assert found.key == "k"
    with pytest.raises(CredentialError) as error:
        Credentials(LLMSettings(credentials=(info,)), store, {}).resolve("work", "anthropic")
    assert "the OS keyring is not available (NoKeyringError: No recommended backend was available)" in str(error.value)
    with pytest.raises(CredentialError, match="set FLOWDESK_CREDENTIAL_WORK in the environment instead"):
        store.set("work", "k")


def test_prices_match_snapshots_and_overrides_win() -> None:
    table = PriceTable.shipped({"gpt-4o-mini": PriceOverride(input_per_mtok=1, output_per_mtok=2)})
    assert table.cost("gpt-4o-mini", 1_000_000, 1_000_000) == 3
    assert table.cost("claude-3-5-haiku-20241022", 1_000_000, 0) == pytest.approx(0.8)
    assert table.cost("openai/gpt-4o", 0, 1_000_000) == pytest.approx(10)
    assert table.cost("llama3.2", 10**6, 10**6) == 0  # a local model costs nothing we know of


def test_the_price_table_says_where_its_figures_come_from() -> None:
    from flowdesk.paths import resources_dir

    data = json.loads((resources_dir() / "prices.json").read_text())
    assert "openai.com" in data["comment"] and "anthropic.com" in data["comment"] and data["updated"]
    assert all(
        set(p) == {"input_per_mtok", "output_per_mtok", "cached_input_per_mtok"} for p in data["models"].values()
    )


# --- structured output through every provider --------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}


def _structured(server: FakeLLMServer, provider: str) -> Any:
    base = server.url + ("/v1" if provider == "openai" else "")
    info = CredentialInfo(name="fake", provider=provider, base_url=base, needs_key=False)
    wf = workflow(
        [node("judge", "llm", model=f"{provider}:m", prompt="Rate it", credential="fake", output_schema=SCHEMA)]
    )

    async def go() -> Any:
        llm = llm_services(LLMSettings(credentials=(info,)))
        try:
            return await run_workflow(wf, builtin_registry(), EngineServices(providers=llm.providers))
        finally:
            await llm.aclose()

    return asyncio.run(go())


def test_the_offline_reply_fits_the_schema_and_is_parsed() -> None:
    wf = workflow([node("judge", "llm", model="offline:echo", prompt="Rate it", output_schema=SCHEMA)])
    result = asyncio.run(run_workflow(wf, builtin_registry(), EngineServices(providers=default_providers())))
    assert isinstance(result.node_outputs["judge"]["json"]["score"], int)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_reply_that_misses_the_schema_is_asked_again_with_the_reason(fake_llm: FakeLLMServer, provider: str) -> None:
    fake_llm.script(ok('{"score": "high"}'), ok('Here it is:\n```json\n{"score": 4}\n```'))
    result = _structured(fake_llm, provider)
    assert result.status == "succeeded" and result.node_outputs["judge"]["json"] == {"score": 4}
    second = json.dumps(fake_llm.requests[1].body)
    assert "score" in second and "is not of type" in second and "high" in second


def test_a_reply_that_never_fits_fails_clearly_after_three_tries(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(ok("no"), ok("still no"), ok('{"other": 1}'))
    result = _structured(fake_llm, "openai")
    assert result.status == "failed" and len(fake_llm.requests) == 3
    assert result.error.error_class == "invalid_output"
    assert "did not match the output schema after 3 tries: at the top level: 'score' is a required property" in (
        result.error.message
    )
    assert result.usage.input_tokens == 33  # all three calls are counted

"""Pick a model, don't type it (17.4): `flowdesk models` and the cache the inspector reads."""

from __future__ import annotations

import json
from pathlib import Path

from support.fake_llm_server import FakeLLMServer
from test_key_redaction import flowdesk

from flowdesk.providers.model_list import ModelCache
from flowdesk.providers.settings import CredentialInfo, LLMSettings, save_settings


def test_models_lists_each_credentials_models_and_keeps_them_for_offline_use(
    fake_llm: FakeLLMServer, private_settings: Path
) -> None:
    fake_llm.models = ["qwen3", "llama3.2"]
    save_settings(LLMSettings(credentials=(CredentialInfo(name="local", provider="ollama", base_url=fake_llm.url),)))
    proc = flowdesk("models", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [
        {"model": "offline:echo", "credential": ""},
        {"model": "offline:lorem", "credential": ""},
        {"model": "ollama:llama3.2", "credential": "local"},
        {"model": "ollama:qwen3", "credential": "local"},
    ]
    assert fake_llm.requests[-1].path == "/api/tags"
    # the server goes away (nothing listens on port 9): the last known list is still shown, with the reason
    save_settings(
        LLMSettings(credentials=(CredentialInfo(name="local", provider="ollama", base_url="http://127.0.0.1:9"),))
    )
    again = flowdesk("models", "local")
    assert again.returncode == 1 and "ollama:qwen3" in again.stdout
    assert "credential 'local':" in again.stderr and "showing the last known list" in again.stderr
    cache = ModelCache.load()
    assert cache.all_models(LLMSettings(credentials=(CredentialInfo(name="local", provider="ollama"),)))[-1] == (
        "ollama:qwen3",
        "local",
    )


def test_models_names_an_unknown_credential() -> None:
    proc = flowdesk("models", "nope")
    assert proc.returncode == 2 and "there is no credential 'nope'" in proc.stderr


def test_a_damaged_cache_is_an_empty_cache(private_settings: Path) -> None:
    (private_settings.parent / "models-cache.json").write_text("{not json")
    assert ModelCache.load().listings == {}

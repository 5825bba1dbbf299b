"""Every provider a credential can be for, described once: adding a provider is its module and one entry here.

The settings file, the credential lookup, the run's provider registry, the command line and the
Settings dialog all read this table, so none of them keeps its own list. It imports nothing heavy:
a provider's module (and httpx) is imported when the first call needs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderSpec:
    """What flowdesk knows about one provider without importing it."""

    name: str
    """The prefix of a node's model (``openai:gpt-4o-mini``) and a credential's ``provider``."""
    label: str
    protocol: str
    """The wire protocol: openai-chat, anthropic-messages, ollama-chat, or none (a key for http nodes only)."""
    default_base_url: str | None
    implementation: str | None
    """``module:Class`` of the provider, imported on first use; None when it makes no model calls."""
    key_env: str | None = None
    """The provider-wide environment variable, only ever sent to ``default_base_url``."""
    needs_key: bool = True
    auth_header: tuple[str, str] | None = ("Authorization", "Bearer {key}")
    """How the key is sent: header name and value (``{key}`` stands for the key)."""
    fields: tuple[str, ...] = ("base_url", "headers", "query")
    """The credential settings that apply (the Settings dialog shows these)."""
    example_model: str = ""

    @property
    def makes_calls(self) -> bool:
        return self.implementation is not None


PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec(
            "openai",
            "OpenAI-compatible (OpenAI, vLLM, LM Studio, OpenRouter, LiteLLM, ...)",
            "openai-chat",
            "https://api.openai.com/v1",
            "flowdesk.providers.openai:OpenAICompatibleProvider",
            key_env="OPENAI_API_KEY",
            fields=("base_url", "headers", "query", "stream_options"),
            example_model="gpt-4o-mini",
        ),
        ProviderSpec(
            "anthropic",
            "Anthropic",
            "anthropic-messages",
            "https://api.anthropic.com",
            "flowdesk.providers.anthropic:AnthropicProvider",
            key_env="ANTHROPIC_API_KEY",
            auth_header=("x-api-key", "{key}"),
            example_model="claude-3-5-haiku-latest",
        ),
        ProviderSpec(
            "ollama",
            "Ollama (native API)",
            "ollama-chat",
            "http://localhost:11434",
            "flowdesk.providers.ollama:OllamaProvider",
            needs_key=False,
            example_model="llama3.2",
        ),
        ProviderSpec(
            "azure",
            "Azure OpenAI (deployments)",
            "openai-chat",
            None,
            "flowdesk.providers.openai:AzureOpenAIProvider",
            auth_header=("api-key", "{key}"),
            fields=("base_url", "api_version", "headers", "query", "stream_options"),
            example_model="my-deployment",
        ),
        ProviderSpec(
            "http",
            "A key for http nodes only",
            "none",
            None,
            None,
            fields=("hosts",),
        ),
    )
}

AZURE_API_VERSION = "2024-10-21"


def provider_spec(name: str) -> ProviderSpec:
    """The spec of provider ``name``; KeyError for an unknown one."""
    return PROVIDERS[name]


def model_providers() -> list[str]:
    """Providers a node's model can name (the offline one is built in and needs no credential)."""
    return [name for name, spec in PROVIDERS.items() if spec.makes_calls]


def load_class(spec: ProviderSpec) -> type:
    """The provider's class, imported now (its module pulls in httpx)."""
    if spec.implementation is None:
        raise KeyError(f"provider '{spec.name}' makes no model calls")
    module, _, name = spec.implementation.partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls

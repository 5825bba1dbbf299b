"""The providers a run (CLI or app) gets: offline, OpenAI-compatible and Anthropic, wired to the user's settings.

One function builds them for both front ends, so the CLI and the app can never disagree about
which credential, base URL or price applies. Credentials are looked up when a node asks for its
provider, not before: a workflow that only uses the offline model never touches the keyring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from flowdesk.nodes.llm_contract import LLMError, LLMProvider, LLMRequest, LLMResult
from flowdesk.providers.anthropic import AnthropicProvider
from flowdesk.providers.credentials import CredentialError, Credentials, KeyStore, ResolvedCredential
from flowdesk.providers.http_llm import LLMHttp
from flowdesk.providers.openai import OpenAICompatibleProvider
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.resolver import ProviderFactory, ProviderRegistry, default_providers
from flowdesk.providers.settings import LLMSettings

PROVIDER_CLASSES = {"openai": OpenAICompatibleProvider, "anthropic": AnthropicProvider}


@dataclass
class LLMServices:
    """What runs need for LLM nodes: the registry (a ProviderResolver) and the credentials (a SecretStore)."""

    settings: LLMSettings
    credentials: Credentials
    prices: PriceTable
    http: LLMHttp
    providers: ProviderRegistry

    async def aclose(self) -> None:
        await self.http.aclose()

    def provider_for(self, credential: ResolvedCredential) -> LLMProvider:
        """A provider for an already resolved credential (the Settings dialog's connection test)."""
        return PROVIDER_CLASSES[credential.provider](credential, self.prices, self.http)


def llm_services(
    settings: LLMSettings,
    *,
    keys: KeyStore | None = None,
    environ: Mapping[str, str] | None = None,
    http: LLMHttp | None = None,
    shared_client: bool = True,
) -> LLMServices:
    """Providers for ``settings``; ``shared_client`` keeps one connection pool (close it with ``aclose``)."""
    credentials = Credentials(settings, keys, environ)
    prices = PriceTable.shipped(settings.prices)
    http = http or LLMHttp(httpx.AsyncClient() if shared_client else None)
    registry = default_providers()
    for name, cls in PROVIDER_CLASSES.items():
        registry.register(name, _factory(name, cls, credentials, prices, http))
    return LLMServices(settings, credentials, prices, http, registry)


def _factory(name: str, cls: type, credentials: Credentials, prices: PriceTable, http: LLMHttp) -> ProviderFactory:
    """Resolves the credential when a node asks, so a missing key fails that node, with its name, not the run."""

    def make(credential: str | None) -> LLMProvider:
        try:
            resolved = credentials.resolve(credential, name)
        except CredentialError as exc:
            raise LLMError(str(exc), "node") from None
        provider: LLMProvider = cls(resolved, prices, http)
        return provider

    return make


async def check_connection(services: LLMServices, credential: ResolvedCredential, model: str) -> LLMResult:
    """One small real request through ``credential`` (raises LLMError with the exact problem)."""
    request = LLMRequest(model=model, prompt="Reply with the word OK.", max_tokens=8, temperature=0.0)
    return await services.provider_for(credential).complete(request, lambda _delta: None)

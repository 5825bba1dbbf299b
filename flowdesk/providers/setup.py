"""The providers a run (CLI or app) gets: offline and every provider in the catalog, wired to the user's settings.

One function builds them for both front ends, so the CLI and the app can never disagree about
which credential, base URL or price applies. Credentials are looked up when a node asks for its
provider, not before: a workflow that only uses the offline model never touches the keyring.
For the same reason the real providers' modules and their HTTP client (httpx, its connection pool
and TLS set-up: a few tenths of a second) are made when the first real provider is, not when the
app or a run starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowdesk.nodes.llm_contract import LLMError, LLMProvider, LLMRequest, LLMResult
from flowdesk.providers.catalog import load_class, model_providers, provider_spec
from flowdesk.providers.credentials import CredentialError, Credentials, KeyStore, ResolvedCredential
from flowdesk.providers.models import rules_for
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.resolver import ProviderFactory, ProviderRegistry, default_providers
from flowdesk.providers.settings import LLMSettings

if TYPE_CHECKING:
    from flowdesk.providers.http_llm import LLMHttp

REAL_PROVIDERS = tuple(model_providers())


def provider_class(name: str) -> type:
    """The class of the real provider ``name`` (one of REAL_PROVIDERS), imported on first use."""
    return load_class(provider_spec(name))


@dataclass
class LLMServices:
    """What runs need for LLM nodes: the registry (a ProviderResolver) and the credentials (a SecretStore)."""

    settings: LLMSettings
    credentials: Credentials
    prices: PriceTable
    providers: ProviderRegistry
    shared_client: bool = True
    """The real providers share one connection pool (closed with ``aclose``); else each call opens its own."""
    _http: LLMHttp | None = None

    @property
    def http(self) -> LLMHttp:
        """The HTTP the real providers use, made on first use."""
        if self._http is None:
            import httpx

            from flowdesk.providers.http_llm import LLMHttp

            self._http = LLMHttp(httpx.AsyncClient() if self.shared_client else None)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def provider_for(self, credential: ResolvedCredential) -> LLMProvider:
        """A provider for an already resolved credential (the Settings dialog's connection test)."""
        provider: LLMProvider = provider_class(credential.provider)(credential, self.prices, self.http)
        return provider


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
    registry = default_providers()
    services = LLMServices(settings, credentials, prices, registry, shared_client, http)
    for name in REAL_PROVIDERS:
        registry.register(name, _factory(name, services))
    return services


def _factory(name: str, services: LLMServices) -> ProviderFactory:
    """Resolves the credential when a node asks, so a missing key fails that node, with its name, not the run."""

    def make(credential: str | None) -> LLMProvider:
        try:
            resolved = services.credentials.resolve(credential, name)
        except CredentialError as exc:
            raise LLMError(str(exc), "node") from None
        return services.provider_for(resolved)

    return make


async def check_connection(services: LLMServices, credential: ResolvedCredential, model: str) -> LLMResult:
    """One small real request through ``credential`` (raises LLMError with the exact problem).

    It asks with a node's defaults, as a run would (a reasoning model refuses a set temperature, so
    the test must not set one), and leaves a reasoning model room to think before it answers.
    """
    reasoning = rules_for(model).reasoning_effort
    request = LLMRequest(
        model=model,
        prompt="Reply with the word OK.",
        max_tokens=512 if reasoning else 16,
        reasoning_effort="low" if reasoning else None,
    )
    return await services.provider_for(credential).complete(request, lambda _delta: None)


async def list_models(services: LLMServices, credential: ResolvedCredential) -> list[str]:
    """The models the server behind ``credential`` offers (raises LLMError when it cannot say)."""
    provider: Any = services.provider_for(credential)
    return list(await provider.list_models())

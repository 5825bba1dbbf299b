"""Which LLM provider serves ``provider:model``: a registry the engine asks through ProviderResolver.

Providers are registered by name with a factory that takes the node's credential *name* (the
factory looks the secret up itself, so secrets never travel through the workflow or the engine).
Only the offline provider is built in; real ones (OpenAI-compatible, Anthropic) register the same
way, so adding one touches nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from flowdesk.nodes.llm_contract import LLMError, LLMProvider
from flowdesk.providers.offline import OfflineProvider

ProviderFactory = Callable[[str | None], LLMProvider]
"""Makes a provider for a credential name (None when the node names none)."""

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")  # the provider part of LLMConfig.model's pattern


class ProviderRegistry:
    """Provider factories by name; implements :class:`flowdesk.nodes.llm_contract.ProviderResolver`."""

    def __init__(self) -> None:
        self._factories: dict[str, ProviderFactory] = {}

    def register(self, name: str, factory: ProviderFactory, *, replace: bool = False) -> None:
        """Add a provider; a second one under the same name needs ``replace=True`` (no silent swap)."""
        if not _NAME.match(name):
            raise ValueError(f"provider name {name!r} must be lower-case letters, digits, '_' or '-'")
        if name in self._factories and not replace:
            raise ValueError(f"LLM provider {name!r} is already registered")
        self._factories[name] = factory

    def resolve(self, provider: str, credential: str | None) -> LLMProvider:
        """The provider called ``provider``, made for ``credential``; LLMError("node") if there is none."""
        factory = self._factories.get(provider)
        if factory is None:
            available = ", ".join(self.names()) or "none"
            raise LLMError(f"no LLM provider '{provider}' is configured; available: {available}", "node")
        return factory(credential)

    def names(self) -> list[str]:
        """Registered provider names, sorted (for messages and the inspector's model picker)."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def default_providers() -> ProviderRegistry:
    """A registry with the built-in providers (today: offline, which needs no credential)."""
    registry = ProviderRegistry()
    offline = OfflineProvider()  # stateless, so one instance serves every node
    registry.register("offline", lambda _credential: offline)
    return registry

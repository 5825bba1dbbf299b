"""What an LLM node asks of a language-model provider, and what it gets back.

The contract lives here, beside the node kinds that use it, so the engine and the llm node depend
only on it; the providers layer (offline, OpenAI-compatible, Anthropic) implements it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class LLMRequest(BaseModel):
    model_config = ConfigDict(frozen=True)
    model: str = Field(description="The model name, without the provider prefix.")
    system: str = ""
    prompt: str
    temperature: float = 0.7
    max_tokens: int = 1024
    stop: tuple[str, ...] = ()
    output_schema: dict[str, Any] | None = None
    attempt: int = 1


class LLMUsage(BaseModel):
    model_config = ConfigDict(frozen=True)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class LLMResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str
    usage: LLMUsage = Field(default_factory=LLMUsage)
    finish_reason: str = "stop"


class LLMError(Exception):
    """A provider failure, classified so retry policies can choose (see RetryPolicy.retry_on)."""

    def __init__(
        self,
        message: str,
        error_class: str = "node",
        retry_after_s: float | None = None,
        usage: LLMUsage | None = None,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.retry_after_s = retry_after_s
        self.usage = usage
        """What the failed call used before it failed (a stream cut mid-way), so the attempt's cost is kept."""


DeltaSink = Callable[[str], None]


class LLMProvider(Protocol):
    """One provider (offline, openai, anthropic, ...). ``complete`` streams deltas to ``on_delta``."""

    name: str

    async def complete(self, request: LLMRequest, on_delta: DeltaSink) -> LLMResult: ...


class ProviderResolver(Protocol):
    """Finds the provider for ``provider:model`` and a credential name; raises LLMError if it can't."""

    def resolve(self, provider: str, credential: str | None) -> LLMProvider: ...

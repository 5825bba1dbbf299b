"""What an LLM node asks of a language-model provider, and what it gets back.

The contract lives here, beside the node kinds that use it, so the engine and the llm node depend
only on it; the providers layer (offline, OpenAI-compatible, Anthropic) implements it.
"""

from __future__ import annotations

import math
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
    reasoning_effort: str | None = None
    """For reasoning models (gpt-5, o3, o4-mini): minimal, low, medium or high; None = the model's default."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Provider-specific node settings (Ollama: num_ctx, keep_alive, think); others ignore them."""


class LLMUsage(BaseModel):
    model_config = ConfigDict(frozen=True)
    input_tokens: int = 0
    """All prompt tokens, the cached ones included."""
    output_tokens: int = 0
    """All generated tokens, hidden reasoning included."""
    cost_usd: float = 0.0
    cached_input_tokens: int = 0
    """Prompt tokens the server read from its cache (billed at a lower price)."""
    reasoning_tokens: int = 0
    """Output tokens spent on hidden reasoning (billed as output, never seen in the reply)."""
    estimated: bool = False
    """True when the server reported no counts and flowdesk estimated them from the text."""


FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter")
"""The finish reasons providers map theirs onto; anything else is kept as the server said it."""


class LLMResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str
    usage: LLMUsage = Field(default_factory=LLMUsage)
    finish_reason: str = "stop"
    """stop (the model finished), length (cut at max_tokens), tool_calls, content_filter, or the server's word."""
    notes: tuple[str, ...] = ()
    """What the node should warn about, e.g. a setting the model does not take and that was left out."""


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


def cost_text(usd: float) -> str:
    """A cost readable at any size: $0.0014, $0.000012 (a small real cost never shows as $0.0000), $12.50."""
    if not usd:
        return "$0"
    if usd >= 1:
        return f"${usd:,.2f}"
    decimals = max(4, 1 - math.floor(math.log10(usd)))
    return f"${usd:.{decimals}f}"

"""What each model accepts, in one table: which parameters it takes and what its token limit is called.

Why by model and not by server: gpt-5, o3 and o4-mini refuse ``temperature`` (other than 1) and
``stop`` wherever they are served (OpenAI itself, Azure, OpenRouter, a LiteLLM proxy), so the rules
follow the model's name (a gateway's ``vendor/`` prefix is ignored), not the base URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelRules:
    """The parameters one family of models accepts."""

    temperature: bool = True
    """False: the model takes only its default temperature, so none is sent."""
    stop: bool = True
    limit_field: str | None = None
    """``max_completion_tokens`` or ``max_tokens``; None: the server's usual name (see :func:`limit_field`)."""
    reasoning_effort: bool = False
    """The model takes ``reasoning_effort`` (and spends hidden reasoning tokens out of the limit)."""


REASONING = ModelRules(temperature=False, stop=False, limit_field="max_completion_tokens", reasoning_effort=True)
THINKING = ModelRules(reasoning_effort=True)
"""Claude models with extended thinking: the effort becomes a thinking budget (and then no temperature)."""
PLAIN = ModelRules()

RULES: tuple[tuple[re.Pattern[str], ModelRules], ...] = (
    (re.compile(r"^gpt-5(\.\d+)?-chat"), PLAIN),  # the chat variant of gpt-5 is not a reasoning model
    (re.compile(r"^(gpt-5|o1|o3|o4)(\b|[-.])"), REASONING),
    (re.compile(r"^claude-(3-7-sonnet|sonnet-4|opus-4|haiku-4)"), THINKING),
)

THINKING_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384}
"""Anthropic's thinking budget (tokens) for each reasoning effort; at least 1,024, below max_tokens."""
"""First match wins; a model no rule names is a plain chat model."""


def rules_for(model: str) -> ModelRules:
    """The rules for ``model`` (``openai/o3-mini`` and ``o3-mini`` alike)."""
    name = model.rsplit("/", 1)[-1].lower()
    for pattern, rules in RULES:
        if pattern.match(name):
            return rules
    return PLAIN


def limit_field(model: str, official: bool) -> str:
    """The name of the token limit: OpenAI's own API wants ``max_completion_tokens``, other servers
    mostly know only ``max_tokens``, and reasoning models want the former wherever they are."""
    chosen = rules_for(model).limit_field
    if chosen is not None:
        return chosen
    return "max_completion_tokens" if official else "max_tokens"

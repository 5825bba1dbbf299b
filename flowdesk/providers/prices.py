"""What a model call costs: the shipped price table (resources/prices.json) with the user's overrides on top.

Costs are worked out where the usage is known, in the provider, so every step's recorded cost is
the price that applied when it ran (a later price change does not rewrite history).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flowdesk.paths import resources_dir
from flowdesk.providers.settings import PriceOverride

log = logging.getLogger(__name__)

PER = 1_000_000


@dataclass(frozen=True)
class Price:
    """US dollars per million input and output tokens."""

    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None
    """Prompt tokens read from the provider's cache; None: no discount known (the input price)."""

    def cost(self, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
        """``input_tokens`` counts all prompt tokens, the cached ones among them."""
        cached = min(max(cached_input_tokens, 0), input_tokens)
        cached_price = self.input_per_mtok if self.cached_input_per_mtok is None else self.cached_input_per_mtok
        fresh = input_tokens - cached
        return (fresh * self.input_per_mtok + cached * cached_price + output_tokens * self.output_per_mtok) / PER


class PriceTable:
    """Prices by model name; overrides win over the shipped table."""

    def __init__(self, prices: Mapping[str, Price]) -> None:
        self._prices = dict(prices)

    @classmethod
    def shipped(cls, overrides: Mapping[str, PriceOverride] | None = None, path: Path | None = None) -> PriceTable:
        """The table in resources/prices.json, with ``overrides`` (from the settings) applied."""
        path = path or resources_dir() / "prices.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        prices = {
            name: Price(
                float(entry["input_per_mtok"]),
                float(entry["output_per_mtok"]),
                float(entry["cached_input_per_mtok"]) if "cached_input_per_mtok" in entry else None,
            )
            for name, entry in data["models"].items()
        }
        for name, override in (overrides or {}).items():
            prices[name] = Price(override.input_per_mtok, override.output_per_mtok)
        return cls(prices)

    def names(self) -> list[str]:
        return sorted(self._prices)

    def price_of(self, model: str) -> Price | None:
        """The exact entry, else the longest entry ``model`` starts with followed by '-' (a dated snapshot);
        an OpenRouter-style ``vendor/model`` is also looked up without its vendor."""
        for name in (model, model.rsplit("/", 1)[-1]):
            if name in self._prices:
                return self._prices[name]
            matches = [known for known in self._prices if name.startswith(known + "-")]
            if matches:
                return self._prices[max(matches, key=len)]
        return None

    def cost(self, model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
        """The call's cost in USD; 0 for a model the table does not know (a local model, say)."""
        price = self.price_of(model)
        if price is None:
            log.debug("no price for model %r; its cost is recorded as 0", model)
            return 0.0
        return price.cost(input_tokens, output_tokens, cached_input_tokens)

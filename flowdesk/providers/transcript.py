"""One streamed reply as it comes in: its text, finish reason and usage, for every wire protocol.

It also makes sure a call that fails after the model has started talking still reports what it
used (estimated from the text received), so a failed attempt's tokens and cost are not lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flowdesk.nodes.llm_contract import DeltaSink, LLMError, LLMRequest, LLMResult, LLMUsage
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.tokens import count_tokens


class Transcript:
    def __init__(self, request: LLMRequest, on_delta: DeltaSink) -> None:
        self._request = request
        self._on_delta = on_delta
        self._parts: list[str] = []
        self.finish_reason = "stop"
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(self, delta: str) -> None:
        """Keep a piece of the reply and pass it on at once (the log shows the reply as it streams)."""
        self._parts.append(delta)
        self._on_delta(delta)

    def set_usage(self, input_tokens: object = None, output_tokens: object = None) -> None:
        """Record the server's counts; anything that is not a count is ignored (the estimate stands in)."""
        if isinstance(input_tokens, int) and not isinstance(input_tokens, bool) and input_tokens >= 0:
            self.input_tokens = input_tokens
        if isinstance(output_tokens, int) and not isinstance(output_tokens, bool) and output_tokens >= 0:
            self.output_tokens = output_tokens

    def usage(self, prices: PriceTable, model: str) -> LLMUsage:
        """The server's counts where it gave them, the offline estimate where it did not, and the cost."""
        request = self._request
        tokens_in = self.input_tokens
        if tokens_in is None:
            tokens_in = count_tokens(request.system) + count_tokens(request.prompt)
        tokens_out = self.output_tokens if self.output_tokens is not None else count_tokens(self.text)
        return LLMUsage(
            input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=prices.cost(model, tokens_in, tokens_out)
        )

    def result(self, prices: PriceTable, model: str) -> LLMResult:
        return LLMResult(text=self.text, usage=self.usage(prices, model), finish_reason=self.finish_reason)

    @contextmanager
    def keeping_usage(self, prices: PriceTable, model: str) -> Iterator[None]:
        """On an LLMError after some reply arrived, attach the usage so far to it (the attempt is billed)."""
        try:
            yield
        except LLMError as exc:
            if exc.usage is None and (self._parts or self.output_tokens is not None):
                exc.usage = self.usage(prices, model)
            raise

"""One streamed reply as it comes in: its text, finish reason and usage, for every wire protocol.

It also makes sure a call that fails after the model has started talking still reports what it
used (estimated from the text received), so a failed attempt's tokens and cost are not lost; and
it passes the pieces on through a :class:`StreamRedactor`, so a key a server echoes back is removed
even when it arrives split across two pieces.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flowdesk.engine.redaction import Redactor, StreamRedactor
from flowdesk.nodes.llm_contract import DeltaSink, LLMError, LLMRequest, LLMResult, LLMUsage
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.tokens import count_tokens


def _count(value: object) -> int | None:
    """A token count from a server, or None for anything that is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


class Transcript:
    def __init__(self, request: LLMRequest, on_delta: DeltaSink, redactor: Redactor | None = None) -> None:
        self._request = request
        self._on_delta = on_delta
        self._stream = StreamRedactor(redactor) if redactor is not None and redactor.active else None
        self._parts: list[str] = []
        self.finish_reason = "stop"
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cached_input_tokens = 0
        self.reasoning_tokens = 0
        self.notes: list[str] = []
        self.tool_calls = 0

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(self, delta: str) -> None:
        """Keep a piece of the reply and pass it on at once (the log shows the reply as it streams)."""
        self._parts.append(delta)
        shown = self._stream.feed(delta) if self._stream is not None else delta
        if shown:
            self._on_delta(shown)

    def _flush(self) -> None:
        if self._stream is not None:
            rest = self._stream.flush()
            if rest:
                self._on_delta(rest)

    def set_usage(self, input_tokens: object = None, output_tokens: object = None) -> None:
        """Record the server's counts; anything that is not a count is ignored (the estimate stands in)."""
        if _count(input_tokens) is not None:
            self.input_tokens = _count(input_tokens)
        if _count(output_tokens) is not None:
            self.output_tokens = _count(output_tokens)

    def set_details(self, cached_input_tokens: object = None, reasoning_tokens: object = None) -> None:
        """The parts of the counts a server breaks out: prompt tokens from its cache, hidden reasoning."""
        self.cached_input_tokens = _count(cached_input_tokens) or self.cached_input_tokens
        self.reasoning_tokens = _count(reasoning_tokens) or self.reasoning_tokens

    def usage(self, prices: PriceTable, model: str) -> LLMUsage:
        """The server's counts where it gave them, the offline estimate where it did not, and the cost."""
        request = self._request
        tokens_in = self.input_tokens
        estimated = tokens_in is None or self.output_tokens is None
        if tokens_in is None:
            tokens_in = count_tokens(request.system) + count_tokens(request.prompt)
        tokens_out = self.output_tokens if self.output_tokens is not None else count_tokens(self.text)
        cached = min(self.cached_input_tokens, tokens_in)
        return LLMUsage(
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cost_usd=prices.cost(model, tokens_in, tokens_out, cached),
            cached_input_tokens=cached,
            reasoning_tokens=min(self.reasoning_tokens, tokens_out),
            estimated=estimated,
        )

    def result(self, prices: PriceTable, model: str) -> LLMResult:
        self._flush()
        reason = self.finish_reason
        if self.tool_calls and reason == "stop":
            reason = "tool_calls"
        return LLMResult(text=self.text, usage=self.usage(prices, model), finish_reason=reason, notes=tuple(self.notes))

    @contextmanager
    def keeping_usage(self, prices: PriceTable, model: str) -> Iterator[None]:
        """On an LLMError after some reply arrived, attach the usage so far to it (the attempt is billed)."""
        try:
            yield
        except LLMError as exc:
            self._flush()
            if exc.usage is None and (self._parts or self.output_tokens is not None):
                exc.usage = self.usage(prices, model)
            raise

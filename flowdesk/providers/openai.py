"""The OpenAI-compatible chat completions provider: OpenAI, and every server that speaks its wire protocol.

One base URL setting covers OpenAI itself, Ollama (``http://localhost:11434/v1``), vLLM, LM Studio,
llama.cpp's server and OpenRouter. Replies are always streamed (``stream: true``) with
``stream_options.include_usage`` so the last event carries the real token counts; a server that
sends no usage gets the offline estimate instead.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from flowdesk.nodes.llm_contract import DeltaSink, LLMRequest, LLMResult
from flowdesk.providers.credentials import DEFAULT_BASE_URLS, ResolvedCredential
from flowdesk.providers.http_llm import Endpoint, LLMHttp, decode_event
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.transcript import Transcript


class OpenAICompatibleProvider:
    """``openai:<model>``; the credential says which server (base URL) and which key."""

    name = "openai"

    def __init__(self, credential: ResolvedCredential, prices: PriceTable, http: LLMHttp) -> None:
        self._credential = credential
        self._prices = prices
        self._http = http

    def _endpoint(self) -> Endpoint:
        c = self._credential
        return Endpoint("openai", c.name, f"{c.base_url.rstrip('/')}/chat/completions", c.key)

    def body(self, request: LLMRequest) -> dict[str, Any]:
        """The request body; OpenAI's own API wants ``max_completion_tokens``, other servers know ``max_tokens``."""
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages.append({"role": "user", "content": request.prompt})
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        official = self._credential.base_url.rstrip("/") == DEFAULT_BASE_URLS["openai"]
        body["max_completion_tokens" if official else "max_tokens"] = request.max_tokens
        if request.stop:
            body["stop"] = list(request.stop)
        if request.output_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.output_schema, "strict": False},
            }
        return body

    async def complete(self, request: LLMRequest, on_delta: DeltaSink) -> LLMResult:
        """Stream one chat completion; deltas go to ``on_delta`` as they arrive."""
        endpoint = self._endpoint()
        headers = {"Authorization": f"Bearer {endpoint.key}"} if endpoint.key else {}
        transcript = Transcript(request, on_delta)
        finished = False
        with transcript.keeping_usage(self._prices, request.model):
            events = self._http.stream_events(endpoint, headers, self.body(request))
            async with aclosing(events) as stream:
                async for event in stream:  # read to the end, not broken off: the connection is then reusable
                    if finished:
                        continue
                    if event.data.strip() == "[DONE]":
                        finished = True
                    else:
                        self._take(decode_event(event, endpoint), transcript, endpoint)
            if not finished:
                raise endpoint.error("the reply stream ended before [DONE] (connection cut?)", "network")
        return transcript.result(self._prices, request.model)

    @staticmethod
    def _take(chunk: dict[str, Any], transcript: Transcript, endpoint: Endpoint) -> None:
        """One streamed chunk: text deltas, a finish reason, or the usage of the whole call."""
        error = chunk.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise endpoint.error(f"reported an error mid-stream: {message}", "server")
        for choice in chunk.get("choices") or []:
            delta = (choice.get("delta") or {}).get("content")
            if isinstance(delta, str) and delta:
                transcript.add(delta)
            reason = choice.get("finish_reason")
            if reason:
                transcript.finish_reason = "length" if reason == "length" else str(reason)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            transcript.set_usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))

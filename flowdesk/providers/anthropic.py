"""The Anthropic messages API provider (``anthropic:<model>``), streamed.

The messages API has no JSON mode, so an output schema is asked for in the system prompt; the llm
node validates the reply against the schema either way and asks again when it does not match.
"""

from __future__ import annotations

import json
from contextlib import aclosing
from typing import Any

from flowdesk.nodes.llm_contract import DeltaSink, LLMRequest, LLMResult
from flowdesk.providers.credentials import ResolvedCredential
from flowdesk.providers.http_llm import Endpoint, LLMHttp, decode_event, endpoint_for, request_headers
from flowdesk.providers.models import THINKING_BUDGET, rules_for
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.transcript import Transcript

API_VERSION = "2023-06-01"
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
_STREAM_ERROR_CLASS = {"overloaded_error": "server", "api_error": "server", "rate_limit_error": "rate_limit"}


def schema_instruction(schema: dict[str, Any]) -> str:
    """What tells a model without a JSON mode to answer in JSON matching ``schema``."""
    return (
        "Reply with a single JSON value and nothing else (no prose, no code fence). "
        "It must match this JSON Schema:\n" + json.dumps(schema, ensure_ascii=False, sort_keys=True)
    )


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, credential: ResolvedCredential, prices: PriceTable, http: LLMHttp) -> None:
        self._credential = credential
        self._prices = prices
        self._http = http

    def _endpoint(self) -> Endpoint:
        return endpoint_for(self._credential, "/v1/messages")

    def _headers(self) -> dict[str, str]:
        return {"anthropic-version": API_VERSION, **request_headers(self._credential)}

    @staticmethod
    def body(request: LLMRequest, notes: list[str] | None = None) -> dict[str, Any]:
        system = request.system
        if request.output_schema is not None:
            system = f"{system}\n\n{schema_instruction(request.output_schema)}".strip()
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": "user", "content": request.prompt}],
            "temperature": request.temperature,
            "stream": True,
        }
        if system:
            body["system"] = system
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        if request.reasoning_effort:
            _think(request, body, notes if notes is not None else [])
        return body

    async def complete(self, request: LLMRequest, on_delta: DeltaSink) -> LLMResult:
        """Stream one message; text deltas go to ``on_delta`` as they arrive."""
        endpoint = self._endpoint()
        transcript = Transcript(request, on_delta, endpoint.redactor)
        body = self.body(request, transcript.notes)
        finished = False
        with transcript.keeping_usage(self._prices, request.model):
            events = self._http.stream_events(endpoint, self._headers(), body)
            async with aclosing(events) as stream:
                async for event in stream:  # read to the end, not broken off: the connection is then reusable
                    if not finished:
                        finished = self._take(decode_event(event, endpoint), transcript, endpoint)
            if not finished:
                raise endpoint.error("the reply stream ended before message_stop (connection cut?)", "network")
        return transcript.result(self._prices, request.model)

    async def list_models(self) -> list[str]:
        """The model ids of the models endpoint (``/v1/models``)."""
        data = await self._http.get_json(endpoint_for(self._credential, "/v1/models"), self._headers())
        return sorted(str(m["id"]) for m in data.get("data") or [] if isinstance(m, dict) and m.get("id"))

    @staticmethod
    def _take(data: dict[str, Any], transcript: Transcript, endpoint: Endpoint) -> bool:
        """One event; True once the message is complete."""
        kind = data.get("type")
        if kind == "message_start":
            _usage(transcript, (data.get("message") or {}).get("usage") or {})
        elif kind == "content_block_start":
            if (data.get("content_block") or {}).get("type") == "tool_use":
                transcript.tool_calls += 1
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and isinstance(delta.get("text"), str) and delta["text"]:
                transcript.add(delta["text"])
        elif kind == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            if reason:
                transcript.finish_reason = _FINISH.get(str(reason), str(reason))
            _usage(transcript, data.get("usage") or {})
        elif kind == "message_stop":
            return True
        elif kind == "error":
            error = data.get("error") or {}
            error_type = str(error.get("type", "error"))
            error_class = _STREAM_ERROR_CLASS.get(error_type, "node")
            raise endpoint.error(f"reported {error_type} mid-stream: {error.get('message', '')}", error_class)
        return False


def _usage(transcript: Transcript, usage: dict[str, Any]) -> None:
    """Anthropic counts cache reads and writes apart from ``input_tokens``; flowdesk counts all prompt
    tokens as input (as OpenAI does) with the cache reads among them, priced lower."""
    fresh = usage.get("input_tokens")
    if isinstance(fresh, int) and not isinstance(fresh, bool):
        read = usage.get("cache_read_input_tokens")
        written = usage.get("cache_creation_input_tokens")
        read = read if isinstance(read, int) and read > 0 else 0
        written = written if isinstance(written, int) and written > 0 else 0
        transcript.set_usage(fresh + read + written, None)
        transcript.set_details(read or None, None)
    transcript.set_usage(None, usage.get("output_tokens"))


def _think(request: LLMRequest, body: dict[str, Any], notes: list[str]) -> None:
    """The node's reasoning effort as extended thinking, for the Claude models that have it."""
    if not rules_for(request.model).reasoning_effort:
        notes.append(f"{request.model} has no extended thinking; reasoning_effort was not sent")
        return
    budget = min(THINKING_BUDGET[str(request.reasoning_effort)], request.max_tokens - 1)
    if budget < THINKING_BUDGET["minimal"]:
        notes.append(f"thinking needs max_tokens above 1024 (it is {request.max_tokens}); the model did not think")
        return
    body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    body.pop("temperature", None)  # thinking takes only the default temperature

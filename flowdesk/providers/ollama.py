"""The native Ollama provider (``ollama:<model>``): ``/api/chat``, streamed as newline-delimited JSON.

Why not only Ollama's OpenAI-compatible endpoint: over it a long prompt is silently cut at the
server's default context window, and there is no way to say how long the model stays loaded or
whether a thinking model thinks. Here a node's ``num_ctx``, ``keep_alive`` and ``think`` go with
the call, and the model list comes from ``/api/tags``.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from flowdesk.nodes.llm_contract import DeltaSink, LLMRequest, LLMResult
from flowdesk.providers.credentials import ResolvedCredential
from flowdesk.providers.http_llm import Endpoint, LLMHttp, endpoint_for, request_headers
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.transcript import Transcript

_FINISH = {"stop": "stop", "length": "length"}


class OllamaProvider:
    name = "ollama"

    def __init__(self, credential: ResolvedCredential, prices: PriceTable, http: LLMHttp) -> None:
        self._credential = credential
        self._prices = prices
        self._http = http

    @staticmethod
    def body(request: LLMRequest, notes: list[str] | None = None) -> dict[str, Any]:
        """The /api/chat request: sampling settings go in ``options``; keep_alive and think beside them."""
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages.append({"role": "user", "content": request.prompt})
        options: dict[str, Any] = {"temperature": request.temperature, "num_predict": request.max_tokens}
        if request.stop:
            options["stop"] = list(request.stop)
        extra = request.options
        if extra.get("num_ctx"):
            options["num_ctx"] = extra["num_ctx"]
        body: dict[str, Any] = {"model": request.model, "messages": messages, "stream": True, "options": options}
        if extra.get("keep_alive"):
            body["keep_alive"] = extra["keep_alive"]
        if "think" in extra:
            body["think"] = extra["think"]
        if request.output_schema is not None:
            body["format"] = request.output_schema  # Ollama constrains the reply to the schema
        if request.reasoning_effort and notes is not None:
            notes.append("reasoning_effort is for OpenAI reasoning models; use think for Ollama; it was not sent")
        return body

    async def complete(self, request: LLMRequest, on_delta: DeltaSink) -> LLMResult:
        """Stream one chat reply; text pieces go to ``on_delta`` as they arrive (the thinking is not shown)."""
        endpoint = endpoint_for(self._credential, "/api/chat")
        transcript = Transcript(request, on_delta, endpoint.redactor)
        body = self.body(request, transcript.notes)
        done = False
        with transcript.keeping_usage(self._prices, request.model):
            lines = self._http.stream_lines(endpoint, request_headers(self._credential), body)
            async with aclosing(lines) as stream:
                async for line in stream:  # read to the end, not broken off: the connection is then reusable
                    if not done:
                        done = self._take(line, transcript, endpoint)
            if not done:
                raise endpoint.error("the reply stream ended before its last line (connection cut?)", "network")
        return transcript.result(self._prices, request.model)

    async def list_models(self) -> list[str]:
        """The models pulled on the server (``/api/tags``)."""
        endpoint = endpoint_for(self._credential, "/api/tags")
        data = await self._http.get_json(endpoint, request_headers(self._credential))
        return sorted(str(m["name"]) for m in data.get("models") or [] if isinstance(m, dict) and m.get("name"))

    @staticmethod
    def _take(line: dict[str, Any], transcript: Transcript, endpoint: Endpoint) -> bool:
        """One line; True once the reply is complete."""
        if line.get("error"):
            raise endpoint.error(f"reported an error mid-stream: {line['error']}", "server")
        message = line.get("message") or {}
        content = message.get("content")
        if isinstance(content, str) and content:
            transcript.add(content)
        if message.get("tool_calls"):
            transcript.tool_calls += 1
        if not line.get("done"):
            return False
        reason = str(line.get("done_reason") or "stop")
        transcript.finish_reason = _FINISH.get(reason, reason)
        transcript.set_usage(line.get("prompt_eval_count"), line.get("eval_count"))
        return True

"""The OpenAI-compatible chat completions provider: OpenAI, and every server that speaks its wire protocol.

One base URL setting covers OpenAI itself, vLLM, LM Studio, llama.cpp's server, OpenRouter and
LiteLLM; Azure OpenAI's deployments are the same protocol at another path with another key header.
Replies are always streamed (``stream: true``), with ``stream_options.include_usage`` (unless the
credential turns it off for a server that rejects it) so the last event carries the real token
counts; a server that sends no usage gets the offline estimate instead. What a model accepts
(temperature, stop, the name of the token limit, reasoning effort) comes from :mod:`models`.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from flowdesk.nodes.llm_contract import DeltaSink, LLMRequest, LLMResult
from flowdesk.providers.catalog import AZURE_API_VERSION
from flowdesk.providers.credentials import DEFAULT_BASE_URLS, ResolvedCredential
from flowdesk.providers.http_llm import Endpoint, LLMHttp, decode_event, endpoint_for, request_headers
from flowdesk.providers.models import limit_field, rules_for
from flowdesk.providers.prices import PriceTable
from flowdesk.providers.transcript import Transcript

_FINISH = {"function_call": "tool_calls"}


class OpenAICompatibleProvider:
    """``openai:<model>``; the credential says which server (base URL), which key and which extras."""

    name = "openai"

    def __init__(self, credential: ResolvedCredential, prices: PriceTable, http: LLMHttp) -> None:
        self._credential = credential
        self._prices = prices
        self._http = http

    def _endpoint(self, model: str) -> Endpoint:
        return endpoint_for(self._credential, "/chat/completions")

    @property
    def _official(self) -> bool:
        return self._credential.base_url.rstrip("/") == DEFAULT_BASE_URLS["openai"]

    def body(self, request: LLMRequest, notes: list[str] | None = None) -> dict[str, Any]:
        """The request body, with only the parameters the model takes (``notes`` says what was left out)."""
        rules = rules_for(request.model)
        notes = notes if notes is not None else []
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages.append({"role": "user", "content": request.prompt})
        body: dict[str, Any] = {"model": request.model, "messages": messages, "stream": True}
        info = self._credential.info
        if info is None or info.stream_options:
            body["stream_options"] = {"include_usage": True}
        if rules.temperature:
            body["temperature"] = request.temperature
        body[limit_field(request.model, self._official)] = request.max_tokens
        if request.stop and rules.stop:
            body["stop"] = list(request.stop)
        elif request.stop:
            notes.append(f"{request.model} takes no stop sequences; they were not sent")
        if request.reasoning_effort and rules.reasoning_effort:
            body["reasoning_effort"] = request.reasoning_effort
        elif request.reasoning_effort:
            notes.append(f"{request.model} is not a reasoning model; reasoning_effort was not sent")
        if request.output_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.output_schema, "strict": False},
            }
        return body

    async def complete(self, request: LLMRequest, on_delta: DeltaSink) -> LLMResult:
        """Stream one chat completion; deltas go to ``on_delta`` as they arrive."""
        endpoint = self._endpoint(request.model)
        headers = request_headers(self._credential)
        transcript = Transcript(request, on_delta, endpoint.redactor)
        body = self.body(request, transcript.notes)
        finished = False
        with transcript.keeping_usage(self._prices, request.model):
            events = self._http.stream_events(endpoint, headers, body)
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

    async def list_models(self) -> list[str]:
        """The model ids the server lists at ``/models``."""
        endpoint = endpoint_for(self._credential, "/models")
        data = await self._http.get_json(endpoint, request_headers(self._credential))
        return sorted(str(m["id"]) for m in data.get("data") or [] if isinstance(m, dict) and m.get("id"))

    @staticmethod
    def _take(chunk: dict[str, Any], transcript: Transcript, endpoint: Endpoint) -> None:
        """One streamed chunk: text deltas, tool calls, a finish reason, or the usage of the whole call."""
        error = chunk.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise endpoint.error(f"reported an error mid-stream: {message}", "server")
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if isinstance(content, str) and content:
                transcript.add(content)
            if delta.get("tool_calls") or delta.get("function_call"):
                transcript.tool_calls += 1
            reason = choice.get("finish_reason")
            if reason:
                transcript.finish_reason = _FINISH.get(str(reason), str(reason))
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            transcript.set_usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))
            prompt = usage.get("prompt_tokens_details") or {}
            completion = usage.get("completion_tokens_details") or {}
            transcript.set_details(
                prompt.get("cached_tokens") if isinstance(prompt, dict) else None,
                completion.get("reasoning_tokens") if isinstance(completion, dict) else None,
            )


class AzureOpenAIProvider(OpenAICompatibleProvider):
    """``azure:<deployment>``: the same protocol at ``/openai/deployments/<deployment>``, with ``api-version``."""

    name = "azure"

    def _endpoint(self, model: str) -> Endpoint:
        return self._azure(f"/openai/deployments/{model}/chat/completions")

    def _azure(self, path: str) -> Endpoint:
        info = self._credential.info
        version = (info.api_version if info is not None else None) or AZURE_API_VERSION
        return endpoint_for(self._credential, path, extra_params=(("api-version", version),))

    @property
    def _official(self) -> bool:
        return True  # Azure takes max_completion_tokens like OpenAI's own API

    async def list_models(self) -> list[str]:
        """The deployments (their names are what ``azure:`` models name)."""
        data = await self._http.get_json(self._azure("/openai/deployments"), request_headers(self._credential))
        return sorted(str(m["id"]) for m in data.get("data") or [] if isinstance(m, dict) and m.get("id"))

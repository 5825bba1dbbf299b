"""A fake LLM server on 127.0.0.1 that speaks both wire protocols, for tests that must use real HTTP.

It answers ``POST .../chat/completions`` the way OpenAI-compatible servers do (Azure's deployment
paths too), ``POST .../v1/messages`` the way Anthropic does, both as server-sent event streams in
chunked encoding, and ``POST /api/chat`` the way Ollama does (newline-delimited JSON); ``GET
.../models`` and ``GET /api/tags`` list :attr:`FakeLLMServer.models`. Like OpenAI, it refuses
``temperature``, ``stop`` and ``max_tokens`` for reasoning models (gpt-5, o3, o4-mini). It
misbehaves on request: a slow first byte, a stream cut mid-way, malformed JSON, an HTTP error
with headers, 50 MB of reply, or no answer at all. It runs its own asyncio loop in a thread, so it
serves the test process and the flowdesk subprocesses a test starts alike.

Scenarios are queued with :meth:`FakeLLMServer.script`; each request takes the next one, and
``ok()`` is served when the queue is empty. Every request is recorded (path, headers, JSON body).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TEXT = "Tests make change safe."


@dataclass(frozen=True)
class Scenario:
    kind: str = "ok"
    text: str = DEFAULT_TEXT
    delay_s: float = 0.0
    status: int = 200
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    cut_after: int = 2
    size: int = 0
    usage: tuple[int, int] | None = (11, 7)
    finish: str = "stop"
    """stop, length (cut at max_tokens) or tool_calls (a tool call and no text)."""
    details: tuple[int, int] = (0, 0)
    """(cached prompt tokens, reasoning tokens) in the usage report."""


def ok(
    text: str = DEFAULT_TEXT,
    usage: tuple[int, int] | None = (11, 7),
    finish: str = "stop",
    details: tuple[int, int] = (0, 0),
) -> Scenario:
    return Scenario("ok", text=text, usage=usage, finish=finish, details=details)


def tool_call_only() -> Scenario:
    return Scenario("ok", text="", finish="tool_calls")


REASONING = re.compile(r"^(gpt-5(?!-chat)|o1|o3|o4)")


def openai_refusal(body: dict[str, Any]) -> str | None:
    """What OpenAI says to a reasoning model's request with a parameter it does not take."""
    if not REASONING.match(str(body.get("model", "")).rsplit("/", 1)[-1]):
        return None
    if "temperature" in body and body["temperature"] != 1:
        return f"Unsupported value: 'temperature' does not support {body['temperature']} with this model."
    if "stop" in body:
        return "Unsupported parameter: 'stop' is not supported with this model."
    if "max_tokens" in body:
        return "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens'."
    return None


def slow_first_byte(delay_s: float, text: str = DEFAULT_TEXT) -> Scenario:
    return Scenario("ok", text=text, delay_s=delay_s)


def cut(after: int = 2, text: str = DEFAULT_TEXT) -> Scenario:
    """Send ``after`` deltas, then drop the connection in the middle of the chunked body."""
    return Scenario("cut", text=text, cut_after=after)


def malformed(text: str = DEFAULT_TEXT) -> Scenario:
    return Scenario("malformed", text=text)


def status(code: int, body: str = "", headers: dict[str, str] | None = None) -> Scenario:
    return Scenario("status", status=code, body=body, headers=tuple((headers or {}).items()))


def huge(size: int = 50 * 1024 * 1024) -> Scenario:
    return Scenario("huge", size=size)


def hang() -> Scenario:
    return Scenario("hang")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeLLMServer:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    models: list[str] = field(default_factory=lambda: ["model-a", "model-b"])
    _queue: deque[Scenario] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stopped: asyncio.Event | None = None

    # ------------------------------------------------------------ control (called from the test thread)
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def script(self, *scenarios: Scenario) -> None:
        with self._lock:
            self._queue.extend(scenarios)

    def start(self) -> FakeLLMServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True, name="fake-llm")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake LLM server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)

    def _next(self) -> Scenario:
        with self._lock:
            return self._queue.popleft() if self._queue else ok()

    # ------------------------------------------------------------ serving (the server's own thread)
    def _serve(self, ready: threading.Event) -> None:
        asyncio.run(self._main(ready))

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._client, self.host, 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stopped.wait()
            server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                scenario = ok() if request.method == "GET" else self._next()  # a model list takes no scenario
                keep = await self._answer(request, scenario, writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(self, request: Recorded, scenario: Scenario, writer: asyncio.StreamWriter) -> bool:
        """Serve one scenario; False when the connection must not be reused."""
        path = request.path.split("?", 1)[0]
        if request.method == "GET" and scenario.kind == "ok":
            return await self._list(path, writer)
        refusal = openai_refusal(request.body) if path.endswith("/chat/completions") else None
        if refusal and scenario.kind == "ok":
            scenario = status(400, json.dumps({"error": {"message": refusal, "type": "invalid_request_error"}}))
        if scenario.kind == "hang":
            await asyncio.Event().wait()  # until the client goes away or the server stops
        if scenario.delay_s:
            await asyncio.sleep(scenario.delay_s)
        if scenario.kind == "status":
            body = scenario.body.encode()
            head = [f"HTTP/1.1 {scenario.status} Error", "content-type: application/json"]
            head += [f"{k}: {v}" for k, v in scenario.headers]
            head += [f"content-length: {len(body)}"]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            await writer.drain()
            return True
        ollama = path.endswith("/api/chat")
        kind = "application/x-ndjson" if ollama else "text/event-stream"
        writer.write(f"HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ntransfer-encoding: chunked\r\n\r\n".encode())
        if scenario.kind == "huge":
            await _flood(writer, scenario.size)
            return False
        make = ollama_lines if ollama else anthropic_events if path.endswith("/messages") else openai_events
        events = make(scenario, request.body)
        for index, event in enumerate(events):
            if scenario.kind == "cut" and index == scenario.cut_after + 1:
                writer.write(b"5\r\nda")  # half a chunk, then the connection drops
                await writer.drain()
                return False
            broken = scenario.kind == "malformed" and index == 2
            bad = (
                '{"message": {"content": "oops"\n' if ollama else 'data: {"choices": [{"delta": {"content": "oops"\n\n'
            )
            await _chunk(writer, bad if broken else event)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    async def _list(self, path: str, writer: asyncio.StreamWriter) -> bool:
        """A model list: Ollama's /api/tags, else the OpenAI/Anthropic /models shape."""
        if path.endswith("/api/tags"):
            data: dict[str, Any] = {"models": [{"name": m, "model": m, "size": 1} for m in self.models]}
        elif path.endswith("/models") or path.endswith("/deployments"):
            data = {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
        else:
            data = {"error": {"message": f"no route {path}"}}
        body = json.dumps(data).encode()
        code = "404 Not Found" if "error" in data else "200 OK"
        head = f"HTTP/1.1 {code}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        return True


async def _chunk(writer: asyncio.StreamWriter, text: str) -> None:
    data = text.encode()
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    await writer.drain()


async def _flood(writer: asyncio.StreamWriter, size: int) -> None:
    """``size`` bytes of SSE comment lines, written lazily (never held in memory) until the client leaves."""
    line = b": " + b"x" * 65_000 + b"\n"
    sent = 0
    while sent < size:
        writer.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        await writer.drain()
        sent += len(line)
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def _read_request(reader: asyncio.StreamReader) -> Recorded | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    raw = await reader.readexactly(length) if length else b""
    body = json.loads(raw) if raw else {}
    return Recorded(method, path, headers, body)


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def openai_events(scenario: Scenario, body: dict[str, Any]) -> list[str]:
    model = body.get("model", "fake")
    events = []
    for piece in _pieces(scenario.text):
        chunk = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": model,
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        events.append(f"data: {json.dumps(chunk)}\n\n")
    if scenario.finish == "tool_calls":
        call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
        chunk = {"id": "c1", "model": model, "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}
        events.append(f"data: {json.dumps(chunk)}\n\n")
    done = {"id": "c1", "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": scenario.finish}]}
    events.append(f"data: {json.dumps(done)}\n\n")
    if scenario.usage and (body.get("stream_options") or {}).get("include_usage"):
        usage = {
            "prompt_tokens": scenario.usage[0],
            "completion_tokens": scenario.usage[1],
            "total_tokens": sum(scenario.usage),
            "prompt_tokens_details": {"cached_tokens": scenario.details[0]},
            "completion_tokens_details": {"reasoning_tokens": scenario.details[1]},
        }
        events.append(f"data: {json.dumps({'id': 'c1', 'choices': [], 'usage': usage})}\n\n")
    events.append("data: [DONE]\n\n")
    return events


def anthropic_events(scenario: Scenario, body: dict[str, Any]) -> list[str]:
    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    tokens_in, tokens_out = scenario.usage or (None, None)
    start_usage = {"input_tokens": tokens_in, "output_tokens": 1} if scenario.usage else {}
    if scenario.usage and scenario.details[0]:  # Anthropic counts cache reads apart from input_tokens
        start_usage |= {"input_tokens": tokens_in - scenario.details[0], "cache_read_input_tokens": scenario.details[0]}
    events = [
        event(
            "message_start",
            {"type": "message_start", "message": {"id": "m1", "model": body.get("model"), "usage": start_usage}},
        ),
        event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ": keep-alive comment\n\n",
    ]
    events += [
        event(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
        )
        for piece in _pieces(scenario.text)
    ]
    events.append(event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    delta_usage = {"output_tokens": tokens_out} if scenario.usage else {}
    reason = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}[scenario.finish]
    events.append(
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": reason}, "usage": delta_usage})
    )
    events.append(event("message_stop", {"type": "message_stop"}))
    return events


def ollama_lines(scenario: Scenario, body: dict[str, Any]) -> list[str]:
    """Ollama's /api/chat stream: one JSON object per line, the last with ``done`` and the counts."""
    model = body.get("model", "fake")
    lines = [
        json.dumps({"model": model, "message": {"role": "assistant", "content": piece}, "done": False}) + "\n"
        for piece in _pieces(scenario.text)
    ]
    last: dict[str, Any] = {
        "model": model,
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": scenario.finish,
    }
    if scenario.finish == "tool_calls":
        last["done_reason"] = "stop"
        last["message"]["tool_calls"] = [{"function": {"name": "lookup", "arguments": {}}}]
    if scenario.usage:
        last |= {"prompt_eval_count": scenario.usage[0], "eval_count": scenario.usage[1]}
    lines.append(json.dumps(last) + "\n")
    return lines

"""A fake LLM server on 127.0.0.1 that speaks both wire protocols, for tests that must use real HTTP.

It answers ``POST .../chat/completions`` the way OpenAI-compatible servers do and ``POST
.../v1/messages`` the way Anthropic does, always as a server-sent event stream in chunked encoding,
and misbehaves on request: a slow first byte, a stream cut mid-way, malformed JSON, an HTTP error
with headers, 50 MB of reply, or no answer at all. It runs its own asyncio loop in a thread, so it
serves the test process and the flowdesk subprocesses a test starts alike.

Scenarios are queued with :meth:`FakeLLMServer.script`; each request takes the next one, and
``ok()`` is served when the queue is empty. Every request is recorded (path, headers, JSON body).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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


def ok(text: str = DEFAULT_TEXT, usage: tuple[int, int] | None = (11, 7)) -> Scenario:
    return Scenario("ok", text=text, usage=usage)


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
                keep = await self._answer(request, self._next(), writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(self, request: Recorded, scenario: Scenario, writer: asyncio.StreamWriter) -> bool:
        """Serve one scenario; False when the connection must not be reused."""
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
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        anthropic = request.path.endswith("/messages")
        if scenario.kind == "huge":
            await _flood(writer, scenario.size)
            return False
        events = (anthropic_events if anthropic else openai_events)(scenario, request.body)
        for index, event in enumerate(events):
            if scenario.kind == "cut" and index == scenario.cut_after + 1:
                writer.write(b"5\r\nda")  # half a chunk, then the connection drops
                await writer.drain()
                return False
            broken = scenario.kind == "malformed" and index == 2
            await _chunk(writer, 'data: {"choices": [{"delta": {"content": "oops"\n\n' if broken else event)
        writer.write(b"0\r\n\r\n")
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
    done = {"id": "c1", "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    events.append(f"data: {json.dumps(done)}\n\n")
    if scenario.usage and (body.get("stream_options") or {}).get("include_usage"):
        usage = {
            "prompt_tokens": scenario.usage[0],
            "completion_tokens": scenario.usage[1],
            "total_tokens": sum(scenario.usage),
        }
        events.append(f"data: {json.dumps({'id': 'c1', 'choices': [], 'usage': usage})}\n\n")
    events.append("data: [DONE]\n\n")
    return events


def anthropic_events(scenario: Scenario, body: dict[str, Any]) -> list[str]:
    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    tokens_in, tokens_out = scenario.usage or (None, None)
    start_usage = {"input_tokens": tokens_in, "output_tokens": 1} if scenario.usage else {}
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
    events.append(
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": delta_usage})
    )
    events.append(event("message_stop", {"type": "message_stop"}))
    return events

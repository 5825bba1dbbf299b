"""A dead server does not eat every node's retries: after N consecutive failed calls to one host the
circuit breaker opens, later calls fail fast (``circuit_open``, never retried) for the cool-down, then
one trial call goes through, and a recovered server closes the breaker. Against a real local server."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support.wfbuild import node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.clock import FakeClock
from flowdesk.engine.http import HttpxTransport
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import CircuitBreakerSettings, RetryPolicy, Settings, Workflow
from flowdesk.nodes.kinds import BUILTIN_KINDS
from flowdesk.nodes.llm_contract import LLMError, LLMRequest, LLMResult
from flowdesk.nodes.registry import Registry

CATALOG = Registry(BUILTIN_KINDS)
RETRY = {"max_attempts": 3, "initial_delay_s": 0.01, "jitter": 0, "retry_on": ["server", "network", "rate_limit"]}


@dataclass
class _Behaviour:
    status: int = 503
    hits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        behaviour: _Behaviour = self.server.behaviour  # type: ignore[attr-defined]
        with behaviour.lock:
            behaviour.hits.append(self.path)
            status = behaviour.status
        body = b'{"ok": true}' if status == 200 else b"down"
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def _server() -> Iterator[tuple[str, _Behaviour]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour = _Behaviour()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", behaviour
    finally:
        server.shutdown()
        server.server_close()


def _fan_out(url: str, *, count: int = 20, concurrency: int = 8, failures: int = 5, cooldown_s: float = 30) -> Workflow:
    """``count`` http nodes calling the same host, each going on after its error (on_error: continue)."""
    nodes = [node(f"n{i:02d}", "http", url=f"{url}/item/{i}", retry=RETRY, on_error="continue") for i in range(count)]
    wf = workflow(nodes, concurrency=concurrency)
    breaker = CircuitBreakerSettings(failures=failures, cooldown_s=cooldown_s)
    return wf.model_copy(update={"settings": Settings(max_concurrency=concurrency, circuit_breaker=breaker)})


async def _run(wf: Workflow, services: EngineServices) -> tuple[Any, list[Any]]:
    bus = EventBus()
    sub = bus.subscribe(maxsize=100_000)
    result = await run_workflow(wf, CATALOG, services, bus=bus)
    return result, sub.drain()


def _errors(events: list[Any]) -> dict[str, list[str]]:
    """Each node's failed attempts' error classes, in order (retried ones, then the last)."""
    found: dict[str, list[str]] = {}
    for e in events:
        if e.type in ("node_retrying", "node_failed"):
            found.setdefault(e.node_id, []).append(e.error.error_class)
    return found


def _logs(events: list[Any]) -> list[str]:
    return [e.message for e in events if e.type == "node_log" and "circuit breaker" in e.message]


def test_a_fan_out_to_a_dead_host_makes_n_requests_not_one_per_attempt() -> None:
    async def scenario() -> None:
        with _server() as (url, behaviour):
            transport = HttpxTransport()
            try:
                result, events = await _run(_fan_out(url, concurrency=1), EngineServices(http=transport))
            finally:
                await transport.aclose()
        assert len(behaviour.hits) == 5  # without the breaker: 20 nodes x 3 attempts = 60
        errors = _errors(events)
        assert errors["n00"] == ["server", "server", "server"]
        assert errors["n01"] == ["server", "server", "circuit_open"]  # the 5th failure opened it
        assert all(errors[f"n{i:02d}"] == ["circuit_open"] for i in range(2, 20))  # never retried
        assert result.status == "succeeded"  # every node went on with its error, as configured
        logs = _logs(events)
        assert logs[0].startswith("circuit breaker for host 127.0.0.1:")
        assert "open after 5 consecutive failed calls; calls fail fast for 30 s" in logs[0]

    asyncio.run(scenario())


def test_a_host_where_nothing_listens_opens_the_breaker_after_n_connection_errors() -> None:
    with socket.socket() as probe:  # a port nothing listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    async def scenario() -> list[Any]:
        transport = HttpxTransport()
        try:
            _, events = await _run(_fan_out(url, concurrency=1), EngineServices(http=transport))
        finally:
            await transport.aclose()
        return events

    errors = _errors(asyncio.run(scenario()))
    assert errors["n00"] == ["network", "network", "network"]
    assert errors["n01"] == ["network", "network", "circuit_open"]
    assert all(errors[f"n{i:02d}"] == ["circuit_open"] for i in range(2, 20))


def test_with_concurrency_only_the_calls_already_out_add_to_the_n() -> None:
    async def scenario() -> None:
        with _server() as (url, behaviour):
            transport = HttpxTransport()
            try:
                _, events = await _run(_fan_out(url, concurrency=8), EngineServices(http=transport))
            finally:
                await transport.aclose()
        assert 5 <= len(behaviour.hits) <= 5 + 7  # the 8 first calls leave together, before any answer
        assert sum(c.count("circuit_open") for c in _errors(events).values()) >= 20 - 12

    asyncio.run(scenario())


def test_client_errors_do_not_open_the_breaker() -> None:
    async def scenario() -> None:
        with _server() as (url, behaviour):
            behaviour.status = 404
            transport = HttpxTransport()
            try:
                _, events = await _run(_fan_out(url, concurrency=1), EngineServices(http=transport))
            finally:
                await transport.aclose()
        assert len(behaviour.hits) == 20  # each node asked once: a 404 is the request's fault, not the host's
        assert all(c == ["node"] for c in _errors(events).values())
        assert _logs(events) == []

    asyncio.run(scenario())


def test_after_the_cool_down_one_trial_call_goes_and_a_recovered_server_closes_the_breaker() -> None:
    async def scenario() -> None:
        with _server() as (url, behaviour):
            transport = HttpxTransport()
            services = EngineServices(http=transport)  # one breaker state for every run of this "process"
            try:
                await _run(_fan_out(url, concurrency=1, cooldown_s=0.4), services)
                assert len(behaviour.hits) == 5
                behaviour.status = 200
                _, events = await _run(_fan_out(url, count=3, cooldown_s=0.4), services)
                assert len(behaviour.hits) == 5  # still cooling down: a new run fails fast too
                assert all(c == ["circuit_open"] for c in _errors(events).values())
                await asyncio.sleep(0.45)
                result, events = await _run(_fan_out(url, cooldown_s=0.4), services)
            finally:
                await transport.aclose()
        assert result.ok and _errors(events) == {}
        assert len(behaviour.hits) == 5 + 20
        logs = _logs(events)
        assert len(logs) == 2
        assert "half-open: the cool-down is over, one trial call goes through" in logs[0]
        assert "closed: a call succeeded again" in logs[1]
        assert services.breakers.state(logs[0].split(" for ")[1].split(" half-open")[0]) == "closed"

    asyncio.run(scenario())


def test_a_failed_trial_opens_the_breaker_again_and_the_waiting_calls_fail_fast() -> None:
    async def scenario() -> None:
        with _server() as (url, behaviour):
            transport = HttpxTransport()
            services = EngineServices(http=transport)
            try:
                await _run(_fan_out(url, concurrency=1, cooldown_s=0.3), services)
                await asyncio.sleep(0.35)
                _, events = await _run(_fan_out(url, concurrency=8, cooldown_s=0.3), services)
            finally:
                await transport.aclose()
        assert len(behaviour.hits) == 5 + 1  # only the trial reached the server
        errors = _errors(events)
        assert sorted(errors.values()).count(["circuit_open"]) == 19
        assert ["server", "circuit_open"] in errors.values()  # the trial's node: its retry is refused
        assert "open again: the trial call failed" in _logs(events)[1]

    asyncio.run(scenario())


class _DownProvider:
    name = "flaky"

    def __init__(self, error_class: str) -> None:
        self.calls = 0
        self.error_class = error_class

    async def complete(self, request: LLMRequest, on_delta: Any) -> LLMResult:
        self.calls += 1
        raise LLMError("the server answered HTTP 502", self.error_class)


class _Resolver:
    def __init__(self, provider: _DownProvider) -> None:
        self.provider = provider
        self.asked: list[str | None] = []

    def resolve(self, provider: str, credential: str | None) -> Any:
        self.asked.append(credential)
        return self.provider


@pytest.mark.parametrize(("error_class", "calls"), [("server", 5), ("auth", 10)])
def test_llm_calls_break_per_credential(error_class: str, calls: int) -> None:
    """Ten LLM nodes on one credential: a failing server is called 5 times; an auth error (the request's
    fault, not retried) never opens the breaker, so each node asks once."""
    provider = _DownProvider(error_class)
    retry = {**RETRY, "initial_delay_s": 1.0}
    nodes = [
        node(f"ask{i}", "llm", model="flaky:m1", prompt="hi", credential="team_key", retry=retry, on_error="continue")
        for i in range(10)
    ]
    wf = workflow(nodes, concurrency=1)
    services = EngineServices(providers=_Resolver(provider), clock=FakeClock())
    result = asyncio.run(run_workflow(wf, CATALOG, services))
    assert result.status == "succeeded" and provider.calls == calls
    expected = "open" if error_class == "server" else "closed"
    assert services.breakers.state("credential team_key") == expected


def test_circuit_open_is_never_retried_even_by_retry_on_any() -> None:
    assert not RetryPolicy(max_attempts=5, retry_on=("any",)).retries("circuit_open")
    assert RetryPolicy(max_attempts=5, retry_on=("any",)).retries("server")

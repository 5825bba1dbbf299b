"""The http node against a hostile local server (127.0.0.1 only): an answer trickled a byte at a
time, JSON nested past Python's limit, numbers past its digit limit, lone surrogates; and the URL's
own query string kept."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.clock import FakeClock
from flowdesk.engine.http import HttpxTransport
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.kinds.llm import DEFAULT_HTTP_DEADLINE_S, HTTPConfig

GUARD_S = 30.0
"""Wall-clock guard around each run, so a node that never ends fails the test instead of hanging it."""
TRICKLE_STEP_S = 0.2
TRICKLE_MAX_BYTES = 100


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, data: bytes) -> None:
        try:
            for index in range(min(len(data), TRICKLE_MAX_BYTES)):
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
                time.sleep(TRICKLE_STEP_S)
        except OSError:
            pass  # the client gave up, as it should
        self.close_connection = True

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/echo":
            query = parse_qsl(urlsplit(self.path).query)
            self._send(json.dumps({"path": path, "query": query}).encode())
        elif path == "/trickle-headers":
            self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: " + b"a" * 200)
        elif path == "/trickle-body":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self._trickle(b"x" * 1000)
        elif path == "/deep":
            self._send(b"[" * 100_000 + b"]" * 100_000)
        elif path == "/huge-int":
            self._send(b'{"n": ' + b"9" * 5000 + b"}")
        elif path == "/limited":
            self.send_response(429)
            self.send_header("Retry-After", dict(parse_qsl(urlsplit(self.path).query))["wait"])
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"slow")
        elif path == "/surrogate":
            self._send(b'{"text": "a\\ud800b"}')
        else:
            self.send_error(404)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _run(wf: Any, clock: FakeClock | None = None) -> Any:
    async def go() -> Any:
        transport = HttpxTransport()
        try:
            services = EngineServices(http=transport, clock=clock) if clock else EngineServices(http=transport)
            return await asyncio.wait_for(run_workflow(wf, catalog_with([]), services), GUARD_S)
        finally:
            await transport.aclose()

    try:
        return asyncio.run(go())
    except TimeoutError:
        pytest.fail(f"the run was still going after {GUARD_S} s")


def _get(url: str, **config: Any) -> Any:
    return workflow(
        [node("get", "http", url=url, **config), node("out", "output", name="body")], ["get.body -> out.value"]
    )


def test_the_urls_own_query_reaches_the_server(server: str) -> None:
    result = _run(_get(server + "/echo?q=flowdesk&page=2"))
    assert result.ok, result.error
    assert result.outputs["body"] == {"path": "/echo", "query": [["q", "flowdesk"], ["page", "2"]]}


def test_a_query_config_merges_with_the_urls_parameters(server: str) -> None:
    result = _run(_get(server + "/echo?q=flowdesk&page=2", query={"page": "{{ 1 + 2 }}", "lang": "en"}))
    assert result.ok, result.error
    assert result.outputs["body"]["query"] == [["q", "flowdesk"], ["page", "3"], ["lang", "en"]]


@pytest.mark.parametrize("path", ["/trickle-headers", "/trickle-body"])
def test_a_trickling_server_cannot_hold_the_node_past_its_deadline(server: str, path: str) -> None:
    result = _run(workflow([node("get", "http", url=server + path, deadline_s=1)]))
    assert result.status == "failed"
    assert result.error.message.endswith(
        f"GET {server}{path} did not finish within 1 s (the node's deadline_s): the server sent its answer too slowly"
    )


def test_every_http_node_has_a_whole_request_deadline_by_default() -> None:
    assert HTTPConfig(url="http://x").deadline_s == DEFAULT_HTTP_DEADLINE_S == 300


def test_json_nested_past_the_limit_is_a_sentence(server: str) -> None:
    result = _run(_get(server + "/deep"))
    assert result.status == "failed"
    assert result.error.message == (
        "node 'get' (get) failed: the response's JSON is nested too deeply to read (more levels than Python can follow)"
    )


def test_a_number_past_pythons_digit_limit_is_a_sentence(server: str) -> None:
    result = _run(_get(server + "/huge-int"))
    assert result.status == "failed"
    assert "a number of 5,000 digits; numbers of more than 4,300 digits cannot be read" in result.error.message
    assert "Exceeds the limit" not in result.error.message


def test_a_lone_surrogate_in_a_response_passes_through(server: str) -> None:
    wf = workflow(
        [
            node("get", "http", url=server + "/surrogate"),
            node("len", "transform", expression="inputs.input.text|length"),
            node("out", "output", name="n"),
        ],
        ["get.body -> len.input", "len.output -> out.value"],
    )
    result = _run(wf)
    assert result.ok, result.error
    assert result.outputs["n"] == 3


def test_a_lone_surrogate_in_a_request_is_a_sentence(server: str) -> None:
    body_wf = workflow([node("post", "http", method="POST", url=server + "/echo", body="{{ '\\ud800' }}")])
    result = _run(body_wf)
    assert result.status == "failed"
    assert "a lone surrogate that is not valid text, so it cannot be sent" in result.error.message
    header_wf = workflow([node("get", "http", url=server + "/echo", headers={"X-Name": "{{ 'é\\ud800' }}"})])
    result = _run(header_wf)
    assert result.status == "failed"
    assert "cannot be sent: it holds" in result.error.message and "Traceback" not in result.error.message


RETRY = {"max_attempts": 3, "initial_delay_s": 0.5, "max_delay_s": 60, "jitter": 0, "retry_on": ["rate_limit"]}


def test_an_http_429s_retry_after_is_waited_within_the_cap(server: str) -> None:
    clock = FakeClock()
    result = _run(workflow([node("get", "http", url=server + "/limited?wait=7", retry=RETRY)]), clock)
    assert result.status == "failed" and clock.sleeps == [7.0, 7.0]  # two retries, each after 7 s


def test_an_http_429s_retry_after_past_the_cap_fails_at_once(server: str) -> None:
    clock = FakeClock()
    result = _run(workflow([node("get", "http", url=server + "/limited?wait=3600", retry=RETRY)]), clock)
    assert result.status == "failed" and clock.sleeps == []
    assert result.error.message.endswith(
        "answered HTTP 429: slow; the server asked to wait 3600 s before trying again (Retry-After), longer than "
        "the retry policy's max_delay_s (60 s), so the node does not retry"
    )

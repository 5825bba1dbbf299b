"""Built-in node kinds run through the engine: llm (offline provider), http (a real local server), tool."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support.wfbuild import WorkflowsByName, catalog_with, node, workflow

from flowdesk.engine.bus import EventBus
from flowdesk.engine.clock import FakeClock
from flowdesk.engine.events import LLMDelta, NodeRetrying, NodeSucceeded
from flowdesk.engine.http import HttpxTransport
from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.tools import default_tools
from flowdesk.providers.resolver import default_providers
from flowdesk.providers.secrets import EnvironmentSecrets
from flowdesk.providers.tokens import count_tokens


def _services(**kw: Any) -> EngineServices:
    return EngineServices(providers=default_providers(), tools=default_tools(), **kw)


async def _run_collect(wf: Any, services: EngineServices) -> tuple[Any, list[Any]]:
    bus = EventBus()
    sub = bus.subscribe()
    result = await run_workflow(wf, catalog_with([]), services, bus=bus)
    return result, sub.drain()


def test_llm_streams_deltas_and_counts_tokens() -> None:
    wf = workflow(
        [
            node("ask", "llm", model="offline:echo", prompt="Say hello to {{ run.inputs.who }}"),
            node("out", "output", name="reply"),
        ],
        ["ask.text -> out.value"],
        inputs=[{"name": "who", "type": "string"}],
    )  # type: ignore[list-item]
    result, events = asyncio.run(_run_with_inputs(wf, {"who": "Ada"}))
    assert result.ok
    reply = result.outputs["reply"]
    assert "Say hello to Ada" in reply
    deltas = [e.text for e in events if isinstance(e, LLMDelta)]
    assert len(deltas) > 1 and "".join(deltas) == reply
    (done,) = [e for e in events if isinstance(e, NodeSucceeded) and e.node_id == "ask"]
    assert done.usage.input_tokens == count_tokens("Say hello to Ada")
    assert done.usage.output_tokens == count_tokens(reply)
    assert result.usage.output_tokens == done.usage.output_tokens


async def _run_with_inputs(wf: Any, inputs: dict[str, Any]) -> tuple[Any, list[Any]]:
    bus = EventBus()
    sub = bus.subscribe()
    result = await run_workflow(wf, catalog_with([]), _services(), inputs, bus=bus)
    return result, sub.drain()


def test_llm_json_output_schema_fills_the_json_port() -> None:
    schema = {
        "type": "object",
        "required": ["ok", "score"],
        "properties": {"ok": {"type": "boolean"}, "score": {"type": "integer", "minimum": 1, "maximum": 5}},
    }
    wf = workflow(
        [
            node("judge", "llm", model="offline:lorem", prompt="rate this", output_schema=schema),
            node("out", "output", name="verdict"),
        ],
        ["judge.json -> out.value"],
    )
    result, _ = asyncio.run(_run_collect(wf, _services()))
    verdict = result.outputs["verdict"]
    assert isinstance(verdict["ok"], bool) and 1 <= verdict["score"] <= 5


def test_injected_provider_errors_are_retried_per_policy() -> None:
    # with seed 1 and this prompt, the offline provider fails attempts 1-3 and lets attempt 4 through
    wf = workflow(
        [
            node(
                "flaky",
                "llm",
                model="offline:echo?error_rate=0.5&seed=1",
                prompt="hi",
                retry={"max_attempts": 5, "initial_delay_s": 1, "retry_on": ["server"]},
            )
        ]
    )
    clock = FakeClock()
    result, events = asyncio.run(_run_collect(wf, _services(clock=clock)))
    assert result.ok
    retries = [e for e in events if isinstance(e, NodeRetrying)]
    assert [e.attempt for e in retries] == [1, 2, 3]
    assert all(e.error.error_class == "server" for e in retries)
    assert clock.sleeps == pytest.approx([1, 2, 4], rel=0.11)


def test_unknown_provider_fails_with_a_clear_message() -> None:
    wf = workflow([node("x", "llm", model="nosuch:model", prompt="hi")])
    result, _ = asyncio.run(_run_collect(wf, _services()))
    assert result.status == "failed" and "no LLM provider 'nosuch'" in result.error.message


def test_template_error_names_node_field_and_expression() -> None:
    wf = workflow([node("x", "llm", model="offline:echo", prompt="Hi {{ inputs.nmae }}")])
    result, _ = asyncio.run(_run_collect(wf, _services()))
    message = result.error.message
    assert "node 'x' (x)" in message and "prompt" in message and "nmae" in message and "{{ inputs.nmae }}" in message


class _Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(
        self, status: int, body: Any, ctype: str = "application/json", headers: dict[str, str] | None = None
    ) -> None:
        data = (json.dumps(body) if ctype == "application/json" else str(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        count = _Handler.hits[self.path] = _Handler.hits.get(self.path, 0) + 1
        if self.path.startswith("/items"):
            self._reply(200, {"items": [1, 2, 3], "query": self.path.split("?", 1)[-1]})
        elif self.path == "/flaky" and count < 3:
            self._reply(503, {"error": "busy"})
        elif self.path == "/flaky":
            self._reply(200, "finally", "text/plain")
        elif self.path == "/missing":
            self._reply(404, {"error": "no such thing"})
        elif self.path == "/slow":
            import time

            time.sleep(2)
            try:
                self._reply(200, {})
            except (BrokenPipeError, ConnectionResetError):
                pass  # the node timed out and hung up first, as the test wants; nothing to report

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        self._reply(
            201,
            {
                "got": json.loads(body),
                "auth_ok": self.headers.get("Authorization") == "Bearer s3cret",
                "tag": self.headers.get("X-Tag"),
            },
        )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


async def _http_run(wf: Any, **kw: Any) -> tuple[Any, list[Any]]:
    transport = HttpxTransport()
    try:
        return await _run_collect(wf, _services(http=transport, **kw))
    finally:
        await transport.aclose()


def test_http_get_json_with_templated_query(server: str) -> None:
    wf = workflow(
        [node("get", "http", url=server + "/items", query={"page": "{{ 1 + 1 }}"}), node("out", "output", name="body")],
        ["get.body -> out.value"],
    )
    result, _ = asyncio.run(_http_run(wf))
    assert result.ok and result.outputs["body"] == {"items": [1, 2, 3], "query": "page=2"}


def test_http_post_with_templated_body_header_and_credential(server: str) -> None:
    wf = workflow(
        [
            node(
                "post",
                "http",
                method="POST",
                url=server + "/things",
                body='{"n": {{ 20 + 22 }}}',
                headers={"X-Tag": "t-{{ 'a' | upper }}"},
                credential="svc",
            ),
            node("status", "output", name="status"),
            node("out", "output", name="body"),
        ],
        ["post.status -> status.value", "post.body -> out.value"],
    )
    secrets = EnvironmentSecrets({"FLOWDESK_CREDENTIAL_SVC": "s3cret"})
    result, events = asyncio.run(_http_run(wf, secrets=secrets))
    assert result.outputs["status"] == 201
    assert result.outputs["body"] == {"got": {"n": 42}, "auth_ok": True, "tag": "t-A"}
    from flowdesk.engine.events import event_to_json

    assert all("s3cret" not in json.dumps(event_to_json(e)) for e in events), "the credential leaked into an event"


def test_http_5xx_retries_then_succeeds_and_4xx_fails_without_retry(server: str) -> None:
    flaky = workflow(
        [
            node("get", "http", url=server + "/flaky", retry={"max_attempts": 4, "initial_delay_s": 0.01}),
            node("out", "output", name="body"),
        ],
        ["get.body -> out.value"],
    )
    result, events = asyncio.run(_http_run(flaky))
    assert result.ok and result.outputs["body"] == "finally"
    assert [e.error.error_class for e in events if isinstance(e, NodeRetrying)] == ["server", "server"]
    missing = workflow(
        [node("get", "http", url=server + "/missing", retry={"max_attempts": 4, "initial_delay_s": 0.01})]
    )
    result, events = asyncio.run(_http_run(missing))
    assert result.status == "failed" and "HTTP 404" in result.error.message
    assert not [e for e in events if isinstance(e, NodeRetrying)]


def test_http_timeout_and_bad_url(server: str) -> None:
    slow = workflow([node("get", "http", url=server + "/slow", timeout_s=0.2)])
    result, _ = asyncio.run(_http_run(slow))
    assert result.status == "failed" and "timed out" in result.error.message
    bad = workflow([node("get", "http", url="ftp://example.com/x")])
    result, _ = asyncio.run(_http_run(bad))
    assert "must start with http" in result.error.message


def test_tool_node_passes_whole_expressions_as_values() -> None:
    wf = workflow(
        [
            node("src", "transform", expression="{'rows': [{'t': 'a'}, {'t': 'b'}]}"),
            node("pick", "tool", tool="json_pick", args={"data": "{{ inputs.input }}", "path": "rows[1].t"}),
            node("shout", "tool", tool="shout", args={"text": "got {{ inputs.input }}"}),
            node("out", "output", name="r"),
        ],
        ["src.output -> pick.input", "pick.output -> shout.input", "shout.output -> out.value"],
    )
    result, _ = asyncio.run(_run_collect(wf, _services()))
    assert result.ok, result.error
    assert result.outputs == {"r": "GOT B!"}


def test_unknown_tool_lists_the_installed_ones() -> None:
    wf = workflow([node("t", "tool", tool="nope")])
    result, _ = asyncio.run(_run_collect(wf, _services()))
    assert "there is no tool 'nope'" in result.error.message and "json_pick" in result.error.message


def test_a_maps_child_runs_count_in_its_tokens_and_the_runs() -> None:
    """Three items through a child with an LLM: what the children spent is the map's, and the run's."""
    child = workflow(
        [
            node("say", "llm", model="offline:echo", prompt="Summarise {{ run.inputs.item }}"),
            node("o", "output", name="s"),
        ],
        ["say.text -> o.value"],
        inputs=[{"name": "item", "type": "any"}],
    )  # type: ignore[list-item]
    parent = workflow(
        [
            node("src", "transform", expression="['alpha', 'beta beta', 'gamma gamma gamma']"),
            node("each", "map", workflow="child"),
            node("ask", "llm", model="offline:echo", prompt="Done"),
            node("out", "output", name="all"),
        ],
        ["src.output -> each.items", "each.results -> out.value", "each.results -> ask.input"],
    )
    result, events = asyncio.run(_run_collect(parent, _services(workflows=WorkflowsByName({"child": child}))))
    assert result.ok, result.error
    children = [e for e in events if type(e).__name__ == "RunFinished" and e.run_id != result.run_id]
    assert len(children) == 3 and all(c.usage.output_tokens > 0 for c in children)
    spent = sum(c.usage.input_tokens for c in children), sum(c.usage.output_tokens for c in children)
    (mapped,) = [
        e for e in events if isinstance(e, NodeSucceeded) and e.node_id == "each" and e.run_id == result.run_id
    ]
    assert (mapped.usage.input_tokens, mapped.usage.output_tokens) == spent
    (asked,) = [e for e in events if isinstance(e, NodeSucceeded) and e.node_id == "ask"]
    assert result.usage.input_tokens == spent[0] + asked.usage.input_tokens
    assert result.usage.output_tokens == spent[1] + asked.usage.output_tokens

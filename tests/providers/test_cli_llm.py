"""The prompt -> LLM example through each real provider with `flowdesk` subprocesses against the loopback
fake: streaming, tokens and cost per step and per run; and the credential leak test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.fake_llm_server import FakeLLMServer, ok, status

from flowdesk.paths import examples_dir

HERE = Path(__file__).parent
KEY = "sk-LEAKCANARY-5f2a9c1e7b3d"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Subprocesses share a file keyring kept in tmp_path (never the user's)."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "support.file_keyring.FileKeyring")
    monkeypatch.setenv("FLOWDESK_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])
    )  # tests/: support
    return dict(os.environ)


def flowdesk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flowdesk", *args], capture_output=True, text=True, input=stdin, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def example_for(tmp_path: Path, provider: str) -> Path:
    """ask_llm.json with its LLM node pointed at ``provider`` through the credential 'fake'."""
    data = json.loads((examples_dir() / "ask_llm.json").read_text())
    model = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-20241022"}[provider]
    for item in data["nodes"]:
        if item["kind"] == "llm":
            item["config"].update(model=f"{provider}:{model}", credential="fake")
    path = tmp_path / f"ask_{provider}.json"
    path.write_text(json.dumps(data))
    return path


def add_fake_credential(server: FakeLLMServer, provider: str) -> None:
    base = server.url + ("/v1" if provider == "openai" else "")
    proc = flowdesk("credentials", "add", "fake", "--provider", provider, "--base-url", base, stdin=KEY + "\n")
    assert proc.returncode == 0, proc.stderr
    assert f"credential 'fake' saved: {provider} at {base}, key in the OS keyring" in proc.stderr


def run_id(proc: subprocess.CompletedProcess[str]) -> str:
    return next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("run "))


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_the_example_runs_through_each_provider_streaming_with_tokens_and_cost(
    tmp_path: Path, fake_llm: FakeLLMServer, cli_env: dict[str, str], provider: str
) -> None:
    add_fake_credential(fake_llm, provider)
    fake_llm.script(ok("Tests make change safe.", usage=(1000, 2000)))
    proc = flowdesk("run", str(example_for(tmp_path, provider)), "--json", "-i", "question=Why test?")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    deltas = [e["text"] for e in events if e["type"] == "llm_delta"]
    assert deltas == ["Tests ", "make ", "change ", "safe."]  # streamed piece by piece, as they came
    result = json.loads(proc.stdout)
    assert result["outputs"] == {"answer": "Tests make change safe."}
    cost = 0.00135 if provider == "openai" else 0.0088
    assert result["usage"]["input_tokens"] == 1000 and result["usage"]["cost_usd"] == pytest.approx(cost)
    assert "Why test?" in json.dumps(fake_llm.requests[-1].body)

    shown = flowdesk("show", result["run_id"])
    assert shown.returncode == 0
    assert "1,000 in + 2,000 out" in shown.stdout and f"${cost:.4f}" in shown.stdout  # the run's totals
    answer_row = next(line for line in shown.stdout.splitlines() if line.startswith("answer"))
    assert "3,000" in answer_row and f"${cost:.4f}" in answer_row  # the step's


def test_plain_progress_names_tokens_and_cost(tmp_path: Path, fake_llm: FakeLLMServer, cli_env: dict[str, str]) -> None:
    add_fake_credential(fake_llm, "openai")
    fake_llm.script(ok(usage=(1000, 2000)))
    proc = flowdesk("run", str(example_for(tmp_path, "openai")))
    assert proc.returncode == 0
    assert "answer ok in" in proc.stderr and "1000+2000 tokens, $0.0014" in proc.stderr


def test_credentials_list_and_remove(fake_llm: FakeLLMServer, cli_env: dict[str, str]) -> None:
    add_fake_credential(fake_llm, "openai")
    listed = flowdesk("credentials", "list", "--json")
    assert json.loads(listed.stdout) == [
        {
            "name": "fake",
            "provider": "openai",
            "base_url": fake_llm.url + "/v1",
            "key": "keyring",
            "hosts": [f"127.0.0.1:{fake_llm.port}"],
        }
    ]
    assert flowdesk("credentials", "remove", "fake").returncode == 0
    assert json.loads(flowdesk("credentials", "list", "--json").stdout) == []
    assert KEY not in Path(cli_env["FLOWDESK_TEST_KEYRING"]).read_text()  # the stored key went too
    gone = flowdesk("credentials", "remove", "fake")
    assert gone.returncode == 2 and "there is no credential 'fake'" in gone.stderr


def test_credentials_test_reports_success_and_the_exact_error(fake_llm: FakeLLMServer, cli_env: dict[str, str]) -> None:
    add_fake_credential(fake_llm, "anthropic")
    fake_llm.script(ok("OK"), status(401, '{"error": {"message": "invalid x-api-key"}}'))
    good = flowdesk("credentials", "test", "fake", "--model", "claude-3-5-haiku")
    assert good.returncode == 0 and "ok: claude-3-5-haiku answered 'OK'" in good.stdout
    bad = flowdesk("credentials", "test", "fake", "--model", "claude-3-5-haiku")
    assert bad.returncode == 1 and "HTTP 401" in bad.stderr and "invalid x-api-key" in bad.stderr


def test_no_keyring_gives_a_clear_message(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    proc = flowdesk("credentials", "add", "work", "--provider", "openai", stdin=KEY + "\n")
    assert proc.returncode == 1 and KEY not in proc.stderr
    assert "the OS keyring is not available (NoKeyringError" in proc.stderr
    assert "set FLOWDESK_CREDENTIAL_WORK in the environment instead" in proc.stderr


def test_a_key_is_never_taken_from_the_command_line() -> None:
    proc = flowdesk("credentials", "add", "work", "--provider", "openai", "--key", KEY)
    assert proc.returncode == 2 and "unrecognized arguments" in proc.stderr


def _all_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_key_never_leaks(
    tmp_path: Path, fake_llm: FakeLLMServer, cli_env: dict[str, str], private_library: Path, private_settings: Path
) -> None:
    """After a full run, a failure that echoes the key, show, runs, import and export (all with -v logging
    and a library left with its WAL), the key is in the keyring and nowhere else."""
    add_fake_credential(fake_llm, "openai")
    workflow = example_for(tmp_path, "openai")
    outputs: list[Any] = []
    fake_llm.script(ok(), status(401, f'{{"error": {{"message": "Incorrect API key provided: {KEY}"}}}}'))
    first = flowdesk("-v", "run", str(workflow))
    failed = flowdesk("-v", "run", str(workflow), "--json")
    assert first.returncode == 0 and failed.returncode == 1
    assert fake_llm.requests[0].headers["authorization"] == f"Bearer {KEY}"  # the key did travel, to the server
    outputs += [first, failed]
    for args in (
        ("show", run_id(first)),
        ("show", run_id(first), "--json"),
        ("show", json.loads(failed.stdout)["run_id"], "--json"),
        ("runs", "--json"),
        ("import", str(workflow)),
        ("export", "ask-an-llm", "-o", str(tmp_path / "exported.json")),
        ("credentials", "list"),
    ):
        proc = flowdesk("-v", *args)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc)
    assert "refused the key (HTTP 401)" in failed.stderr  # the failure is there, with the key removed
    for proc in outputs:
        assert KEY not in proc.stdout and KEY not in proc.stderr
    files = {
        **_all_bytes(private_library.parent),  # library.db with its -wal/-shm when present
        **_all_bytes(private_settings.parent),
        str(workflow): workflow.read_bytes(),
        "exported": (tmp_path / "exported.json").read_bytes(),
    }
    library = b"".join(data for name, data in files.items() if "library.db" in name)
    assert b"[key removed]" in library  # the echoed key's place in the recorded error, so the check is real
    for name, data in files.items():
        assert KEY.encode() not in data, name
    assert KEY in Path(cli_env["FLOWDESK_TEST_KEYRING"]).read_text()  # where it belongs

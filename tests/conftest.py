"""Shared fixtures. Qt runs offscreen so the GUI tests work headless (CI has no display)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import keyring.backend
import keyring.errors
import pytest
from support.fake_llm_server import FakeLLMServer

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.history import History
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import Registry, builtin_registry


@pytest.fixture(autouse=True)
def private_library(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every flowdesk process a test starts) gets its own library, never the user's."""
    path = tmp_path_factory.mktemp("library") / "library.db"
    monkeypatch.setenv("FLOWDESK_DB", str(path))
    monkeypatch.delenv("FLOWDESK_PROFILE", raising=False)
    monkeypatch.setenv("FLOWDESK_TEMPLATES", str(path.parent / "templates"))  # "Save as template" stays in the test
    return path


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in one test's memory: tests never read or write the user's OS keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def private_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own LLM settings file, an empty in-memory keyring and no provider keys from
    the environment; flowdesk subprocesses get the 'fail' keyring, so none reaches the real one."""
    path = tmp_path_factory.mktemp("config") / "settings.json"
    monkeypatch.setenv("FLOWDESK_CONFIG", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in list(os.environ):
        if name.startswith("FLOWDESK_CREDENTIAL_") or name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            monkeypatch.delenv(name)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield path
    keyring.set_keyring(previous)


@pytest.fixture
def registry() -> Registry:
    return builtin_registry()


@pytest.fixture
def doc(registry: Registry) -> WorkflowDocument:
    return WorkflowDocument(Workflow(id="wf_test", name="Test"), registry)


@pytest.fixture
def history(doc: WorkflowDocument) -> History:
    return History(doc)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """The loopback fake LLM server (both wire protocols), one per test that asks for it."""
    server = FakeLLMServer().start()
    yield server
    server.stop()

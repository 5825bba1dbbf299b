"""Shared fixtures. Qt runs offscreen so the GUI tests work headless (CI has no display)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

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
    return path


@pytest.fixture
def registry() -> Registry:
    return builtin_registry()


@pytest.fixture
def doc(registry: Registry) -> WorkflowDocument:
    return WorkflowDocument(Workflow(id="wf_test", name="Test"), registry)


@pytest.fixture
def history(doc: WorkflowDocument) -> History:
    return History(doc)

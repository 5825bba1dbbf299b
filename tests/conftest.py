"""Shared fixtures. Qt runs offscreen so the GUI tests work headless (CI has no display)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.history import History
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import Registry, builtin_registry


@pytest.fixture
def registry() -> Registry:
    return builtin_registry()


@pytest.fixture
def doc(registry: Registry) -> WorkflowDocument:
    return WorkflowDocument(Workflow(id="wf_test", name="Test"), registry)


@pytest.fixture
def history(doc: WorkflowDocument) -> History:
    return History(doc)

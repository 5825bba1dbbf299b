"""A library with a few workflows, and the real service over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.service_flows import approval_flow, slow_chain
from support.service_thread import ServiceThread

from flowdesk.store.store import open_store


@pytest.fixture
def library(private_library: Path) -> Path:
    store = open_store(private_library)
    try:
        store.workflows.save(slow_chain())
        store.workflows.save(approval_flow())
    finally:
        store.close()
    return private_library


@pytest.fixture
def service(library: Path) -> Iterator[ServiceThread]:
    with ServiceThread(library, limit=2) as running:
        yield running


@pytest.fixture
def api(service: ServiceThread) -> Iterator[httpx.Client]:
    with service.client() as client:
        yield client

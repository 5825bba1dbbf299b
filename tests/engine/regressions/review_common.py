"""Shared helpers of the regression tests found in the engine review (each file reproduces one bug)."""

from __future__ import annotations

import asyncio
from typing import Any

from support.wfbuild import catalog_with, edge, node, workflow  # noqa: F401

from flowdesk.engine.bus import EventBus  # noqa: F401
from flowdesk.engine.journal import MemoryJournal  # noqa: F401
from flowdesk.engine.runner import run_workflow, start_run  # noqa: F401
from flowdesk.engine.services import EngineServices  # noqa: F401


async def until(pred: Any, timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        assert loop.time() < end, "timed out waiting"
        await asyncio.sleep(0.002)

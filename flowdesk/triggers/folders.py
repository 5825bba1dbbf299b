"""Folder triggers: a watch (watchfiles) per folder trigger, calling back once per file that appears."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

log = logging.getLogger(__name__)

OnFile = Callable[[str, Path], Awaitable[None]]
"""Called with (trigger id, the new file's path)."""


class FolderWatches:
    """One watching task per folder trigger; ``sync`` starts and stops them to match the stored triggers."""

    def __init__(self, on_file: OnFile, *, debounce_ms: int = 200) -> None:
        self._on_file = on_file
        self._debounce_ms = debounce_ms
        self._tasks: dict[str, tuple[Path, asyncio.Task[None]]] = {}

    def sync(self, wanted: dict[str, Path]) -> None:
        """Watch exactly ``wanted`` (trigger id -> folder); a folder that changed is watched anew."""
        for trigger_id in list(self._tasks):
            folder, task = self._tasks[trigger_id]
            if wanted.get(trigger_id) != folder or task.done():
                task.cancel()
                del self._tasks[trigger_id]
        for trigger_id, folder in wanted.items():
            if trigger_id not in self._tasks:
                task = asyncio.create_task(self._watch(trigger_id, folder), name=f"folder-trigger-{trigger_id}")
                self._tasks[trigger_id] = (folder, task)

    async def _watch(self, trigger_id: str, folder: Path) -> None:
        from watchfiles import Change, awatch

        async for changes in awatch(folder, debounce=self._debounce_ms, recursive=False):
            for change, name in sorted(changes, key=lambda c: c[1]):
                path = Path(name)
                if change == Change.added and path.is_file():
                    try:
                        await self._on_file(trigger_id, path)
                    except Exception:  # one file's failure must not end the watch
                        log.exception("folder trigger %s: %s could not start a run", trigger_id, path)

    async def stop(self) -> None:
        tasks = [task for _, task in self._tasks.values()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

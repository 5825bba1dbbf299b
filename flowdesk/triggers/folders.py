"""Folder triggers: a watch (watchfiles) per folder trigger, calling back once per file that arrives whole.

A file is reported when it is complete, not when it appears: a program writing a large file
creates it first and fills it over seconds, and a run started at creation would read half of it.
So a new file waits until its size and modification time have stayed the same for the trigger's
settle time (``settle_s``, 1 s unless set); every change meanwhile restarts the wait. A file moved
or renamed into the folder is whole at once and fires after one settle time too. Names that
programs use while they write (``.part``, ``.tmp``, ``~``, dotfiles) are never reported: the file
fires under its final name once it is renamed to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OnFile = Callable[[str, Path], Awaitable[None]]
"""Called with (trigger id, the complete file's path)."""

DEFAULT_SETTLE_S = 1.0
PARTIAL_SUFFIXES = frozenset({".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp"})


def is_partial_name(name: str) -> bool:
    """A name a writer uses until the file is complete (or a hidden file): never a trigger's file."""
    lowered = name.lower()
    return lowered.startswith(".") or lowered.endswith("~") or Path(lowered).suffix in PARTIAL_SUFFIXES


@dataclass(frozen=True)
class FolderSpec:
    """What one folder trigger watches: the folder and how long a new file must stay unchanged."""

    path: Path
    settle_s: float = DEFAULT_SETTLE_S


def folder_spec(config: dict[str, Any]) -> FolderSpec:
    """The watch a stored folder trigger's settings ask for."""
    return FolderSpec(Path(config["path"]), float(config.get("settle_s", DEFAULT_SETTLE_S)))


@dataclass
class _Candidate:
    """A new file not reported yet: its last seen (size, mtime) and since when it has not changed."""

    stamp: tuple[int, int]
    since: float = field(default_factory=time.monotonic)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:  # gone (renamed away, deleted) before it settled
        return None
    return (stat.st_size, stat.st_mtime_ns) if path.is_file() else None


class SettlingFiles:
    """The new files of one folder, each reported once it has stayed unchanged for ``settle_s``."""

    def __init__(self, settle_s: float) -> None:
        self.settle_s = settle_s
        self._pending: dict[Path, _Candidate] = {}

    def __bool__(self) -> bool:
        return bool(self._pending)

    def saw(self, path: Path, *, new: bool) -> None:
        """A change to ``path``: a new file starts waiting; a change to a waiting one restarts its wait."""
        if is_partial_name(path.name) or (not new and path not in self._pending):
            return  # a file reported before (or there before the watch) changing again is not a new file
        stamp = _stamp(path)
        if stamp is None:
            self._pending.pop(path, None)
            return
        known = self._pending.get(path)
        if known is None or known.stamp != stamp:
            self._pending[path] = _Candidate(stamp)

    def settled(self, now: float | None = None) -> list[Path]:
        """The waiting files unchanged for the settle time (they leave the waiting list), by name."""
        now = time.monotonic() if now is None else now
        done: list[Path] = []
        for path, candidate in list(self._pending.items()):
            stamp = _stamp(path)
            if stamp is None:
                del self._pending[path]
            elif stamp != candidate.stamp:  # written since the last look, without an event yet
                self._pending[path] = _Candidate(stamp, now)
            elif now - candidate.since >= self.settle_s:
                del self._pending[path]
                done.append(path)
        return sorted(done)


class FolderWatches:
    """One watching task per folder trigger; ``sync`` starts and stops them to match the stored triggers."""

    def __init__(self, on_file: OnFile, *, debounce_ms: int = 100) -> None:
        self._on_file = on_file
        self._debounce_ms = debounce_ms
        self._tasks: dict[str, tuple[FolderSpec, asyncio.Task[None]]] = {}

    def sync(self, wanted: dict[str, FolderSpec]) -> None:
        """Watch exactly ``wanted`` (trigger id -> folder); a folder or settle time that changed is watched anew."""
        for trigger_id in list(self._tasks):
            spec, task = self._tasks[trigger_id]
            if wanted.get(trigger_id) != spec or task.done():
                task.cancel()
                del self._tasks[trigger_id]
        for trigger_id, spec in wanted.items():
            if trigger_id not in self._tasks:
                task = asyncio.create_task(self._watch(trigger_id, spec), name=f"folder-trigger-{trigger_id}")
                self._tasks[trigger_id] = (spec, task)

    async def _watch(self, trigger_id: str, spec: FolderSpec) -> None:
        from watchfiles import Change, awatch

        files = SettlingFiles(spec.settle_s)
        look_every_ms = max(50, int(spec.settle_s * 250))  # a waiting file is looked at four times a settle time
        async for changes in awatch(
            spec.path, debounce=self._debounce_ms, recursive=False, rust_timeout=look_every_ms, yield_on_timeout=True
        ):
            for change, name in changes:
                if change != Change.deleted:
                    files.saw(Path(name), new=change == Change.added)
            for path in files.settled() if files else ():
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

"""The durability hook: how the engine makes a run's record safe before going on.

The store implements this protocol. ``record`` is called for every event, in order, and must be
cheap (buffer it); ``commit`` makes everything recorded so far durable and is awaited by the
executor before any node that depends on a newly finished result starts. Batching is therefore
natural: every result that finished in the same instant shares one commit.
"""

from __future__ import annotations

from typing import Any, Protocol


class RunJournal(Protocol):
    def record(self, event: Any) -> None: ...

    async def commit(self) -> None: ...


class MemoryJournal:
    """A journal that keeps events in a list: for tests, and to count commits."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.committed = 0
        self.commits = 0

    def record(self, event: Any) -> None:
        self.events.append(event)

    async def commit(self) -> None:
        self.commits += 1
        self.committed = len(self.events)

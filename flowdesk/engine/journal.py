"""The durability hook: how the engine makes a run's record safe before going on.

The store implements this protocol. ``record`` is called for every event, in order, and must be
cheap (buffer it); ``commit`` makes everything recorded so far durable and is awaited by the
executor before any node that depends on a newly finished result starts. Batching is therefore
natural: every result that finished in the same instant shares one commit.
"""

from __future__ import annotations

from typing import Any, Protocol

from flowdesk.engine.results import StepKey


class RunJournal(Protocol):
    def record(self, event: Any) -> None: ...

    async def commit(self) -> None: ...


_RESULT_OF_EVENT = {
    "node_started": "running",
    "node_waiting": "waiting",
    "node_succeeded": "succeeded",
    "node_skipped": "skipped",
    "node_failed": "failed",
    "node_cancelled": "cancelled",
}


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

    def recorded_results(self) -> dict[StepKey, tuple[str, dict[str, Any]]]:
        """What a resume could reuse of what was committed: each (node, iteration)'s last status and
        outputs in the top-level run, as the store reads them back from its step rows after a crash."""
        committed = self.events[: self.committed]
        run_id = committed[0].run_id if committed else None
        results: dict[StepKey, tuple[str, dict[str, Any]]] = {}
        for event in committed:
            status = _RESULT_OF_EVENT.get(event.type)
            if status is not None and event.run_id == run_id:
                outputs = event.outputs if status == "succeeded" else {}
                results[(event.node_id, event.iteration)] = (status, outputs)
        return results

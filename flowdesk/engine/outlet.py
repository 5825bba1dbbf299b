"""Where a run's events go: the journal (awaited at the commit barrier) and the bus (never waits).

``listening`` says whether anyone would read an event at all; the run builds none when nobody
would (a quarter of a quick node's cost). It is a flag, not a question asked per event: the bus
tells the outlet when someone subscribes, so a listener that joins a run late hears what follows.
"""

from __future__ import annotations

from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import Event
from flowdesk.engine.journal import RunJournal


class EventOutlet:
    __slots__ = ("bus", "dirty", "journal", "listening")

    def __init__(self, bus: EventBus | None, journal: RunJournal | None) -> None:
        self.bus = bus
        self.journal = journal
        self.dirty = False
        """Events were recorded since the journal's last commit."""
        self.listening = (bus is not None and bus.active) or journal is not None
        if bus is not None and not self.listening:
            bus.watch(self._hear)

    def emit(self, event: Event) -> None:
        if self.journal is not None:
            self.journal.record(event)
            self.dirty = True
        if self.bus is not None:
            self.bus.publish(event)

    def _hear(self) -> None:
        self.listening = True
        self.close()

    def close(self) -> None:
        """Stop watching the bus (the run is over)."""
        if self.bus is not None:
            self.bus.unwatch(self._hear)

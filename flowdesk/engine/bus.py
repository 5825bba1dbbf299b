"""Fan-out of run events to any number of subscribers, none of which can stall a run.

Each subscriber has its own bounded buffer. Publishing never waits: when a subscriber falls
behind by more than its bound, its oldest events are dropped and it is told how many (an
:class:`EventsDropped` comes before the next event it reads), so memory stays bounded and the run
goes on. What must not be lost (the run journal) does not ride on the bus: the executor awaits the
journal directly (see ``flowdesk.engine.journal``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from flowdesk.engine.events import EventsDropped

DEFAULT_BUFFER = 10_000


class Subscription:
    """One subscriber's view of the bus: read with ``await get()``, ``async for``, or ``drain()``."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self._buffer: deque[Any] = deque()
        self._maxsize = maxsize
        self._dropped = 0
        self.dropped_total = 0
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False

    def _put(self, event: Any) -> None:
        if len(self._buffer) >= self._maxsize:
            self._buffer.popleft()
            self._dropped += 1
            self.dropped_total += 1
        self._buffer.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def pending(self) -> int:
        """Events buffered and not yet read."""
        return len(self._buffer) + bool(self._dropped)

    def drain(self, limit: int | None = None) -> list[Any]:
        """Everything buffered now, without waiting (the GUI calls this from a timer)."""
        out: list[Any] = []
        if self._dropped:
            out.append(EventsDropped(count=self._dropped))
            self._dropped = 0
        while self._buffer and (limit is None or len(out) < limit):
            out.append(self._buffer.popleft())
        return out

    async def get(self) -> Any:
        """The next event; raises StopAsyncIteration once closed and empty."""
        while not self._buffer and not self._dropped:
            if self.closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._dropped:
            count, self._dropped = self._dropped, 0
            return EventsDropped(count=count)
        return self._buffer.popleft()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        if self._buffer and not self._dropped:  # the usual case: no second coroutine per event
            return self._buffer.popleft()
        return await self.get()

    def close(self) -> None:
        """Stop receiving; a reader blocked in ``get`` finishes what is buffered, then stops."""
        self.closed = True
        self._bus._remove(self)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._watchers: list[Callable[[], None]] = []

    @property
    def active(self) -> bool:
        """Is anyone listening? (The executor skips building events nobody would read.)"""
        return bool(self._subscriptions)

    def subscribe(self, maxsize: int = DEFAULT_BUFFER) -> Subscription:
        subscription = Subscription(self, maxsize)
        self._subscriptions.append(subscription)
        for watcher in list(self._watchers):
            watcher()
        return subscription

    def watch(self, on_subscribe: Callable[[], None]) -> None:
        """Call ``on_subscribe`` whenever someone subscribes: a run that built no events for nobody
        starts building them, so a listener that joins late hears what follows."""
        self._watchers.append(on_subscribe)

    def unwatch(self, on_subscribe: Callable[[], None]) -> None:
        if on_subscribe in self._watchers:
            self._watchers.remove(on_subscribe)

    def publish(self, event: Any) -> None:
        for subscription in self._subscriptions:
            subscription._put(event)

    def close(self) -> None:
        for subscription in list(self._subscriptions):
            subscription.close()

    def _remove(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

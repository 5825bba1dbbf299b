"""The live feed: each journal batch of this process's runs, handed to followers as it is written.

A follower of a run in this process (the service's server-sent events) need not poll the library:
the recorder hands each batch it has just committed here, with the ``seq`` it was written under,
so an event read live has the very place (``seq:index``) it has when read back from the journal
(``journal_follow.py``) and a client resumes with ``Last-Event-ID`` the same either way.

Each event's JSON is written once, by the recorder, for both the journal row and the feed: a live
stream only frames it (``service/sse.py``).

Batches ride on the engine's bus (``flowdesk.engine.bus``): one bus per followed run, a bounded
buffer per follower. Publishing never waits; a follower that falls behind by more than its bound
loses the oldest batches and is told so (``EventsDropped``), and then reads what it missed from the
journal, which has every batch by then (a batch is published after its commit). So a slow client
costs memory up to its bound and never slows the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flowdesk.engine.bus import EventBus, Subscription
from flowdesk.engine.events import event_adapter
from flowdesk.store.values import value_text

FOLLOWER_BUFFER = 1024
"""Batches a follower may be behind before it loses the oldest (and reads them from the journal)."""


@dataclass(frozen=True)
class LiveBatch:
    """One journal row as it was written: ``events[i]`` is at place ``seq:i``."""

    run_id: str
    """The top-level run whose journal holds the batch (its sub-runs' events are in it too)."""
    seq: int
    events: Sequence[Any]
    """The events as the journal keeps them (``recorder._lean``: a result's outputs by hash)."""
    data: Sequence[bytes]
    """Each event's JSON as a reader of the journal gets it (a result's output values put back for the hashes)."""


def batch_json(events: Sequence[Any], values: Sequence[Mapping[str, Any] | None]) -> tuple[bytes, list[bytes]]:
    """The journal row of ``events`` (the same bytes as one dump of the list) and each event's JSON for the
    live feed, written once for both: ``values`` has, per event, a result's output values, put back in its JSON."""
    dump = event_adapter().dump_json
    data = [dump(event) for event in events]
    row = b"[" + b",".join(data) + b"]"
    for index, outputs in enumerate(values):
        if outputs is not None:
            data[index] = with_values(dump(events[index], exclude={"outputs"}), outputs)
    return row, data


def with_values(dumped: bytes, values: Mapping[str, Any]) -> bytes:
    """A result's JSON with its output values as a journal reader puts them back (the values' stored JSON)."""
    outputs = ",".join(f"{_json_name(name)}:{value_text(v)}" for name, v in values.items())
    return dumped[:-1] + f',"outputs":{{{outputs}}}}}'.encode()


def _json_name(name: str) -> str:
    """A port name as a JSON string (a name is an identifier: no quote or backslash to escape)."""
    return f'"{name}"' if name.isidentifier() else json.dumps(name)


class LiveFeed:
    """The followers of this process's runs, by run id (one per process, held by whoever runs them)."""

    def __init__(self) -> None:
        self._buses: dict[str, EventBus] = {}

    def wants(self, run_id: str) -> bool:
        """Does anyone follow this run? (The recorder builds nothing for nobody.)"""
        return run_id in self._buses

    def publish(self, batch: LiveBatch) -> None:
        bus = self._buses.get(batch.run_id)
        if bus is not None:
            bus.publish(batch)

    def follow(self, run_id: str, maxsize: int | None = None) -> Subscription:
        """Batches of ``run_id`` written from now on (at most ``maxsize`` waiting, ``FOLLOWER_BUFFER`` unless
        given); ``unfollow`` the subscription when done."""
        bus = self._buses.get(run_id)
        if bus is None:
            bus = self._buses[run_id] = EventBus()
        return bus.subscribe(maxsize or FOLLOWER_BUFFER)

    def unfollow(self, run_id: str, subscription: Subscription) -> None:
        subscription.close()
        bus = self._buses.get(run_id)
        if bus is not None and not bus.active:
            del self._buses[run_id]

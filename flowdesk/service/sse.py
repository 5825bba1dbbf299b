"""A run's server-sent events: from the journal, and live for the runs this service runs.

Every stream starts by reading the run's journal from the client's ``Last-Event-ID`` on
(``store/journal_follow.py``). A run of another process (the app, a `flowdesk run`) is then
followed by polling the journal (at ``PollPace``: often while events come, seldom when quiet).
A run of this service is followed live instead: before reading the journal the stream subscribes
to the run's batches as the recorder writes them (``store/live_feed.py``), so nothing written after
the journal read is missed, and events the journal read already gave are skipped by place. Each
event has the place it has in the journal, read either way, so a client resumes with
``Last-Event-ID`` wherever it stopped.

A client that reads slower than the run writes never holds the run up: the live feed drops the
batches it could not take and says so, and the stream reads the missed ones from the journal (which
has them: a batch is published once committed), then goes on live.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from fastapi import Request

from flowdesk.engine.bus import Subscription
from flowdesk.engine.events import EventsDropped
from flowdesk.store.journal_follow import OPEN_STATUSES, JournalFollower, Place, PollPace
from flowdesk.store.live_feed import LiveBatch, LiveFeed

KEEPALIVE_S = 15.0
LIVE_RECHECK_S = 1.0
"""A live stream with nothing new for this long reads the journal once (a batch that went astray is found)."""


async def run_stream(request: Request, follower: JournalFollower, live: LiveFeed | None = None) -> AsyncIterator[bytes]:
    """The stream of the run ``follower`` reads: live when ``live`` is given (the run is this process's)."""
    if live is None:
        async for chunk in _polled(request, follower):
            yield chunk
        return
    subscription = live.follow(follower.run_id)
    try:
        async for chunk in _live(request, follower, subscription):
            yield chunk
    finally:
        live.unfollow(follower.run_id, subscription)


def end_frame(status: str) -> bytes:
    return f"event: end\ndata: {json.dumps({'status': status})}\n\n".encode()


def journal_frames(events: Iterable[tuple[Place, dict[str, Any]]]) -> bytes:
    return "".join(
        f"id: {place}\nevent: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
        for place, event in events
    ).encode()


async def _polled(request: Request, follower: JournalFollower) -> AsyncIterator[bytes]:
    quiet = 0.0
    pace = PollPace()
    while True:
        batch = follower.read_json()
        if batch.events:
            quiet = 0.0
            yield journal_frames(batch.events)
        if batch.ended:
            yield end_frame(batch.status)
            return
        if await request.is_disconnected():
            return
        wait = pace.next(bool(batch.events))
        quiet += wait
        if quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield b": keepalive\n\n"
        await asyncio.sleep(wait)


async def _live(request: Request, follower: JournalFollower, subscription: Subscription) -> AsyncIterator[bytes]:
    quiet = 0.0
    while True:
        batch = follower.read_json()  # from the journal: the start, and whatever the live feed could not give
        if batch.events:
            yield journal_frames(batch.events)
        if batch.ended:
            yield end_frame(batch.status)
            return
        if batch.more:
            continue  # (a long journal is read in pieces)
        # what was written after that read is in the subscription (made before it): the rest comes live
        while True:  # live, until a gap sends it back to the journal
            items = subscription.drain()  # all that came since the last look: one write for all of it
            if not items:
                try:
                    items = [await asyncio.wait_for(subscription.get(), LIVE_RECHECK_S), *subscription.drain()]
                except TimeoutError:
                    quiet += LIVE_RECHECK_S
                    if await request.is_disconnected():
                        return
                    if quiet >= KEEPALIVE_S:
                        quiet = 0.0
                        yield b": keepalive\n\n"
                    break
            quiet = 0.0
            chunk, ended, gap = _live_chunk(follower, items)
            if chunk:
                yield chunk
            if ended is not None:
                yield end_frame(ended)
                return
            if gap:
                break


def _live_chunk(follower: JournalFollower, items: list[Any]) -> tuple[bytes, str | None, bool]:
    """The frames of live batches in a row; the run's end status if it ended; whether batches are missing."""
    chunks: list[bytes] = []
    for item in items:
        if isinstance(item, EventsDropped) or not _follows(follower.after, item):
            return b"".join(chunks), None, True
        chunk, ended = _live_frames(follower, item)
        chunks.append(chunk)
        if ended is not None:
            return b"".join(chunks), ended, False
    return b"".join(chunks), None, False


def _follows(after: Place | None, batch: LiveBatch) -> bool:
    """Is ``batch`` the next one after ``after`` (or one already partly read)? Otherwise some are missing."""
    if after is None:
        return batch.seq == 0
    return batch.seq <= after.seq + 1


def _live_frames(follower: JournalFollower, batch: LiveBatch) -> tuple[bytes, str | None]:
    """The batch's events after the follower's place, as frames; and the run's end status if it ended here."""
    events, after = batch.events, follower.after
    start = 0
    if after is not None and batch.seq <= after.seq:  # read already, wholly or in part (from the journal)
        start = after.index + 1 if batch.seq == after.seq else len(events)
    if start >= len(events):
        return b"", None
    head, data = b"id: %d:" % batch.seq, batch.data
    frames = b"".join(
        b"%s%d\nevent: %s\ndata: %s\n\n" % (head, index, events[index].type.encode(), data[index])
        for index in range(start, len(events))
    )
    last = events[-1]
    follower.passed(Place(batch.seq, len(events) - 1), last.type, last.run_id)
    ended = None
    if last.type == "run_finished" and last.run_id == follower.run_id and last.status not in OPEN_STATUSES:
        ended = last.status
    return frames, ended

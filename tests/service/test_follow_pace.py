"""`flowdesk follow` (and the event stream of another process's run) reads the journal often while events
come and seldom while the run is quiet: never in a tight loop, never more than 0.5 s behind."""

from __future__ import annotations

from typing import Any

import pytest

from flowdesk.cli.remote import follow_journal
from flowdesk.store.journal_follow import Batch, Place, PollPace


def test_the_pace_is_quick_while_events_come_and_slows_when_quiet() -> None:
    pace = PollPace()
    assert pace.next(True) == 0.02
    quiet = [pace.next(False) for _ in range(8)]
    assert quiet[:4] == [0.04, 0.08, 0.1, 0.1]  # between nodes: within 0.1 s
    assert max(quiet) == 0.1 and sum(quiet) < 2.0
    idle = [pace.next(False) for _ in range(20)]  # quiet for more than 2 s: a waiting run
    assert idle[-1] == 0.5 and max(idle) == 0.5
    assert pace.next(True) == 0.02  # events again: quick again
    assert pace.next(False) == 0.04


class ScriptedFollower:
    """A journal follower whose reads give scripted batches (events as they came, then the end)."""

    def __init__(self, batches: list[Batch]) -> None:
        self.batches = batches

    def read(self) -> Batch:
        return self.batches.pop(0)


def batch(*events: str, ended: bool = False) -> Batch:
    return Batch([(Place(i, 0), name) for i, name in enumerate(events)], ended, "succeeded" if ended else "running")


@pytest.mark.parametrize("pauses", [0, 3])
def test_follow_hands_on_every_event_and_waits_between_reads(pauses: int) -> None:
    script = [batch("a", "b"), batch("c"), *[batch() for _ in range(pauses)], batch("d"), batch("e", ended=True)]
    got: list[Any] = []
    waits: list[float] = []
    follow_journal(ScriptedFollower(script), got.append, PollPace(), sleep=waits.append)  # type: ignore[arg-type]
    assert got == ["a", "b", "c", "d", "e"]
    assert waits == [0.02, 0.02, *[0.04, 0.08, 0.1][:pauses], 0.02]  # a wait after every read but the last

"""Schedules on their own: plain words, the next times in a timezone (across a clock change), and the
one slot that is due however many were missed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flowdesk.triggers.schedule import ScheduleError, describe_cron, describe_interval, due_slot, next_due, next_times

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("0 9 * * 1-5", "At 09:00, Monday through Friday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("30 18 1 * *", "At 18:30, on day 1 of the month"),
    ],
)
def test_cron_in_plain_words(expr: str, words: str) -> None:
    assert describe_cron(expr) == words


def test_intervals_in_plain_words() -> None:
    assert [describe_interval(s) for s in (1, 45, 60, 120, 3600, 86400 * 2)] == [
        "every 1 second", "every 45 seconds", "every minute", "every 2 minutes", "every hour", "every 2 days",
    ]  # fmt: skip


def test_next_times_keep_the_local_hour_across_the_spring_clock_change() -> None:
    before = datetime(2027, 3, 27, 12, 0, tzinfo=PARIS).timestamp()  # the clocks go forward on Sunday the 28th
    times = next_times("0 9 * * *", "Europe/Paris", before)
    assert [t.strftime("%d %H:%M") for t in times] == ["28 09:00", "29 09:00", "30 09:00"]
    assert [t.astimezone(UTC).hour for t in times] == [7, 7, 7]
    assert datetime(2027, 3, 27, 9, tzinfo=PARIS).astimezone(UTC).hour == 8  # winter time the day before


def test_an_unknown_timezone_is_refused() -> None:
    with pytest.raises(ScheduleError, match="unknown timezone 'Paris'"):
        next_times("0 9 * * *", "Paris", 0.0)


def test_the_due_slot_is_the_newest_missed_one_only() -> None:
    assert due_slot({"seconds": 60}, last=0.0, now=59.0) is None
    assert due_slot({"seconds": 60}, last=0.0, now=60.0) == 60.0
    assert due_slot({"seconds": 60}, last=0.0, now=3 * 3600 + 5.0) == 3 * 3600.0  # 180 missed: one slot
    assert next_due({"seconds": 60}, last=3 * 3600.0, now=3 * 3600 + 5.0) == 3 * 3600 + 60.0
    hourly = {"cron": "0 * * * *", "tz": "UTC"}
    assert due_slot(hourly, last=3600.0, now=7199.0) is None
    assert due_slot(hourly, last=3600.0, now=10 * 3600 + 30.0) == 10 * 3600.0
    assert due_slot(hourly, last=10 * 3600.0, now=10 * 3600 + 30.0) is None

"""Schedules: cron expressions (croniter) in a timezone, fixed intervals, plain-words previews, and
which slot is due now.

Coalescing: a schedule that missed slots while nothing ran (the service was down) fires once for
the latest missed slot, not once per slot; ``due_slot`` is that rule in one place.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIN_INTERVAL_S = 1.0


class ScheduleError(ValueError):
    """A cron expression, timezone or interval that cannot be used; the message says which part."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown timezone {name!r} (an IANA name such as Europe/Paris or UTC)") from exc


def check_cron(expr: str, tz: str = "UTC") -> None:
    """Refuse an expression croniter cannot read, naming the field that is wrong."""
    from croniter import croniter

    zone(tz)
    fields = expr.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"cron expression {expr!r} has {len(fields)} field(s); it needs 5: minute hour day-of-month month "
            f"day-of-week (e.g. '0 9 * * 1-5')"
        )
    if not croniter.is_valid(expr):
        names = ("minute", "hour", "day-of-month", "month", "day-of-week")
        for name, value in zip(names, fields, strict=True):
            probe = ["*"] * 5
            probe[names.index(name)] = value
            if not croniter.is_valid(" ".join(probe)):
                raise ScheduleError(f"cron expression {expr!r}: the {name} field {value!r} is not valid")
        raise ScheduleError(f"cron expression {expr!r} is not valid")


def check_interval(seconds: float) -> None:
    if not seconds >= MIN_INTERVAL_S:
        raise ScheduleError(f"an interval is at least {MIN_INTERVAL_S:g} second, not {seconds:g}")


def next_times(expr: str, tz: str, after: float, count: int = 3) -> list[datetime]:
    """The next ``count`` times the schedule fires after ``after`` (a POSIX time), in its timezone."""
    from croniter import croniter

    it = croniter(expr, datetime.fromtimestamp(after, zone(tz)))
    return [it.get_next(datetime) for _ in range(count)]


def previous_time(expr: str, tz: str, before: float) -> float:
    """The latest slot at or before ``before``."""
    from croniter import croniter

    return float(croniter(expr, datetime.fromtimestamp(before + 1e-3, zone(tz))).get_prev(float))


def describe_cron(expr: str) -> str:
    """The schedule in plain words, e.g. 'At 09:00, Monday through Friday'."""
    from cron_descriptor import Options, get_description

    options = Options()
    options.use_24hour_time_format = True
    options.throw_exception_on_parse_error = True
    try:
        return str(get_description(expr, options))
    except Exception as exc:
        raise ScheduleError(f"cron expression {expr!r}: {exc}") from exc


def describe_interval(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"every {n} {unit}{'s' if n != 1 else ''}" if n != 1 else f"every {unit}"
    return f"every {seconds:g} second{'s' if seconds != 1 else ''}"


def preview(config: dict[str, object], now: float) -> str:
    """One line for a schedule trigger: its plain words and the next three times."""
    if "cron" in config:
        expr, tz = str(config["cron"]), str(config.get("tz") or "UTC")
        times = ", ".join(t.strftime("%a %Y-%m-%d %H:%M") for t in next_times(expr, tz, now))
        return f"{describe_cron(expr)} ({tz}); next: {times}"
    seconds = float(config["seconds"])  # type: ignore[arg-type]
    return describe_interval(seconds)


def due_slot(config: dict[str, object], last: float, now: float) -> float | None:
    """The slot to fire for now, if any: the latest slot after ``last`` that is not after ``now``.

    However many slots were missed since ``last`` (the service was down), this is one slot: the
    schedule fires once, for the newest.
    """
    if "cron" in config:
        slot = previous_time(str(config["cron"]), str(config.get("tz") or "UTC"), now)
        return slot if slot > last else None
    seconds = float(config["seconds"])  # type: ignore[arg-type]
    if now < last + seconds:
        return None
    return last + seconds * ((now - last) // seconds)


def next_due(config: dict[str, object], last: float, now: float) -> float:
    """When the schedule next has a slot after ``max(last, now)`` (to know how long to sleep)."""
    start = max(last, now)
    if "cron" in config:
        return next_times(str(config["cron"]), str(config.get("tz") or "UTC"), start, 1)[0].timestamp()
    seconds = float(config["seconds"])  # type: ignore[arg-type]
    return last + seconds * (((start - last) // seconds) + 1)

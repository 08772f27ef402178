"""Deadline arithmetic shared by the checks.

Day counts are calendar days in the contract's time zone: "7 days" after 10:00 Paris time is
10:00 Paris time seven days later, whatever daylight saving does in between. Everything
returned is UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from clausewatch.core.result import Status


@lru_cache(maxsize=1 << 16)
def add_days(start: datetime, days: float, tz: ZoneInfo) -> datetime:
    """``start`` plus ``days`` calendar days on the contract's wall clock, in UTC.

    Cached: a million patch records share a few hundred release dates. It never raises (a
    live collector may bring a year 0001 or 9999): near the ends of the datetime range the
    days are counted in UTC, and a result beyond it is the range's end in UTC; a NaN ``days``
    (which the contract loader refuses) allows no time at all, so nothing is judged early.
    """
    try:
        return (start.astimezone(tz) + timedelta(days=days)).astimezone(UTC)
    except (OverflowError, ValueError):
        return _saturated(start, days)


def add_hours(start: datetime, hours: float) -> datetime:
    """``start`` plus elapsed hours (RPOs are elapsed time, not wall-clock time); never raises
    (saturates as ``add_days`` does)."""
    try:
        return start + timedelta(hours=hours)
    except (OverflowError, ValueError):
        return _saturated(start, hours, "hours")


_LATEST = datetime.max.replace(tzinfo=UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _saturated(start: datetime, days_or_hours: float, unit: str = "days") -> datetime:
    """``start`` plus the amount in UTC, else the end of the range it overflowed towards."""
    if math.isnan(days_or_hours):
        return start.astimezone(UTC) if start.utcoffset() is not None else start
    try:
        return start.astimezone(UTC) + timedelta(**{unit: days_or_hours})
    except (OverflowError, ValueError):
        return _EARLIEST if days_or_hours < 0 else _LATEST


def deadline_status(due: datetime, as_of: datetime, warning_days: float, tz: ZoneInfo) -> Status:
    """Breached after ``due``; at risk from ``warning_days`` before it; compliant before that.

    Exactly at the deadline is still compliant (a commitment "within 7 days" is kept at 7 days).
    """
    if as_of > due:
        return Status.BREACHED
    if warning_days > 0 and as_of >= add_days(due, -warning_days, tz):
        return Status.AT_RISK
    return Status.COMPLIANT


def age_days(then: datetime, as_of: datetime) -> float:
    """Elapsed days between ``then`` and ``as_of``."""
    return (as_of - then).total_seconds() / 86400


def fmt_day(value: datetime, tz: ZoneInfo) -> str:
    """A date for people, in the contract's time zone (in UTC at the ends of the range)."""
    try:
        return value.astimezone(tz).strftime("%Y-%m-%d")
    except OverflowError:
        return value.strftime("%Y-%m-%d")


def whole(value: float) -> float | int:
    """A number as ``:g`` prints it, for a reason's parameters: a whole float becomes an int."""
    return int(value) if float(value).is_integer() else float(value)

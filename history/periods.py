"""Calendar periods (months, quarters) cut in the contract's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A month (``2026-10``) or a quarter (``2026-Q4``)."""

    year: int
    kind: str  # "month" or "quarter"
    index: int  # 1..12 or 1..4

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        return f"{self.year}-Q{self.index}"

    def first_day(self) -> date:
        month = self.index if self.kind == "month" else 3 * (self.index - 1) + 1
        return date(self.year, month, 1)

    def next(self) -> Period:
        last = 12 if self.kind == "month" else 4
        if self.index == last:
            return Period(self.year + 1, self.kind, 1)
        return Period(self.year, self.kind, self.index + 1)

    def previous(self) -> Period:
        last = 12 if self.kind == "month" else 4
        if self.index == 1:
            return Period(self.year - 1, self.kind, last)
        return Period(self.year, self.kind, self.index - 1)

    def days(self) -> list[date]:
        """Every calendar day of the period."""
        start, end = self.first_day(), self.next().first_day()
        return [start + timedelta(days=i) for i in range((end - start).days)]

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the first day to that of the next period."""
        return local_midnight(self.first_day(), tz), local_midnight(self.next().first_day(), tz)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_period(text: str) -> Period:
    """``2026-10`` or ``2026-Q4``; ``ValueError`` otherwise."""
    text = text.strip()
    if m := _MONTH.match(text):
        return Period(int(m.group(1)), "month", int(m.group(2)))
    if m := _QUARTER.match(text):
        return Period(int(m.group(1)), "quarter", int(m.group(2)))
    raise ValueError(f"{text!r} is not a period: use YYYY-MM (a month) or YYYY-Qn (a quarter)")


def period_of(instant: datetime | date, kind: str, tz: ZoneInfo) -> Period:
    """The period holding ``instant`` (an instant is placed by its local date in ``tz``)."""
    day = instant.astimezone(tz).date() if isinstance(instant, datetime) else instant
    if kind == "month":
        return Period(day.year, "month", day.month)
    if kind == "quarter":
        return Period(day.year, "quarter", (day.month - 1) // 3 + 1)
    raise ValueError(f"unknown period kind {kind!r}")


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()

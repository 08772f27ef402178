"""The run clock and the time conventions every package shares.

One ``as_of`` per run is passed everywhere; only the command layer reads the wall clock
(:func:`utc_now`). Datetimes are timezone-aware UTC; naive ones are rejected at the boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def utc_now() -> datetime:
    """The current instant, in UTC: the run clock, read once per run by the command layer."""
    return datetime.now(UTC)


def iso_z(value: datetime) -> str:
    """An instant as RFC 3339 in UTC with ``Z``: ``2026-11-30T03:00:00Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def require_utc(value: datetime, what: str = "datetime") -> datetime:
    """Return ``value`` converted to UTC; raise ``ValueError`` if it is naive."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone, got naive {value.isoformat()}")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise ValueError(f"{what} {value.isoformat()} has no UTC instant") from None


def parse_utc(text: str, what: str = "datetime") -> datetime:
    """Parse an ISO 8601 timestamp with an explicit offset (``Z`` allowed) into UTC.

    Results are cached: evidence files repeat the same instants (release dates, collection
    times) hundreds of thousands of times, and sharing one object saves time and memory.
    """
    return _parse_utc_cached(text) if len(text) <= 40 else _parse_utc(text, what)


def _parse_utc(text: str, what: str) -> datetime:
    return require_utc(datetime.fromisoformat(text), what)


@lru_cache(maxsize=1 << 16)
def _parse_utc_cached(text: str) -> datetime:
    return _parse_utc(text, "datetime")

"""Veeam timestamps to UTC, and the server time zone that offset-less ones need.

Veeam's OpenAPI documents type times as ``date-time``; its examples carry the server's local
offset with 0 to 7 fractional digits (``2024-02-04T21:40:34.473+03:00``), but some carry no
offset at all (``SureBackupSessionExample``: ``2024-11-11T12:34:46.027793``), and
``0001-01-01T00:00:00`` stands for "not ended" (notes/veeam.md §8).

An offset-less time is local time on the backup server. It is placed only when the server's
time zone is established, as an IANA zone (a fixed offset cannot place a time on the other
side of a daylight-saving change):

* ``GET /api/v1/serverTime`` (no authentication) answers ``{serverTime, timeZone}``, and from
  1.3-rev2 ``ianaTimeZoneId``; or
* the source entry names it (``server_timezone: Europe/Paris``), checked against the offset
  ``serverTime`` carries when the server answers;
* a server whose ``timeZone`` is Windows' ``(UTC) Coordinated Universal Time`` is on UTC.

Otherwise :meth:`ServerZone.parse` raises :class:`NoServerZone` with the reason: the record is
not used, and the collector says why (fail closed, never a guessed instant).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?"
                    r"(Z|z|[+-]\d{2}:\d{2})?")
NOT_ENDED = "0001-01-01T00:00:00"
_UTC_NAMES = ("(UTC) Coordinated Universal Time", "(UTC+00:00) Coordinated Universal Time")


class NoServerZone(ValueError):
    """An offset-less timestamp while the server's time zone is not established."""


def zone_named(name: str) -> tzinfo | None:
    """The IANA zone ``name``, None when tzdata does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class ServerZone:
    """The backup server's time zone (None: not established, ``reason`` says why)."""

    zone: tzinfo | None
    reason: str

    @classmethod
    def establish(cls, server_time: Mapping[str, Any] | None, configured: str | None = None,
                  unreadable: str = "") -> ServerZone:
        """The zone from ``serverTime``'s answer (None: not readable, ``unreadable`` says
        why) and the entry's ``server_timezone``."""
        now = _offset_of(server_time)
        if configured:
            zone = zone_named(configured)
            if zone is None:
                return cls(None, f"server_timezone {configured!r} is not an IANA time zone")
            if now is not None and now.utcoffset() != now.astimezone(zone).utcoffset():
                return cls(None, f"server_timezone {configured} is UTC"
                           f"{_fmt(now.astimezone(zone).utcoffset())} at the server's time "
                           f"{now.isoformat()}, which says UTC{_fmt(now.utcoffset())}")
            return cls(zone, f"server_timezone {configured} (sources file)")
        if server_time is None:
            return cls(None, f"serverTime could not be read ({unreadable or 'no answer'}); "
                       "set server_timezone (an IANA name) in the sources file")
        iana = server_time.get("ianaTimeZoneId")
        if isinstance(iana, str) and iana:
            zone = zone_named(iana)
            if zone is not None:
                return cls(zone, f"serverTime ianaTimeZoneId {iana}")
            return cls(None, f"serverTime ianaTimeZoneId {iana!r} is unknown to tzdata")
        label = server_time.get("timeZone")
        if isinstance(label, str) and label.strip() in _UTC_NAMES and now is not None \
                and now.utcoffset() == timedelta(0):
            return cls(UTC, f"serverTime timeZone {label.strip()!r}")
        offset = f" {_fmt(now.utcoffset())}" if now is not None else ""
        return cls(None, f"serverTime gives only the current offset{offset} (timeZone "
                   f"{label!r}), which cannot place a time across daylight-saving changes; "
                   "set server_timezone (an IANA name) in the sources file")

    def parse(self, value: Any, what: str = "timestamp") -> datetime | None:
        """``value`` in UTC; None for null, empty or ``0001-01-01T00:00:00`` (not ended).

        Raises ``ValueError`` for anything else that is not a Veeam timestamp, and
        :class:`NoServerZone` for an offset-less one when the zone is not established.
        """
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError(f"{what} is {value!r}, not a timestamp")
        match = _STAMP.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{what} {value!r} is not an ISO 8601 timestamp")
        day, clock, fraction, offset = match.groups()
        if f"{day}T{clock}" == NOT_ENDED and not fraction:
            return None
        stamp = _datetime(match)
        if offset:
            return stamp.astimezone(UTC)
        if self.zone is None:
            raise NoServerZone(f"{what} {value!r} has no UTC offset and the server's time zone "
                               f"is not established: {self.reason}")
        return stamp.replace(tzinfo=self.zone).astimezone(UTC)


def _datetime(match: re.Match[str]) -> datetime:
    """The matched time: aware when it has an offset, naive otherwise (7th digit dropped)."""
    day, clock, fraction, offset = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    zone = "" if not offset else "+00:00" if offset in ("Z", "z") else offset
    return datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}")


def _offset_of(server_time: Mapping[str, Any] | None) -> datetime | None:
    """The server's current time with its offset, None when absent or offset-less."""
    value = server_time.get("serverTime") if server_time is not None else None
    match = _STAMP.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or not match.group(4):
        return None
    return _datetime(match)


def _fmt(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

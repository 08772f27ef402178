"""Defender's times: ISO 8601 with an offset on machines, no offset in the vulnerability export.

The machine entity's ``firstSeen``/``lastSeen`` are ``DateTimeOffset`` values printed in UTC
with ``Z`` and seven fractional digits (``2018-08-02T14:55:03.7791856Z``,
https://learn.microsoft.com/defender-endpoint/api/get-machines). The export's
``firstSeenTimestamp``/``lastSeenTimestamp`` are documented as *strings* such as
``2020-11-03 10:13:34.8476880`` or ``2020-12-30 14:17:26``, without a zone
(https://learn.microsoft.com/defender-endpoint/api/get-assessment-software-vulnerabilities).
Defender's service clock is UTC (every other time of the API carries ``Z``), so a time without
an offset is read as UTC and the text as received is kept beside it (``*_raw`` facts). A value
that is not a time raises ``ValueError``; an empty one is None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any, what: str) -> datetime | None:
    """An aware UTC instant, None for null or empty text; ``ValueError`` for anything else."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} is {value!r}, not a time")
    try:  # Python 3.11 reads any number of fractional digits (rounding down to 6)
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)

"""Wazuh values as ClauseWatch reads them: times, versions, plain text.

Times: the server API renders dates as ``%Y-%m-%dT%H:%M:%SZ`` (``lastKeepAlive``, ``dateAdd``,
``detection_time``, ``scan.time``) and some as a bare date (``published: "2021-12-15"`` of the
4.7 vulnerability detector; spec.yaml ``/vulnerability/{agent_id}`` example,
https://github.com/wazuh/wazuh/blob/v4.7.5/api/api/spec/spec.yaml). The indexer's ISO 8601
dates may carry fractions or an offset. Two sentinels mean "no date": the manager's
``lastKeepAlive`` ``9999-12-31T23:59:59Z`` (wazuh-db stores 253402300799 for agent 000,
src/wazuh_db/schema_global.sql) and the scanner's ``0000-01-01T00:00:00Z`` default for an
unknown publication date (``DEFAULT_TIMESTAMP``, src/wazuh_modules/vulnerability_scanner/src/
scanOrchestrator/descriptionsHelper.hpp).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

MANAGER_ID = "000"
NEVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)  # the manager's lastKeepAlive
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def wazuh_time(value: Any) -> datetime | None:
    """An aware UTC datetime from a Wazuh date, None when absent, unreadable or a sentinel
    meaning "no date" (year 0 or 1, or before 1970). ``9999-12-31T23:59:59Z`` is returned as
    is: the caller decides what the manager's "always alive" means."""
    raw = text(value)
    if raw is None:
        return None
    raw = raw.strip()
    if raw.startswith("0000-"):
        return None
    try:
        if _DATE.match(raw):
            parsed = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # the API's dates are UTC
    parsed = parsed.astimezone(UTC)
    return None if parsed.year < 1970 else parsed


def api_version(value: Any) -> tuple[int, int, int] | None:
    """``"4.7.5"`` or ``"v4.8.0"`` -> ``(4, 7, 5)``; None when unreadable."""
    raw = text(value)
    match = _VERSION.match(raw.strip()) if raw else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)

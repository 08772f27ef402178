"""The documented limits evidence must keep (``docs/evidence.md``): types and constants only.

* Instants lie from 1970-01-01T00:00:00Z to 2999-12-31T23:59:59.999999Z: a reader refuses any
  other timestamp, so date arithmetic on them (deadlines of at most ten years) cannot overflow.
* A JSON Lines record nests at most :data:`MAX_DEPTH` objects and arrays (a record needs 3).
* Integers lie within ±:data:`MAX_INTEGER`; numbers are finite (no NaN, no ±Infinity, no
  literal that overflows a double, such as ``1e999``).
* An instant later than the run's ``as_of`` by more than :data:`CLOCK_SKEW` was "observed in the
  future": the checks never judge it fresh (the subject is ``no_evidence`` with the reason).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

INSTANT_MIN = datetime(1970, 1, 1, tzinfo=UTC)
INSTANT_MAX = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
YEAR_MIN = INSTANT_MIN.year
YEAR_MAX = INSTANT_MAX.year
MAX_DEPTH = 16
MAX_INTEGER = 2**63 - 1
#: How far a source's clock may run ahead of the run's: five minutes, the tolerance Kerberos
#: allows by default (RFC 4120 §1.6 leaves it to the realm; Windows and MIT use 5 minutes).
CLOCK_SKEW = timedelta(minutes=5)


def instant_problem(value: datetime) -> str | None:
    """Why an aware instant is outside the documented range, or None if it is inside."""
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        return f"year {value.year} is outside {YEAR_MIN}-{YEAR_MAX}"
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        return f"year {value.year} is outside {YEAR_MIN}-{YEAR_MAX}"
    if not INSTANT_MIN <= utc <= INSTANT_MAX:
        return f"{utc.isoformat()} is outside {YEAR_MIN}-{YEAR_MAX} (UTC)"
    return None

"""Veeam times to UTC: 0-7 fractional digits, offsets, the server zone, fail closed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from veeam_fake import fixture

from clausewatch.collectors.veeam.timestamps import NoServerZone, ServerZone

PRAGUE = ServerZone.establish(fixture("server_time_1.3-rev2.json"))


@pytest.mark.parametrize(("text", "utc"), [
    ("2026-11-21T06:00:01.7300443+01:00", datetime(2026, 11, 21, 5, 0, 1, 730044, UTC)),
    ("2025-03-01T22:00:41.2+01:00", datetime(2025, 3, 1, 21, 0, 41, 200000, UTC)),
    ("2026-11-20T22:00:12Z", datetime(2026, 11, 20, 22, 0, 12, tzinfo=UTC)),
    ("2026-11-15T01:00:04.027793", datetime(2026, 11, 15, 0, 0, 4, 27793, UTC)),  # CET
    ("2026-07-15T01:00:04", datetime(2026, 7, 14, 23, 0, 4, tzinfo=UTC)),  # CEST: the zone
])
def test_times_are_read_into_utc(text, utc):
    assert PRAGUE.parse(text) == utc


def test_null_empty_and_the_not_ended_sentinel_are_none():
    assert PRAGUE.parse(None) is None and PRAGUE.parse("") is None
    assert PRAGUE.parse("0001-01-01T00:00:00") is None


@pytest.mark.parametrize("bad", ["yesterday", "2026-11-15", "2026-11-15T01:00:04.12345678",
                                 12345, "2026-13-45T01:00:00Z"])
def test_anything_else_is_refused(bad):
    with pytest.raises(ValueError):
        PRAGUE.parse(bad)


def test_an_offset_alone_does_not_establish_the_zone():
    zone = ServerZone.establish(fixture("server_time.json"))  # 1.2-rev1: offset, Windows name
    assert zone.zone is None
    assert PRAGUE.parse("2026-11-15T01:00:04+01:00") == zone.parse("2026-11-15T01:00:04+01:00")
    with pytest.raises(NoServerZone, match="only the current offset \\+01:00"):
        zone.parse("2026-11-15T01:00:04")


def test_the_configured_zone_is_checked_against_the_server_clock():
    body = fixture("server_time.json")
    assert ServerZone.establish(body, "Europe/Paris").zone is not None
    refused = ServerZone.establish(body, "America/New_York")
    assert refused.zone is None and "which says UTC+01:00" in refused.reason
    assert ServerZone.establish(None, "Europe/Paris").zone is not None  # serverTime unread
    assert ServerZone.establish(None, None, "HTTP 404").reason.startswith(
        "serverTime could not be read (HTTP 404)")
    assert ServerZone.establish(body, "Mars/Olympus").zone is None


def test_a_server_on_utc_says_so_in_its_windows_zone_name():
    body = {"serverTime": "2026-11-21T05:00:01Z", "timeZone": "(UTC) Coordinated Universal Time"}
    assert ServerZone.establish(body).zone is UTC

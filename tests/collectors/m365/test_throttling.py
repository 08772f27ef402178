"""Graph throttling: Retry-After honoured (fractional included), bounded, then reported."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
from kiota_http.middleware.options import RetryHandlerOption

from clausewatch.collectors.m365.retry import BoundedRetryHandler, parse_retry_after

FABRIKAM = "22222222-2222-2222-2222-222222222222"
FOLDER = Path(__file__).parents[2] / "fixtures/m365/fabrikam"
THROTTLED = {"error": {"code": "TooManyRequests", "message": "Please retry again later.",
                       "innerError": {"code": "429"}}}


def storm(*responses):
    routes = json.loads((FOLDER / "routes.json").read_text())
    routes["GET /v1.0/users"] = [*responses]
    return routes


def throttle(retry_after: str | None, status: int = 429) -> dict:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return {"status": status, "headers": headers, "body": THROTTLED}


def test_429_storm_waits_what_retry_after_says_then_succeeds(emulator, run_collector, caplog):
    emu = emulator(routes=storm(throttle("0.05"), throttle("0.12"), throttle("0", 503),
                                "users.json"))
    emu.folder = FOLDER
    with caplog.at_level(logging.INFO, logger="clausewatch.collectors.m365.retry"):
        evidence, errors = run_collector(emu, FABRIKAM, "entra", classify_mailboxes=False)
    assert errors == [] and len(evidence) == 2
    calls = [r for r in emu.requests if r["path"] == "/v1.0/users"]
    assert len(calls) == 4
    assert calls[1]["at"] - calls[0]["at"] >= 0.05
    assert calls[2]["at"] - calls[1]["at"] >= 0.12
    assert calls[1]["headers"]["retry-attempt"] == "1"
    waits = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert "waiting 0.050 s (Retry-After)" in waits[0]
    assert "waiting 0.120 s (Retry-After)" in waits[1]
    assert "waiting 0.000 s (Retry-After)" in waits[2]  # 0 means now, not the SDK's 3 s


def test_endless_storm_stops_at_the_retry_bound_and_is_reported(emulator, run_collector):
    emu = emulator(routes=storm(*[throttle("0.01")] * 10))
    emu.folder = FOLDER
    evidence, errors = run_collector(emu, FABRIKAM, "entra", classify_mailboxes=False,
                                     throttling={"max_retries": 2})
    assert evidence == [] and emu.hits("GET", "/v1.0/users") == 3
    [err] = errors
    assert err.retryable is True and "HTTP 429" in err.message and "throttled" in err.message


def test_retry_after_beyond_the_wait_bound_is_not_retried(emulator, run_collector):
    # The tenant's gate pauses the entry's other requests for at most the bound (gate.py).
    emu = emulator(routes=storm(throttle("120"), "users.json"))
    emu.folder = FOLDER
    evidence, errors = run_collector(emu, FABRIKAM, "entra", classify_mailboxes=False,
                                     throttling={"max_wait_seconds": 1})
    assert emu.hits("GET", "/v1.0/users") == 1
    assert errors[0].retryable is True and evidence == []


def test_parse_retry_after():
    now = datetime(2025, 1, 20, 6, 0, tzinfo=UTC)
    assert parse_retry_after("2.128") == 2.128  # Microsoft's own throttling sample
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("Mon, 20 Jan 2025 06:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None


def test_delay_without_retry_after_is_capped_backoff():
    handler = BoundedRetryHandler(max_retries=5, max_wait=1.0, backoff_base=0.5)
    request = httpx.Request("GET", "https://graph.microsoft.com/v1.0/users")
    bare = httpx.Response(503, request=request)
    assert 0.5 <= handler.get_delay_time(0, bare) <= 0.75
    assert handler.get_delay_time(6, bare) == 1.0
    late = httpx.Response(429, headers={"Retry-After": "2"}, request=request)
    assert handler.get_delay_time(0, late) == RetryHandlerOption.MAX_DELAY  # = do not retry

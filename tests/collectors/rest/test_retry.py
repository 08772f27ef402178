"""The bounded, Retry-After-aware retry through real httpx, on a clock that never sleeps."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from clausewatch.collectors.rest.errors import GaveUp
from clausewatch.collectors.rest.retry import RetryPolicy, http_date, retry_after

OK = {"body": {"value": []}}
DATE = "Sat, 21 Nov 2026 06:00:00 GMT"


def test_429_with_retry_after_seconds_waits_that_long(server, clock, make_session):
    server.script("GET /api/items", {"status": 429, "headers": {"Retry-After": "7"},
                                     "body": {"error": {"code": "TooManyRequests"}}}, OK)
    assert make_session().get_json("items") == {"value": []}
    assert clock.sleeps == [7.0]
    assert len(server.requests) == 2


def test_429_with_retry_after_date_counts_from_the_response_date(server, clock, make_session):
    server.script("GET /api/items", {"status": 429, "headers": {
        "Date": DATE, "Retry-After": "Sat, 21 Nov 2026 06:00:07 GMT"}}, OK)
    make_session().get_json("items")
    assert clock.sleeps == [7.0]


def test_retry_after_date_without_a_date_header_counts_from_now(server, clock, make_session):
    # the fake wall clock says 06:00:00; the server asks for 06:00:42
    server.script("GET /api/items", {"status": 503, "headers": {
        "Retry-After": "Sat, 21 Nov 2026 06:00:42 GMT"}}, OK)
    make_session().get_json("items")
    assert clock.sleeps == [42.0]


def test_retry_after_is_capped(server, clock, make_session):
    server.script("GET /api/items", {"status": 429, "headers": {"Retry-After": "3600"}}, OK)
    make_session(retry_after_cap=30.0).get_json("items")
    assert clock.sleeps == [30.0]


def test_retry_after_beyond_the_budget_gives_up_without_sleeping(server, clock, make_session):
    server.script("GET /api/items", {"status": 429, "headers": {"Retry-After": "100"}}, OK)
    with pytest.raises(GaveUp) as info:
        make_session(budget_seconds=60.0, retry_after_cap=120.0).get_json("items")
    assert info.value.reason == "time budget"
    assert clock.sleeps == []
    assert isinstance(info.value.last, httpx.HTTPStatusError)


def test_a_503_storm_stops_at_the_attempts_bound(server, clock, make_session):
    server.script("GET /api/items", {"status": 503, "body": {"errorCode": "ServiceUnavailable"}})
    with pytest.raises(GaveUp) as info:
        make_session(attempts=4, initial_backoff=1.0, budget_seconds=1000).get_json("items")
    assert info.value.reason == "attempts"
    assert info.value.attempts == 4
    assert len(server.requests) == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]  # exponential back-off without Retry-After
    assert info.value.last.response.status_code == 503  # type: ignore[attr-defined]


def test_backoff_is_capped_by_max_backoff(server, clock, make_session):
    server.script("GET /api/items", {"status": 502})
    with pytest.raises(GaveUp):
        make_session(attempts=6, initial_backoff=1.0, max_backoff=5.0,
                     budget_seconds=1000).get_json("items")
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_hang_stops_at_the_time_budget(server, clock, make_session):
    server.script("GET /api/items", {"hang": True})
    with pytest.raises(GaveUp) as info:
        make_session(read=0.05, attempts=50, budget_seconds=10.0).get_json("items")
    assert info.value.reason == "time budget"
    assert info.value.attempts == 4  # slept 1 + 2 + 4 = 7 s; 8 more would pass 10 s
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert isinstance(info.value.last, httpx.ReadTimeout)
    assert len(server.requests) == 4


def test_client_errors_are_not_retried(server, clock, make_session):
    server.script("GET /api/items", {"status": 404, "body": {"title": "Not Found"}})
    with pytest.raises(httpx.HTTPStatusError):
        make_session().get_json("items")
    assert len(server.requests) == 1
    assert clock.sleeps == []


def test_a_refused_connection_is_retried(clock, make_session):
    # nothing listens on port 9 of 127.0.0.1 (discard): every attempt is refused
    with pytest.raises(GaveUp) as info:
        make_session(base="http://127.0.0.1:9/", attempts=3).get_json("items")
    assert info.value.attempts == 3
    assert isinstance(info.value.last, httpx.ConnectError)


def test_posts_are_not_retried_unless_asked(server, clock, make_session):
    server.script("POST /api/search", {"status": 503}, {"body": {"hits": []}})
    session = make_session()
    with pytest.raises(httpx.HTTPStatusError):
        session.post_json("search", {"q": 1})
    assert session.post_json("search", {"q": 1}, retry=True) == {"hits": []}


@pytest.mark.parametrize(("header", "seconds"), [
    ("120", 120.0),
    ("0", 0.0),
    ("Sat, 21 Nov 2026 06:02:00 GMT", 120.0),          # IMF-fixdate
    ("Saturday, 21-Nov-26 06:02:00 GMT", 120.0),       # obsolete RFC 850 form
    ("Sat Nov 21 06:02:00 2026", 120.0),               # obsolete asctime form
    ("Sat, 21 Nov 2026 05:00:00 GMT", 0.0),            # already past: no wait
    ("soon", None),
    ("-5", None),
    ("1.5", None),                                     # delay-seconds is 1*DIGIT
])
def test_retry_after_forms(header, seconds):
    request = httpx.Request("GET", "https://api.example/")
    response = httpx.Response(429, headers={"Retry-After": header, "Date": DATE},
                              request=request)
    assert retry_after(response) == seconds


def test_http_date_is_utc():
    assert http_date(DATE) == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert http_date("21/11/2026") is None


def test_policy_from_an_entry():
    policy = RetryPolicy.from_entry({"retry": {"attempts": 3, "retry_after_cap_seconds": 9}},
                                    initial_backoff=10.0)
    assert (policy.attempts, policy.budget_seconds, policy.retry_after_cap,
            policy.initial_backoff) == (3, 300.0, 9, 10.0)
    assert RetryPolicy.from_entry({}, attempts=2).attempts == 2


def test_the_entry_budget_bounds_all_its_calls_together() -> None:
    """Each call alone is within its attempts and its own time bound; together they stop
    retrying once the entry's retry budget is spent (virtual clock, no real wait)."""
    from virtual_clock import VirtualClock

    from clausewatch.collectors.rest.errors import GaveUp as KitGaveUp
    from clausewatch.collectors.rest.retry import RetryPolicy as Policy

    clock = VirtualClock()
    policy = Policy.from_entry({"retry": {"max_attempts": 4, "budget_seconds": 10}},
                               clock=clock, sleep=clock.sleep, jitter=0.0,
                               initial_backoff=2.0, max_backoff=2.0)
    request = httpx.Request("GET", "https://api.example/v1/items")
    calls = 0

    def failing() -> None:
        nonlocal calls
        calls += 1
        raise httpx.HTTPStatusError("503", request=request,
                                    response=httpx.Response(503, request=request))

    reasons = []
    for _ in range(4):
        with pytest.raises(KitGaveUp) as info:
            policy.call(failing)
        reasons.append(info.value.reason)
    # 2 s per wait, 10 s in all: the first call waits 3 times (6 s), the second twice (4 s),
    # then no call may wait at all: 4 + 3 + 1 + 1 attempts instead of 16
    assert calls == 9
    assert sum(clock.slept) == 10
    assert reasons == ["attempts", "the entry's retry budget", "the entry's retry budget",
                       "the entry's retry budget"]

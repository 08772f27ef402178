"""The failure -> CollectionError mapper on real failures from a local server: every message is
one non-empty line naming the operation and the host; bodies are summarised and redacted."""

from __future__ import annotations

from typing import Any

import pytest

from clausewatch.collectors.rest.errors import (
    ForeignLink,
    GaveUp,
    MalformedPage,
    ShortPaging,
)
from clausewatch.collectors.rest.mapper import REST_FAILURES, collection_error, summarise
from clausewatch.collectors.rest.paging import odata_pages, skip_limit_pages
from clausewatch.core.redact import MASK, Redactor

SECRET = "hunter2-api-key-value"


def failure(call) -> BaseException:
    with pytest.raises(REST_FAILURES) as info:
        call()
    return info.value


def mapped(exc: BaseException, redactor: Redactor | None = None) -> Any:
    error = collection_error(exc, source="veeam", origin="veeam/vbr-01", kinds=["backup"],
                             operation="jobs-states", redact=redactor or Redactor())
    assert error.message and "\n" not in error.message
    assert error.message.startswith("jobs-states: ")
    assert (error.source, error.origin, error.kinds, error.operation) == (
        "veeam", "veeam/vbr-01", ("backup",), "jobs-states")
    return error


def test_a_read_timeout_names_host_phase_and_limit(server, make_session):
    server.script("GET /api/v1/jobs/states", {"hang": True})
    exc = failure(lambda: make_session(read=0.05, attempts=1).get_json("v1/jobs/states"))
    error = mapped(exc)
    assert f"GET 127.0.0.1:{server.port}/api/v1/jobs/states: read timeout after 0.05 s" \
        in error.message
    assert "gave up after 1 attempt(s)" in error.message
    assert error.retryable
    assert error.details["limit_seconds"] == 0.05


def test_a_refused_connection_names_the_host(make_session):
    exc = failure(lambda: make_session(base="http://127.0.0.1:9/", attempts=1).get_json("x"))
    error = mapped(exc)
    assert "cannot connect to 127.0.0.1:9" in error.message
    assert error.retryable


def test_an_http_error_body_is_summarised_and_redacted(server, make_session):
    long_text = "The access token has expired. " * 40
    body = {"errorCode": "AccessDenied", "message": f"key {SECRET} lacks a role. {long_text}",
            "Authorization": "Bearer abc.def.ghi"}
    server.script("GET /api/v1/jobs/states", {"status": 403, "body": body})
    redactor = Redactor([SECRET])
    error = mapped(failure(lambda: make_session(redactor).get_json("v1/jobs/states")),
                   redactor)
    assert "HTTP 403 access denied" in error.message
    assert "AccessDenied key [REDACTED] lacks a role" in error.message
    assert long_text not in error.message and error.message.endswith("…")  # a summary
    assert SECRET not in error.message
    assert error.details["status"] == 403
    kept = error.details["body"]
    assert kept["message"].startswith(f"key {MASK} lacks a role")  # the body, whole...
    assert kept["message"].endswith(long_text.strip().split()[-1] + " ")
    assert kept["Authorization"] == MASK  # ...and redacted
    assert not error.retryable


def test_an_html_error_page_is_summarised_by_its_first_line(server, make_session):
    server.script("GET /api/v1/jobs", {"status": 502, "headers": {"Content-Type": "text/html"},
                                       "body": "\n<html><title>502 Bad Gateway</title>\n</html>"})
    exc = failure(lambda: make_session(attempts=1).get_json("v1/jobs"))
    error = mapped(exc)
    assert "HTTP 502 server error: <html><title>502 Bad Gateway</title>" in error.message
    assert error.retryable
    assert error.details["attempts"] == 1


def test_a_429_after_the_retries_is_retryable_and_counts_attempts(server, clock, make_session):
    server.script("GET /api/agents", {"status": 429, "body": {
        "title": "Too Many Requests", "detail": "Maximum number of requests per minute reached",
        "error": 6001}})
    error = mapped(failure(lambda: make_session(attempts=3).get_json("agents")))
    assert "HTTP 429 throttled: 6001 Too Many Requests Maximum number" in error.message
    assert "gave up after 3 attempt(s)" in error.message and "3 attempts reached" in error.message
    assert error.details["stopped_by"] == "attempts"
    assert error.retryable


def test_unparsable_json_and_malformed_pages(server, make_session):
    server.script("GET /api/v1/jobs", {"body": "{not json", "headers": {
        "Content-Type": "application/json"}})
    error = mapped(failure(lambda: list(skip_limit_pages(make_session(), "v1/jobs"))))
    assert f"127.0.0.1:{server.port}: response is not JSON (application/json" in error.message
    assert error.details["body"] == "{not json"
    assert not error.retryable

    server.script("GET /api/v1/jobs", {"body": {"data": [{"password": "p@ss-word-1"}]}})
    error = mapped(failure(lambda: list(skip_limit_pages(make_session(), "v1/jobs"))))
    assert "malformed page from" in error.message and "no 'pagination' object" in error.message
    assert error.details["body"] == {"data": [{"password": MASK}]}
    assert not error.retryable


@pytest.mark.parametrize(("exc", "words", "retryable"), [
    (ShortPaging("https://vbr:9419/api/v1/jobs?skip=4", "an empty page at skip=4",
                 announced=6, received=4), "vbr:9419: an empty page at skip=4", True),
    (ForeignLink("https://api.security.microsoft.com/api/machines", "leads to evil.example"),
     "api.security.microsoft.com: leads to evil.example", False),
    (MalformedPage("https://h/x", "no 'value' key on the page"), "malformed page from h", False),
])
def test_paging_errors(exc, words, retryable):
    error = mapped(exc)
    assert words in error.message
    assert error.retryable is retryable


def test_gave_up_wraps_the_last_failure():
    last = ShortPaging("https://h/x", "short", announced=2, received=1)
    exc = GaveUp("https://h/x", last, attempts=2, elapsed=3.21, reason="time budget", limit=3)
    error = mapped(exc)
    assert "h: short; gave up after 2 attempt(s) in 3.2 s (3 s budget reached)" in error.message
    assert error.details["error"] == "ShortPaging"


def test_summarise_shapes():
    r = Redactor()
    assert summarise(b'{"error":{"code":"BadRequest","message":"Invalid filter"}}', r) == \
        "BadRequest Invalid filter"
    assert summarise(b'{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}',
                     r) == "403 PERMISSION_DENIED denied"
    assert summarise(b'{"error":"invalid_grant","error_description":"bad user"}', r) == \
        "invalid_grant bad user"
    assert summarise(b"", r) == ""
    assert summarise(b"x" * 500, r).endswith("…") and len(summarise(b"x" * 500, r)) == 200


def test_odata_error_mapping_end_to_end(server, make_session):
    server.script("GET /api/machines", {"status": 400, "body": {"error": {
        "code": "BadRequest", "message": "Invalid filter clause", "target": "abc"}}})
    error = mapped(failure(lambda: list(odata_pages(make_session(), "machines"))))
    assert "HTTP 400 request refused: BadRequest Invalid filter clause" in error.message

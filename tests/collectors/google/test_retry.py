"""The bounded retry: real clients over REST against a local server, the fake clock only."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google_helpers import endpoints_for, retry_settings
from google_stub import error, fixture

from clausewatch.collectors.google import clients
from clausewatch.collectors.google.errors import collection_error
from clausewatch.collectors.google.pages import PageSink, discovery_pages, gapic_pages
from clausewatch.collectors.google.retry import GaveUp, RetryBudget, RetrySettings, retryable

POLICY = "POST /v3/projects/p1:getIamPolicy"
REQUEST = {"resource": "projects/p1", "options": {"requested_policy_version": 3}}


def projects(server):
    return clients.resource_manager(AnonymousCredentials(), endpoints_for(server)).projects


def test_a_429_then_success_is_retried_with_a_back_off(stub, fake_time):
    server = stub({POLICY: [error(429, "Quota exceeded", "RATE_LIMIT_EXCEEDED"),
                            "crm_v3_projects_getIamPolicy_v3.json"]})
    retry = retry_settings()
    policy = projects(server).get_iam_policy(request=REQUEST, retry=retry.retry())
    assert [b.role for b in policy.bindings][0] == "roles/owner"
    assert server.hits("POST", "/v3/projects/p1:getIamPolicy") == 2
    assert len(fake_time.slept) == 1 and 0 <= fake_time.slept[0] <= 0.5
    assert retry.budget.left == 99


def test_a_permission_denied_is_not_retried(stub, fake_time):
    server = stub({POLICY: error(403, "The caller does not have permission")})
    with pytest.raises(gexc.Forbidden):
        projects(server).get_iam_policy(request=REQUEST, retry=retry_settings().retry())
    assert server.hits("POST", "/v3/projects/p1:getIamPolicy") == 1 and not fake_time.slept


def test_attempts_are_bounded_although_retry_has_no_such_knob(stub):
    server = stub({POLICY: error(503, "unavailable")})
    with pytest.raises(GaveUp) as caught:
        projects(server).get_iam_policy(request=REQUEST, retry=retry_settings(3).retry())
    assert server.hits("POST", "/v3/projects/p1:getIamPolicy") == 3
    assert isinstance(caught.value.last, gexc.ServiceUnavailable)
    record = collection_error(caught.value, source="gcp", origin="gcp/o/p1",
                              kinds=("identity",), operation="getIamPolicy", redact=str)
    assert record.retryable and "gave up after 3 attempts" in record.message
    assert record.details["status"] == 503 and "?" not in record.message


def test_the_entry_budget_is_shared_by_every_call(stub):
    server = stub({POLICY: error(429, "slow down")})
    retry = retry_settings(attempts=10, budget=2)
    with pytest.raises(GaveUp, match="budget of 2 retries"):
        projects(server).get_iam_policy(request=REQUEST, retry=retry.retry())
    with pytest.raises(GaveUp, match="budget"):  # nothing left for the next call
        projects(server).get_iam_policy(request=REQUEST, retry=retry.retry())
    assert server.hits("POST", "/v3/projects/p1:getIamPolicy") == 4  # 3 + 1, never more


def test_the_time_bound_raises_retry_error_with_the_last_failure(stub, fake_time):
    server = stub({POLICY: error(504, "deadline")})  # REST 504 is GatewayTimeout
    retry = RetrySettings(attempts=100, timeout_seconds=10.0, initial_backoff=4.0,
                          max_backoff=4.0, budget=RetryBudget(100))
    fake_time.sleep = lambda s: setattr(fake_time, "now", fake_time.now + 4.0)  # worst case
    with pytest.raises(gexc.RetryError) as caught:
        projects(server).get_iam_policy(request=REQUEST, retry=retry.retry())
    assert isinstance(caught.value.cause, gexc.GatewayTimeout)
    assert server.hits("POST", "/v3/projects/p1:getIamPolicy") <= 4


def test_a_503_on_a_later_page_is_retried_and_the_listing_is_whole(stub, raw):
    server = stub({
        "GET /v3/folders": "crm_v3_folders_list_page1.json",
        "GET /v3/folders?pageToken=Zm9sZGVycy1wYWdlLTI": [error(503, "unavailable"),
                                                          "crm_v3_folders_list_page2.json"]})
    folders = clients.resource_manager(AnonymousCredentials(), endpoints_for(server)).folders
    retry = retry_settings()
    pager = folders.list_folders(request={"parent": "organizations/1"}, retry=retry.retry())
    pages = gapic_pages(pager.pages, PageSink(raw, "gcp", "gcp/1"), "folders")
    assert [f["name"] for body, _ in pages for f in body["folders"]] == [
        "folders/234567890123", "folders/345678901234"]
    assert pages[0][1].startswith("raw/gcp/gcp/1/folders-0001.json#sha256=")


def test_a_later_page_that_keeps_failing_leaves_no_partial_list(stub, raw):
    server = stub({
        "GET /v3/folders": "crm_v3_folders_list_page1.json",
        "GET /v3/folders?pageToken=Zm9sZGVycy1wYWdlLTI": error(503, "unavailable")})
    folders = clients.resource_manager(AnonymousCredentials(), endpoints_for(server)).folders
    pager = folders.list_folders(request={"parent": "organizations/1"},
                                 retry=retry_settings(2).retry())
    got = None
    with pytest.raises(GaveUp):
        got = gapic_pages(pager.pages, PageSink(raw, "gcp", "gcp/1"), "folders")
    assert got is None  # the first page's folders never escape as a complete list


@pytest.mark.parametrize(("body", "retried"), [
    ("admin_directory_error_403_userRateLimitExceeded.json", True),
    ("admin_directory_error_429_rateLimitExceeded.json", True),
    ("admin_directory_error_403_forbidden.json", False),
])
def test_directory_throttling_is_retried_and_a_refusal_is_not(stub, raw, body, retried):
    status = fixture(body)["error"]["code"]
    server = stub({"GET /admin/directory/v1/users": [(status, fixture(body)),
                                                     "admin_directory_users_list_page2.json"]})
    service = clients.discovery("admin", "directory_v1", AnonymousCredentials(),
                                endpoints_for(server), "admin", 10.0)
    sink = PageSink(raw, "workspace", "workspace/C1")
    if retried:
        pages = discovery_pages(service.users(), "list", sink, retry_settings(), "users",
                                customer="C1")
        assert pages[0][0]["users"][0]["primaryEmail"] == "carol@example.com"
    else:
        with pytest.raises(Exception) as caught:
            discovery_pages(service.users(), "list", sink, retry_settings(), "users",
                            customer="C1")
        assert not retryable(caught.value)
    assert server.hits("GET", "/admin/directory/v1/users") == (2 if retried else 1)


def test_a_daily_quota_403_is_not_retried(stub, raw):
    quota = (403, {"error": {"code": 403, "message": "Daily Limit Exceeded", "errors": [
        {"message": "Daily Limit Exceeded", "domain": "usageLimits", "reason": "quotaExceeded"}]}})
    server = stub({"GET /admin/directory/v1/users": quota})
    service = clients.discovery("admin", "directory_v1", AnonymousCredentials(),
                                endpoints_for(server), "admin", 10.0)
    with pytest.raises(Exception) as caught:
        discovery_pages(service.users(), "list", PageSink(raw, "workspace", "w"),
                        retry_settings(), "users", customer="C1")
    record = collection_error(caught.value, source="workspace", origin="w", kinds=("identity",),
                              operation="users.list", redact=str)
    assert record.details == {"error": "HttpError", "status": 403, "reason": "quotaExceeded"}
    assert not record.retryable and server.hits("GET", "/admin/directory/v1/users") == 1


def test_a_fields_mask_without_next_page_token_is_refused(stub, raw):
    server = stub({})
    service = clients.discovery("admin", "directory_v1", AnonymousCredentials(),
                                endpoints_for(server), "admin", 10.0)
    with pytest.raises(ValueError, match="nextPageToken"):
        discovery_pages(service.users(), "list", PageSink(raw, "w", "w"), retry_settings(),
                        "users", customer="C1", fields="users(id)")


def test_the_entry_retry_time_budget_bounds_every_call_together(stub, fake_time, monkeypatch):
    """Each call alone would retry 20 times over 120 s; the entry's 10 s of retrying are spent
    by the first, and the next call gives up at its first failure (virtual clock; the back-off
    jitter pinned to its maximum so that the figures do not depend on chance)."""
    from google.api_core.retry import retry_base

    monkeypatch.setattr(retry_base.random, "uniform", lambda low, high: high)
    server = stub({POLICY: [error(503, "UNAVAILABLE")] * 200})
    settings = RetrySettings.from_entry({"retry": {"max_attempts": 20, "budget_seconds": 10,
                                                   "initial_backoff_seconds": 1,
                                                   "max_backoff_seconds": 2}})
    with pytest.raises((GaveUp, gexc.RetryError)):
        projects(server).get_iam_policy(request=REQUEST, retry=settings.retry())
    first = server.hits(*POLICY.split(" ", 1))
    assert first < 20  # the budget, not the attempts, stopped it
    assert sum(fake_time.slept) <= 10 + 2  # within the budget (plus at most one back-off)
    with pytest.raises((GaveUp, gexc.RetryError)):
        projects(server).get_iam_policy(request=REQUEST, retry=settings.retry())
    assert server.hits(*POLICY.split(" ", 1)) - first <= 2  # barely retried, if at all
    assert settings.time_budget.remaining < 2  # less than one back-off left

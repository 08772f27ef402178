"""IAM conditions: only an expiry (or a start) that has certainly passed takes a role away."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clausewatch.collectors.gcp.conditions import evaluate
from clausewatch.collectors.gcp.members import MemberKind, parse_member

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "held", "evaluated"), [
    ("request.time < timestamp('2027-01-01T00:00:00.000Z')", True, True),
    ('request.time < timestamp("2026-01-01T00:00:00Z")', False, True),  # expired
    ("request.time <= timestamp('2026-11-22T06:00:00Z')", True, True),  # the last instant
    ("request.time > timestamp('2026-12-01T00:00:00Z')", False, True),  # not started
    ("(request.time < timestamp('2026-01-01T00:00:00Z'))", False, True),
    ("resource.name.startsWith('projects/_/buckets/x') && "
     "request.time < timestamp('2026-01-01T00:00:00Z')", False, True),  # A && false
    ("resource.type == 'x' && request.time < timestamp('2027-01-01T00:00:00Z')", True, False),
    ("request.time < timestamp('2026-01-01T00:00:00Z') || resource.type == 'x'", True, False),
    ("!(request.time < timestamp('2027-01-01T00:00:00Z'))", True, False),
    ("resource.name == 'a && request.time < timestamp(\"2020-01-01T00:00:00Z\") && b'",
     True, False),  # inside a string literal: not a clause
    ("request.time < timestamp('not a date')", True, False),
    ("request.time < timestamp('2026-01-01T00:00:00Z') ? true : false", True, False),
    ("destination.ip == '10.0.0.1' &&", True, False),  # malformed
])
def test_conditions_are_read_conservatively(expression, held, evaluated):
    verdict = evaluate(expression, AS_OF)
    assert (verdict.held, verdict.evaluated) == (held, evaluated)


def test_the_expiry_is_reported():
    verdict = evaluate("request.time < timestamp('2027-01-01T00:00:00.000Z')", AS_OF)
    assert verdict.expires_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert "2027-01-01" in verdict.note


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("user:Alice@Example.com", MemberKind.USER, "alice@example.com"),
    ("serviceAccount:ci@p.iam.gserviceaccount.com", MemberKind.SERVICE_ACCOUNT,
     "ci@p.iam.gserviceaccount.com"),
    ("group:devs@example.com", MemberKind.GROUP, "devs@example.com"),
    ("domain:example.com", MemberKind.DOMAIN, "example.com"),
    ("deleted:user:bob@example.com?uid=123", MemberKind.DELETED, "user:bob@example.com?uid=123"),
    ("deleted:principal://iam.googleapis.com/locations/global/workforcePools/p/subject/x",
     MemberKind.DELETED, "principal://iam.googleapis.com/locations/global/workforcePools/p/"
                         "subject/x"),
    ("principal://iam.googleapis.com/locations/global/workforcePools/p/subject/x",
     MemberKind.WORKFORCE, None),
    ("principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/"
     "subject/x", MemberKind.WORKLOAD, None),
    ("principalSet://iam.googleapis.com/locations/global/workforcePools/p/*",
     MemberKind.PRINCIPAL_SET, None),
    ("allUsers", MemberKind.ALL_USERS, "allUsers"),
    ("allAuthenticatedUsers", MemberKind.ALL_AUTHENTICATED, "allAuthenticatedUsers"),
    ("projectOwner:prod-a", MemberKind.OTHER, "projectOwner:prod-a"),
])
def test_members_are_told_apart(text, kind, value):
    member = parse_member(text)
    assert member.kind is kind
    assert member.value == (value if value is not None else text)

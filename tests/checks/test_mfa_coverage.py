"""mfa_coverage: populations, enforced vs registered, unknown and stale data, grace period."""

from __future__ import annotations

import pytest
from builders import AS_OF, commitment, days_ago, identity

from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.checks.mfa_coverage import mfa_coverage
from clausewatch.core.result import Status


def run(records, params=None, **population):
    c = commitment("mfa_coverage", params or {}, population=population)
    return {r.subject: r for r in mfa_coverage(c, EvidenceView(records), AS_OF)}


ESTATE = [
    identity("alice", mfa_enforced_by="CA001"),
    identity("bob", mfa_enforced=False),  # registered, not enforced
    identity("guest", account_type="guest", mfa_enforced=False, mfa_registered=False),
    identity("gone", enabled=False, mfa_enforced=False),
    identity("ci-bot", account_type="service", mfa_enforced=False, mfa_registered=False),
    identity("root", account_type="root", privileged=True),
    identity("admin", privileged=True, privileged_reason="Global Administrator",
             mfa_enforced=False),
    identity("bg-01", privileged=True, mfa_enforced=False),
    identity("accueil", account_type="shared_mailbox", mfa_enforced=False),
]


def test_default_population_leaves_out_guests_disabled_service_and_shared_mailboxes():
    out = run(ESTATE)
    assert set(out) == {"alice", "bob", "root", "admin", "bg-01"}
    assert out["alice"].status is Status.COMPLIANT
    assert "enforced by CA001" in out["alice"].reason
    assert out["bob"].status is Status.BREACHED
    assert "registered but not enforced" in out["bob"].reason


def test_population_switches_bring_them_in():
    out = run(ESTATE, include_guests=True, include_disabled=True, include_service_accounts=True,
              include_shared_mailboxes=True)
    assert {"guest", "gone", "ci-bot", "accueil"} <= set(out)
    assert out["guest"].status is Status.BREACHED


def test_privileged_only_with_break_glass_excluded():
    out = run(ESTATE, privileged_only=True, break_glass=["bg-01"])
    assert set(out) == {"root", "admin"}
    assert out["admin"].reason == "admin (Global Administrator): MFA registered but not enforced."


def test_registered_is_enough_when_the_commitment_says_so():
    out = run(ESTATE, params={"require": "registered"})
    assert out["bob"].status is Status.COMPLIANT


def test_unknown_enforcement_is_no_evidence():
    out = run([identity("x", mfa_enforced=None)])
    assert out["x"].status is Status.NO_EVIDENCE


def test_stale_identity_data_is_no_evidence():
    out = run([identity("x", observed_at=days_ago(3))], params={"freshness_days": 2})
    assert out["x"].status is Status.NO_EVIDENCE
    assert "3.0 days old" in out["x"].reason


def test_new_account_within_grace_is_at_risk_then_breached():
    new = identity("new", mfa_enforced=False, mfa_registered=False, created_at=days_ago(3))
    old = identity("old", mfa_enforced=False, mfa_registered=False, created_at=days_ago(9))
    out = run([new, old], params={"grace_days": 7})
    assert out["new"].status is Status.AT_RISK
    assert out["new"].due == days_ago(3 - 7)
    assert out["old"].status is Status.BREACHED


def test_sources_scope():
    a = identity("a", source="entra")
    b = identity("b", source="aws.iam")
    c = commitment("mfa_coverage", {}, sources=("entra",))
    assert [r.subject for r in mfa_coverage(c, EvidenceView([a, b]), AS_OF)] == ["a"]


def test_unknown_privilege_is_no_evidence_in_a_privileged_population():
    out = run([identity("x", privileged=None, mfa_enforced=False)], privileged_only=True)
    assert out["x"].status is Status.NO_EVIDENCE
    assert "does not say whether the account is privileged" in out["x"].reason


def test_unknown_enabled_flag_keeps_the_account_in():
    out = run([identity("x", enabled=None, mfa_enforced=False)])
    assert out["x"].status is Status.BREACHED


@pytest.mark.parametrize(
    ("enforced", "registered", "status", "reason"),
    [
        (True, True, Status.COMPLIANT, "x: MFA enforced by CA001 and a method registered."),
        (True, False, Status.BREACHED, "x: MFA enforced by CA001 but no method registered: "
         "whoever holds the password can enroll one."),
        (False, True, Status.BREACHED, "x: MFA registered but not enforced."),
        (False, False, Status.BREACHED, "x: MFA neither enforced nor registered."),
        (False, None, Status.BREACHED, "x: MFA not enforced."),
        (None, False, Status.BREACHED,
         "x: MFA not registered (whether a policy enforces it is unknown)."),
        (True, None, Status.NO_EVIDENCE, "x: test does not say whether MFA is registered."),
        (None, True, Status.NO_EVIDENCE, "x: test does not say whether MFA is enforced."),
        (None, None, Status.NO_EVIDENCE,
         "x: test does not say whether MFA is enforced or registered."),
    ],
)
def test_enforced_and_registered_needs_both(enforced, registered, status, reason):
    record = identity("x", mfa_enforced=enforced, mfa_registered=registered,
                      mfa_enforced_by="CA001" if enforced else None)
    out = run([record], params={"require": "enforced_and_registered"})
    assert (out["x"].status, out["x"].reason) == (status, reason)


def test_enforced_alone_keeps_its_meaning_when_no_method_is_registered():
    out = run([identity("x", mfa_enforced=True, mfa_registered=False)])
    assert out["x"].status is Status.COMPLIANT

"""backup_freshness and restore_test at their boundaries."""

from __future__ import annotations

from datetime import timedelta

from builders import AS_OF, asset, commitment, days_ago, ev

from clausewatch.checks.backup_freshness import backup_freshness
from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.checks.restore_test import restore_test
from clausewatch.core.result import Status


def backup(subject, completed, outcome="success"):
    return ev("backup", subject, {"outcome": outcome, "completed_at": completed})


def rtest(subject, completed, outcome="success", minutes=None, method="automated"):
    return ev("restore_test", subject, {"outcome": outcome, "completed_at": completed,
                                        "duration_minutes": minutes, "method": method})


def backups(records, **kw):
    c = commitment("backup_freshness", {"rpo_hours": 24}, asset_kinds=("database",), **kw)
    return {r.subject: r for r in backup_freshness(c, EvidenceView(records), AS_OF)}


def test_rpo_boundary():
    out = backups([asset("db1", kind="database"), backup("db1", AS_OF - timedelta(hours=24)),
                   asset("db2", kind="database"),
                   backup("db2", AS_OF - timedelta(hours=24, seconds=1))])
    assert out["db1"].status is Status.COMPLIANT
    assert out["db2"].status is Status.BREACHED
    assert out["db2"].due == AS_OF - timedelta(seconds=1)


def test_never_backed_up_in_scope_resource_is_breached():
    out = backups([asset("db1", kind="database"), backup("db1", days_ago(0, 2), "failed")])
    assert out["db1"].status is Status.BREACHED
    assert "never backed up successfully (1 failed attempt(s))" in out["db1"].reason


def test_only_successes_count_and_warning_window_gives_at_risk():
    out = backups([asset("db1", kind="database"), backup("db1", days_ago(0, 20)),
                   backup("db1", days_ago(0, 1), "failed")], warning_days=0.25)
    assert out["db1"].status is Status.AT_RISK
    assert out["db1"].due == days_ago(0, 20) + timedelta(hours=24)


def test_out_of_scope_assets_are_not_judged():
    out = backups([asset("vm", kind="server")])
    assert out == {}


def restores(records, **params):
    c = commitment("restore_test", {"period_days": 92, **params}, warning_days=14)
    return {r.subject: r for r in restore_test(c, EvidenceView(records), AS_OF)}


def test_restore_period_at_risk_and_breached():
    out = restores([asset("a"), rtest("a", days_ago(30)),
                    asset("b"), rtest("b", days_ago(85)),
                    asset("c"), rtest("c", days_ago(93)),
                    asset("d")])
    assert out["a"].status is Status.COMPLIANT
    assert out["b"].status is Status.AT_RISK
    assert out["c"].status is Status.BREACHED
    assert out["d"].status is Status.BREACHED
    assert "no successful restore test on record" in out["d"].reason


def test_rto_too_slow_does_not_count_and_attested_can_be_refused():
    out = restores([asset("a"), rtest("a", days_ago(10), minutes=300),
                    rtest("a", days_ago(100), minutes=100),
                    asset("b"), rtest("b", days_ago(10), method="attested")],
                   max_duration_minutes=240, accept_attested=False)
    assert out["a"].status is Status.BREACHED
    assert out["b"].status is Status.BREACHED
    # the slow test does not count: the one that does is 100 days old, past the 92-day period
    assert "100 days ago (period 92 days)" in out["a"].reason
    assert out["a"].measured["duration_minutes"] == 100
    assert "no successful restore test on record" in out["b"].reason  # attested: refused

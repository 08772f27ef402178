"""patch_lag at its boundaries: deadlines, DST, late installs, windows, stale and missing data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from builders import AS_OF, asset, commitment, contract, days_ago, patch

from clausewatch.checks.engine import evaluate
from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.checks.patch_lag import patch_lag
from clausewatch.core.evidence import CollectionError
from clausewatch.core.result import Status

DEADLINES = {"deadlines_days": {"critical": 7, "important": 30}}


def run(evidence, as_of=AS_OF, **kw):
    c = commitment("patch_lag", {**DEADLINES, **kw.pop("params", {})}, **kw)
    return list(patch_lag(c, EvidenceView(evidence), as_of))


def fresh(name="srv1", **kw):
    return asset(name, patch_assessed_at=days_ago(0, 2), **kw)


def test_missing_exactly_at_deadline_is_compliant_one_second_later_breached():
    released = AS_OF - timedelta(days=7)
    records = [fresh(), patch("srv1", "KB1", "critical", "missing", released_at=released)]
    c = commitment("patch_lag", DEADLINES, tz=ZoneInfo("UTC"))
    (at,) = patch_lag(c, EvidenceView(records), AS_OF)
    assert at.status is Status.COMPLIANT
    (after,) = patch_lag(c, EvidenceView(records), AS_OF + timedelta(seconds=1))
    assert after.status is Status.BREACHED
    assert after.due == AS_OF
    assert "KB1 (critical)" in after.reason


def test_installed_exactly_at_deadline_is_on_time():
    released = days_ago(20)
    (r,) = run([fresh(), patch("srv1", "KB1", "critical", "installed", released_at=released,
                               installed_at=released + timedelta(days=7))])
    assert r.status is Status.COMPLIANT


def test_deadline_counts_calendar_days_across_a_dst_change():
    # Released Friday 2026-10-23 10:00 Paris (UTC+2); clocks go back on 2026-10-25.
    released = datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    due_paris = datetime(2026, 10, 30, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # UTC+1: 09:00Z
    records = [asset("srv1", patch_assessed_at=due_paris, observed_at=due_paris), patch(
        "srv1", "KB1", "critical", "missing", released_at=released, observed_at=due_paris)]
    c = commitment("patch_lag", DEADLINES)  # Europe/Paris
    just_before = due_paris - timedelta(minutes=1)
    (r1,) = patch_lag(c, EvidenceView(records), just_before.astimezone(UTC))
    # 7 x 24 h after release (08:00Z) has passed, but the wall-clock deadline has not.
    assert just_before.astimezone(UTC) > released + timedelta(hours=7 * 24)
    assert r1.status is Status.COMPLIANT
    (r2,) = patch_lag(c, EvidenceView(records), (due_paris + timedelta(minutes=1)).astimezone(UTC))
    assert r2.status is Status.BREACHED
    assert r2.due == due_paris.astimezone(UTC)


def test_late_install_inside_window_is_a_breach_even_if_installed_now():
    released = days_ago(25)
    (r,) = run([fresh(), patch("srv1", "KB2", "critical", "installed", released_at=released,
                               installed_at=released + timedelta(days=10))])
    assert r.status is Status.BREACHED
    assert r.measured["findings"][0]["state"] == "installed late"
    assert r.measured["findings"][0]["days_late"] == 3


def test_late_install_before_window_no_longer_counts():
    released = days_ago(60)
    (r,) = run(
        [fresh(), patch("srv1", "KB2", "critical", "installed", released_at=released,
                        installed_at=released + timedelta(days=10))],
        params={"window_days": 30},
    )
    assert r.status is Status.COMPLIANT


def test_due_within_warning_window_is_at_risk_with_due_date():
    released = days_ago(6)
    (r,) = run([fresh(), patch("srv1", "KB3", "critical", "missing", released_at=released)],
               warning_days=2, tz=ZoneInfo("UTC"))
    assert r.status is Status.AT_RISK
    assert r.due == released + timedelta(days=7)


def test_failed_install_counts_as_outstanding():
    (r,) = run([fresh(), patch("srv1", "KB4", "critical", "failed", released_at=days_ago(9))])
    assert r.status is Status.BREACHED


def test_clock_at_detection_vs_release():
    p = patch("srv1", "KB5", "critical", "missing", released_at=days_ago(30),
              first_seen_at=days_ago(3))
    (by_release,) = run([fresh(), p])
    (by_detection,) = run([fresh(), p], params={"clock": "detection"})
    assert by_release.status is Status.BREACHED
    assert by_detection.status is Status.COMPLIANT


def test_other_severities_and_not_applicable_are_ignored():
    (r,) = run([fresh(),
                patch("srv1", "KB6", "low", "missing", released_at=days_ago(300)),
                patch("srv1", "KB7", "critical", "not_applicable", released_at=days_ago(300))])
    assert r.status is Status.COMPLIANT


def test_asset_without_patch_data_is_no_evidence():
    (r,) = run([asset("srv-unmanaged")])
    assert r.status is Status.NO_EVIDENCE
    assert "no patch data" in r.reason


def test_stale_patch_data_is_no_evidence_even_if_it_looked_fine():
    old = days_ago(10)
    (r,) = run([asset("srv1", patch_assessed_at=old),
                patch("srv1", "KB8", "critical", "installed", released_at=days_ago(40),
                      installed_at=days_ago(39), observed_at=old)],
               params={"freshness_days": 7})
    assert r.status is Status.NO_EVIDENCE
    assert "10.0 days old" in r.reason


def test_undated_update_is_no_evidence_not_compliant():
    (r,) = run([fresh(), patch("srv1", "KB9", "critical", "missing")])
    assert r.status is Status.NO_EVIDENCE
    assert "KB9" in r.reason


def test_scope_by_kind_and_tags_and_evidence_trace():
    prod = fresh("web", tags={"env": "prod"})
    dev = fresh("dev", tags={"env": "dev"})
    pc = asset("pc", kind="workstation", patch_assessed_at=days_ago(0, 1))
    miss = patch("web", "KB1", "critical", "missing", released_at=days_ago(9))
    c = commitment("patch_lag", DEADLINES, asset_kinds=("server",), tags={"env": "prod"})
    results = list(patch_lag(c, EvidenceView([prod, dev, pc, miss]), AS_OF))
    assert [r.subject for r in results] == ["web"]
    assert results[0].evidence_ids == (prod.id, miss.id)


def test_evaluate_turns_collection_error_into_no_evidence_for_its_origin():
    a1 = asset("a1", patch_assessed_at=days_ago(0, 1), origin="aws/111/eu-west-3")
    a2 = asset("a2", patch_assessed_at=days_ago(0, 1), origin="aws/222/eu-west-3")
    err = CollectionError(source="aws.ssm", origin="aws/222", kinds=("patch",),
                          message="AccessDenied", operation="DescribeInstancePatches")
    out = evaluate(contract(commitment("patch_lag", DEADLINES)), [a1, a2], [err], AS_OF)
    by = {r.subject: r for r in out.outcomes[0].results}
    assert by["a1"].status is Status.COMPLIANT
    assert by["a2"].status is Status.NO_EVIDENCE
    assert "AccessDenied" in by["a2"].reason
    assert out.outcomes[0].verdict.status is Status.NO_EVIDENCE


def test_outstanding_update_without_severity_is_no_evidence_unless_mapped():
    records = [fresh(), patch("srv1", "RHSA-1", "unspecified", "missing",
                              released_at=days_ago(90))]
    (r,) = run(records)
    assert r.status is Status.NO_EVIDENCE and "without a severity" in r.reason
    (mapped,) = run(records, params={"unrated_as": "important"})
    assert mapped.status is Status.BREACHED
    (ignored,) = run(records, params={"unrated_as": "ignore"})
    assert ignored.status is Status.COMPLIANT


def test_release_fallback_says_what_an_update_without_release_date_starts_from():
    p = patch("srv1", "KB10", "critical", "missing", first_seen_at=days_ago(3),
              release_date_note="no release date: MSRC does not list KB10")
    (default,) = run([fresh(), p])  # clock release, fallback detection: 3 of 7 days
    assert default.status is Status.COMPLIANT
    (strict,) = run([fresh(), p], params={"release_fallback": "no_evidence"})
    assert strict.status is Status.NO_EVIDENCE
    assert "no release date (release_fallback: no_evidence)" in strict.reason
    assert "MSRC does not list KB10" in strict.reason
    (detection,) = run([fresh(), p], params={"clock": "detection",
                                             "release_fallback": "no_evidence"})
    assert detection.status is Status.COMPLIANT  # the detection clock needs no release date
    dated = patch("srv1", "KB11", "critical", "missing", released_at=days_ago(30),
                  first_seen_at=days_ago(3))
    (r,) = run([fresh(), dated], params={"release_fallback": "no_evidence"})
    assert r.status is Status.BREACHED


def test_an_update_installed_before_the_window_is_passed_over_only_with_its_clock_dated():
    """Updates installed before the window say nothing, but one whose clock has no start
    (no release date with fallback no_evidence, no detection with the detection clock) still
    makes its asset no_evidence, among updates that are passed over."""
    old = [patch("srv1", f"KB{i}", "critical", "installed", released_at=days_ago(90),
                 first_seen_at=days_ago(89), installed_at=days_ago(88)) for i in range(5)]
    (ok,) = run([fresh(), *old])
    assert ok.status is Status.COMPLIANT and ok.evidence_ids == ("test:asset:srv1",)
    undated = patch("srv1", "KB9", "critical", "installed", first_seen_at=days_ago(89),
                    installed_at=days_ago(88))
    (fallback,) = run([fresh(), *old, undated])  # release clock, detection fallback: dated
    assert fallback.status is Status.COMPLIANT
    (strict,) = run([fresh(), *old, undated], params={"release_fallback": "no_evidence"})
    assert strict.status is Status.NO_EVIDENCE and "KB9" in strict.reason
    undetected = patch("srv1", "KB8", "critical", "installed", released_at=days_ago(90),
                       installed_at=days_ago(88))
    (detection,) = run([fresh(), *old, undetected],
                       params={"clock": "detection", "release_fallback": "no_evidence"})
    assert detection.status is Status.COMPLIANT  # the detection clock falls back to release
    neither = patch("srv1", "KB7", "critical", "installed", installed_at=days_ago(88))
    for params in ({}, {"clock": "detection"}):
        (r,) = run([fresh(), *old, neither], params=params)
        assert r.status is Status.NO_EVIDENCE and "KB7" in r.reason

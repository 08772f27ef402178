"""The engine: verdicts from results, waivers, collection errors, and the one rule."""

from __future__ import annotations

import math
from datetime import date, timedelta

from builders import AS_OF, PARIS, asset, commitment, contract, days_ago, identity, patch
from hypothesis import given
from hypothesis import strategies as st

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate, make_verdict
from clausewatch.core.contract import Waiver
from clausewatch.core.evidence import CollectionError
from clausewatch.core.result import Result, Status

DEADLINES = {"deadlines_days": {"critical": 7}}


def results(*statuses: Status) -> list[Result]:
    return [Result(commitment_id="C1", subject=f"s{i}", status=s, reason="r",
                   due=AS_OF if s is Status.AT_RISK else None)
            for i, s in enumerate(statuses)]


def test_verdict_bounds():
    c95 = commitment("patch_lag", DEADLINES, target=0.95)
    ok = [Status.COMPLIANT] * 97
    v = make_verdict(c95, results(*ok, Status.BREACHED, Status.NO_EVIDENCE, Status.NO_EVIDENCE))
    assert v.status is Status.COMPLIANT and v.measured == 0.97
    v = make_verdict(c95, results(*ok[:94], *[Status.NO_EVIDENCE] * 6))
    assert v.status is Status.NO_EVIDENCE  # 94% certain, up to 100% possible: undecided
    v = make_verdict(c95, results(*ok[:94], *[Status.BREACHED] * 6))
    assert v.status is Status.BREACHED
    v = make_verdict(c95, results(*ok[:94], *[Status.AT_RISK] * 6))
    assert v.status is Status.AT_RISK and v.due == AS_OF


def test_verdict_with_nothing_counted_is_no_evidence_and_waived_leave_the_count():
    c = commitment("patch_lag", DEADLINES)
    assert make_verdict(c, []).status is Status.NO_EVIDENCE
    assert make_verdict(c, results(Status.WAIVED)).status is Status.WAIVED
    v = make_verdict(c, results(Status.WAIVED, Status.COMPLIANT))
    assert v.status is Status.COMPLIANT and v.measured == 1.0


def _waiver(expires: date, **kw) -> Waiver:
    return Waiver(commitment="C1", subjects=("srv1",), reason="legacy", approver="DSI",
                  expires=expires, **kw)


def _breached_estate():
    return [asset("srv1", patch_assessed_at=days_ago(0, 1)),
            patch("srv1", "KB1", "critical", "missing", released_at=days_ago(30))]


def test_waiver_expiring_today_still_applies_and_expired_one_does_not():
    today = AS_OF.astimezone(PARIS).date()
    c = commitment("patch_lag", DEADLINES)
    live = evaluate(contract(c, waivers=(_waiver(today),)), _breached_estate(), [], AS_OF)
    (r,) = live.outcomes[0].results
    assert r.status is Status.WAIVED
    assert r.waiver is not None and r.waiver["status_without_waiver"] == "breached"
    assert live.waivers[0].status == "in_force"
    assert live.outcomes[0].verdict.status is Status.WAIVED

    gone = evaluate(contract(c, waivers=(_waiver(today - timedelta(days=1)),)),
                    _breached_estate(), [], AS_OF)
    assert gone.outcomes[0].results[0].status is Status.BREACHED
    assert gone.waivers[0].status == "expired"


def test_waiver_not_yet_granted_does_not_apply():
    today = AS_OF.astimezone(PARIS).date()
    w = _waiver(today + timedelta(days=30), granted=today + timedelta(days=1))
    out = evaluate(contract(commitment("patch_lag", DEADLINES), waivers=(w,)),
                   _breached_estate(), [], AS_OF)
    assert out.outcomes[0].results[0].status is Status.BREACHED
    assert out.waivers[0].status == "not_yet"


def test_inventory_error_without_subjects_is_a_result_of_its_own():
    err = CollectionError(source="entra", origin="entra/t1", kinds=("identity",),
                          message="401 Unauthorized")
    out = evaluate(contract(commitment("mfa_coverage", {})), [], [err], AS_OF)
    (r,) = out.outcomes[0].results
    assert r.status is Status.NO_EVIDENCE and "401 Unauthorized" in r.reason
    assert out.partial and out.status is Status.NO_EVIDENCE


def test_error_on_unrelated_kind_does_not_touch_the_commitment():
    err = CollectionError(source="aws.backup", origin="aws/1", kinds=("backup",), message="x")
    out = evaluate(contract(commitment("mfa_coverage", {})), [identity("a", origin="aws/1")],
                   [err], AS_OF)
    assert out.outcomes[0].results[0].status is Status.COMPLIANT


def test_inventory_error_of_one_source_leaves_other_sources_subjects_alone():
    server = asset("srv", patch_assessed_at=days_ago(0, 1), origin="aws/1/eu-west-3")
    err = CollectionError(source="aws.rds", origin="aws/1/eu-west-3", kinds=("asset",),
                          message="AccessDenied", operation="DescribeDBInstances")
    out = evaluate(contract(commitment("patch_lag", DEADLINES)), [server], [err], AS_OF)
    by = {r.subject: r for r in out.outcomes[0].results}
    assert by["srv"].status is Status.COMPLIANT
    (gap,) = (r for r in out.outcomes[0].results if r.subject != "srv")
    assert gap.status is Status.NO_EVIDENCE  # unseen assets (of any kind) may exist
    assert gap.subject == err.id and "DescribeDBInstances" in gap.reason
    assert out.outcomes[0].verdict.status is Status.NO_EVIDENCE


# ---- the one rule, as properties ----------------------------------------------------------

statuses = st.sampled_from(list(Status))


@given(st.lists(statuses, max_size=60), st.floats(min_value=0, max_value=1))
def test_a_compliant_verdict_holds_even_if_every_unknown_subject_failed(sts, target):
    c = commitment("patch_lag", DEADLINES, target=target)
    v = make_verdict(c, results(*sts))
    counted = [s for s in sts if s is not Status.WAIVED]
    if v.status in (Status.COMPLIANT, Status.AT_RISK):
        assert counted
        ok = sum(s in (Status.COMPLIANT, Status.AT_RISK) for s in counted)
        assert ok / len(counted) >= target


@given(st.lists(st.sampled_from(CHECKS.names()), min_size=1, max_size=4))
def test_no_evidence_at_all_is_never_compliant(checks):
    params = {"patch_lag": DEADLINES, "mfa_coverage": {}, "backup_freshness": {"rpo_hours": 24},
              "restore_test": {"period_days": 92}}
    cs = [commitment(n, params[n], cid=f"C{i}") for i, n in enumerate(checks)]
    out = evaluate(contract(*cs), [], [], AS_OF)
    assert all(o.verdict.status is Status.NO_EVIDENCE for o in out.outcomes)


@given(
    assessed=st.one_of(st.none(), st.floats(min_value=7.01, max_value=400)),
    installed=st.booleans(),
    kind=st.sampled_from(["server", "workstation"]),
)
def test_asset_with_missing_or_stale_patch_data_is_never_compliant(assessed, installed, kind):
    stamp = None if assessed is None else days_ago(assessed)
    records = [asset("a", kind=kind, patch_assessed_at=stamp)]
    if installed and stamp is not None:
        records.append(patch("a", "KB1", "critical", "installed", released_at=days_ago(500),
                             installed_at=days_ago(499), observed_at=stamp))
    out = evaluate(contract(commitment("patch_lag", {**DEADLINES, "freshness_days": 7})),
                   records, [], AS_OF)
    assert out.outcomes[0].results[0].status is Status.NO_EVIDENCE
    assert out.outcomes[0].verdict.status is Status.NO_EVIDENCE


@given(st.lists(st.sampled_from(["aws/1", "aws/1/eu-west-1", "aws/2", "aws/10"]), min_size=1,
                max_size=8), st.sampled_from(["aws/1", "aws/2", ""]))
def test_collection_error_never_leaves_a_covered_subject_compliant(origins, failed):
    records = [identity(f"u{i}", origin=o, source="aws.iam") for i, o in enumerate(origins)]
    err = CollectionError(source="aws.iam", origin=failed, kinds=("identity",), message="denied")
    out = evaluate(contract(commitment("mfa_coverage", {})), records, [err], AS_OF)
    for r in out.outcomes[0].results:
        o = dict(zip([f"u{i}" for i in range(len(origins))], origins, strict=True)).get(r.subject)
        covered = o is None or failed == "" or o == failed or o.startswith(failed + "/")
        if covered:
            assert r.status is Status.NO_EVIDENCE
    assert out.outcomes[0].verdict.status is not Status.COMPLIANT or not any(
        o == failed or o.startswith(failed + "/") or failed == "" for o in origins)


def test_error_for_everything_from_a_source_covers_records_without_origin():
    srv = asset("srv", patch_assessed_at=days_ago(0, 1))  # no origin given
    err = CollectionError(source="test", origin="", kinds=("patch",), message="API down")
    out = evaluate(contract(commitment("patch_lag", DEADLINES)), [srv], [err], AS_OF)
    assert out.outcomes[0].results[0].status is Status.NO_EVIDENCE


def test_waiver_never_hides_missing_evidence_and_labels_must_be_unique():
    today = AS_OF.astimezone(PARIS).date()
    stale = [asset("srv1", patch_assessed_at=days_ago(30))]
    out = evaluate(contract(commitment("patch_lag", DEADLINES),
                            waivers=(_waiver(today + timedelta(days=9)),)), stale, [], AS_OF)
    assert out.outcomes[0].results[0].status is Status.NO_EVIDENCE

    twins = [asset("i-1", name="srv1", patch_assessed_at=days_ago(0, 1)),
             asset("i-2", name="srv1", patch_assessed_at=days_ago(0, 1)),
             patch("i-1", "KB1", "critical", "missing", released_at=days_ago(30)),
             patch("i-2", "KB1", "critical", "missing", released_at=days_ago(30))]
    out = evaluate(contract(commitment("patch_lag", DEADLINES),
                            waivers=(_waiver(today + timedelta(days=9)),)), twins, [], AS_OF)
    assert {r.status for r in out.outcomes[0].results} == {Status.BREACHED}


@given(target=st.one_of(st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.5, 1.5]),
                        st.floats().filter(lambda x: not 0 <= x <= 1)),
       statuses=st.lists(st.sampled_from([Status.COMPLIANT, Status.BREACHED, Status.AT_RISK,
                                          Status.NO_EVIDENCE, Status.WAIVED]), max_size=20))
def test_a_target_that_is_not_a_finite_share_is_never_compliant(target, statuses):
    """2 of 2 breached with target NaN used to come out compliant (NaN comparisons are false)."""
    v = make_verdict(commitment("patch_lag", DEADLINES, target=target), results(*statuses))
    assert v.status is Status.NO_EVIDENCE
    assert v.measured is None and math.isfinite(v.target)  # results.json stays valid JSON
    assert "is not a share from 0 to 1" in v.reason


def test_nan_target_with_every_subject_breached_is_not_compliant():
    v = make_verdict(commitment("patch_lag", DEADLINES, target=float("nan")),
                     results(Status.BREACHED, Status.BREACHED))
    assert v.status is Status.NO_EVIDENCE


@given(where=st.sampled_from(["freshness_days", "window_days", "deadline"]),
       bad=st.sampled_from([float("nan"), float("inf"), float("-inf")]))
def test_a_non_finite_parameter_is_never_compliant(where, bad):
    params = {"deadlines_days": {"critical": bad if where == "deadline" else 7}}
    if where != "deadline":
        params[where] = bad
    v = make_verdict(commitment("patch_lag", params), results(Status.COMPLIANT))
    assert v.status is Status.NO_EVIDENCE and "is not a finite number" in v.reason


def test_a_non_finite_warning_period_is_never_compliant():
    c = commitment("patch_lag", DEADLINES, warning_days=float("nan"))
    assert make_verdict(c, results(Status.COMPLIANT)).status is Status.NO_EVIDENCE

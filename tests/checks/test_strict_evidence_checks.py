"""Evidence the checks cannot judge is no_evidence: observed in the future, non-finite numbers,
unknown severities, subjects that differ in case, unknown assets, scope facts not reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import AS_OF, asset, commitment, contract, days_ago, ev, identity, patch

from clausewatch.checks.backup_freshness import backup_freshness
from clausewatch.checks.engine import evaluate
from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.checks.mfa_coverage import mfa_coverage
from clausewatch.checks.patch_lag import patch_lag, severity_key
from clausewatch.checks.restore_test import restore_test
from clausewatch.collectors.jsonl import _Reader, dumps
from clausewatch.core.limits import CLOCK_SKEW
from clausewatch.core.result import Status
from clausewatch.core.subjects import subject_key

DEADLINES = {"deadlines_days": {"critical": 7, "important": 30}}
FUTURE = AS_OF + CLOCK_SKEW + timedelta(seconds=1)
WITHIN_SKEW = AS_OF + CLOCK_SKEW


def fresh(subject="srv1", **facts):
    return asset(subject, patch_assessed_at=days_ago(0, 2), **facts)


def judged(records, check=patch_lag, params=DEADLINES, **scope):
    c = commitment(check.__name__, params, **scope)
    return {r.subject: r for r in check(c, EvidenceView(records), AS_OF)}


# --- observed in the future -------------------------------------------------------------------

def backup(subject, completed, **kw):
    return ev("backup", subject, {"outcome": "success", "completed_at": completed}, **kw)


@pytest.mark.parametrize("records", [
    [asset("srv1", patch_assessed_at=FUTURE)],  # the asset's own stamp
    [asset("srv1", observed_at=FUTURE, patch_assessed_at=days_ago(0, 2))],
    [fresh(), patch("srv1", "KB1", "critical", "installed", observed_at=FUTURE,
                    released_at=days_ago(3), installed_at=days_ago(1))],
    [fresh(), patch("srv1", "KB1", "critical", "installed", released_at=days_ago(3),
                    installed_at=FUTURE)],
    [fresh(), patch("srv1", "KB1", "critical", "missing", released_at=FUTURE)],
])
def test_patch_data_from_the_future_is_never_fresh(records):
    r = judged(records)["srv1"]
    assert r.status is Status.NO_EVIDENCE
    assert "observed in the future" in r.reason and "5 min allowed clock skew" in r.reason


def test_within_the_clock_skew_is_judged():
    r = judged([asset("srv1", patch_assessed_at=WITHIN_SKEW, observed_at=WITHIN_SKEW)])["srv1"]
    assert r.status is Status.COMPLIANT


def test_a_future_backup_does_not_make_a_resource_backed_up():
    records = [asset("db1", "database"), backup("db1", days_ago(3)), backup("db1", FUTURE)]
    r = judged(records, backup_freshness, {"rpo_hours": 24})["db1"]
    assert r.status is Status.NO_EVIDENCE
    assert "completed_at=" in r.reason and "observed in the future" in r.reason
    assert "on the rest: db1: last successful backup -0.1 h ago" in r.reason


def test_a_future_restore_test_and_a_future_identity():
    test = ev("restore_test", "db1", {"outcome": "success", "completed_at": FUTURE})
    r = judged([asset("db1", "database"), test], restore_test, {"period_days": 92})["db1"]
    assert r.status is Status.NO_EVIDENCE
    r = judged([identity("alice@x.fr", observed_at=FUTURE)], mfa_coverage, {})["alice@x.fr"]
    assert r.status is Status.NO_EVIDENCE


def test_a_future_record_in_another_source_than_the_scope_does_not_bear():
    other = ev("asset", "srv1", {"asset_kind": "server"}, source="other", observed_at=FUTURE)
    r = judged([fresh(), other], sources=("test",))["srv1"]
    assert r.status is Status.COMPLIANT


def test_the_commitment_verdict_is_no_evidence_not_compliant():
    records = [asset("srv1", patch_assessed_at=FUTURE), fresh("srv2")]
    c = commitment("patch_lag", DEADLINES)
    out = evaluate(contract(c), records, [], AS_OF).outcomes[0]
    assert out.verdict.status is Status.NO_EVIDENCE


# --- non-finite numbers from a live collector --------------------------------------------------

@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_number_anywhere_makes_the_subject_no_evidence(bad):
    test = ev("restore_test", "db1", {"outcome": "success", "completed_at": days_ago(3),
                                      "duration_minutes": bad})
    r = judged([asset("db1", "database"), test], restore_test,
               {"period_days": 92, "max_duration_minutes": 60})["db1"]
    assert r.status is Status.NO_EVIDENCE and "not a finite number" in r.reason
    r = judged([fresh(tags={"cost": bad})])["srv1"]
    assert r.status is Status.NO_EVIDENCE and "facts.tags.cost" in r.reason


# --- severities --------------------------------------------------------------------------------

@pytest.mark.parametrize("severity", ["critical", "Critical", "CRITICAL", "Critical ", "\tcritical",
                                      " CRITICAL\n"])
def test_severities_compare_stripped_and_case_folded(severity):
    records = [fresh(), patch("srv1", "KB1", severity, "missing", released_at=days_ago(10))]
    assert judged(records)["srv1"].status is Status.BREACHED
    assert severity_key(severity) == "critical"


def test_a_deadline_table_key_is_canonical_too():
    records = [fresh(), patch("srv1", "KB1", "critical", "missing", released_at=days_ago(10))]
    assert judged(records, params={"deadlines_days": {"Critical ": 7}})["srv1"].status is \
        Status.BREACHED


@pytest.mark.parametrize("severity", ["n/a", "not rated", "sev1", "crit", "?", "9"])
def test_an_unknown_severity_is_no_evidence_unless_unrated_as_maps_it(severity):
    records = [fresh(), patch("srv1", "KB1", severity, "missing", released_at=days_ago(10))]
    r = judged(records)["srv1"]
    assert r.status is Status.NO_EVIDENCE
    assert "neither in the deadline table nor a known rating" in r.reason
    assert r.measured["unknown_severity"] == [f"KB1: {severity!r}"]
    mapped = judged(records, params={**DEADLINES, "unrated_as": "Critical"})["srv1"]
    assert mapped.status is Status.BREACHED
    ignored = judged(records, params={**DEADLINES, "unrated_as": "ignore"})["srv1"]
    assert ignored.status is Status.COMPLIANT


def test_a_known_rating_the_table_leaves_out_has_no_deadline():
    records = [fresh(), patch("srv1", "KB1", "Low", "missing", released_at=days_ago(400)),
               patch("srv1", "KB2", "moderate", "missing", released_at=days_ago(400))]
    assert judged(records)["srv1"].status is Status.COMPLIANT


def test_an_installed_update_with_an_unknown_severity_decides_nothing():
    records = [fresh(), patch("srv1", "KB1", "n/a", "installed", released_at=days_ago(10),
                              installed_at=days_ago(9))]
    assert judged(records)["srv1"].status is Status.COMPLIANT


# --- subjects in canonical form ----------------------------------------------------------------

def test_subject_keys():
    assert subject_key("SRV-01") == subject_key("srv-01")
    assert subject_key("Alice@Contoso.COM") == "alice@contoso.com"
    assert subject_key("6F9619FF-8B86-D011-B42D-00C04FC964FF") == \
        "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    arn = "arn:aws:dynamodb:eu-west-3:111111111111:table/Orders"
    assert subject_key(arn) != subject_key(arn.lower())  # case-sensitive names stay apart
    assert subject_key("Cafe\u0301") == subject_key("caf\u00e9")  # NFC


def test_a_patch_whose_host_name_differs_in_case_is_joined():
    records = [fresh("srv-01"), patch("SRV-01", "KB1", "critical", "missing",
                                      released_at=days_ago(10))]
    out = judged(records)
    assert set(out) == {"srv-01"} and out["srv-01"].status is Status.BREACHED


def test_an_arn_that_differs_in_case_is_reported_on_the_asset_never_ignored():
    arn = "arn:aws:ec2:eu-west-3:111111111111:instance/i-0abc"
    records = [fresh(arn), patch(arn.upper(), "KB1", "critical", "missing",
                                 released_at=days_ago(10))]
    out = judged(records)
    assert set(out) == {arn}
    r = out[arn]
    assert r.status is Status.NO_EVIDENCE and "only in case" in r.reason
    assert r.measured["case_variants"] == [arn.upper()]


def test_two_assets_differing_in_case_keep_their_own_records():
    a, b = "arn:aws:dynamodb:r:1:table/Orders", "arn:aws:dynamodb:r:1:table/orders"
    records = [fresh(a), fresh(b),
               patch(a, "KB1", "critical", "missing", released_at=days_ago(10))]
    out = judged(records)
    assert out[a].status is Status.BREACHED and out[b].status is Status.COMPLIANT


def test_a_patch_for_an_asset_not_in_the_inventory_is_reported():
    records = [fresh("srv1"), patch("ghost", "KB1", "critical", "installed",
                                    released_at=days_ago(10), installed_at=days_ago(9))]
    out = judged(records)
    assert out["ghost"].status is Status.NO_EVIDENCE
    assert "not in the inventory" in out["ghost"].reason
    assert out["ghost"].evidence_ids == ("test:patch:ghost:KB1",)
    # a scope on other sources leaves it out
    assert "ghost" not in judged(records, sources=("intune",))


def test_an_unknown_asset_is_counted_in_the_verdict():
    records = [fresh("srv1"), patch("ghost", "KB1", "critical", "missing",
                                    released_at=days_ago(10))]
    c = commitment("patch_lag", DEADLINES)
    out = evaluate(contract(c), records, [], AS_OF).outcomes[0]
    assert out.verdict.status is Status.NO_EVIDENCE
    assert {r.subject for r in out.results} == {"srv1", "ghost"}


def test_identities_differing_in_case_are_one_subject():
    records = [identity("Alice@x.fr", observed_at=days_ago(0, 3)),
               identity("alice@x.fr", mfa_enforced=False)]
    out = judged(records, mfa_coverage, {})
    assert len(out) == 1 and next(iter(out.values())).status is Status.BREACHED  # newest wins


# --- scope by facts ----------------------------------------------------------------------------

def test_an_asset_without_a_scope_fact_is_no_evidence_with_the_reason():
    records = [fresh("pc1", os="Windows"), fresh("pc2"), fresh("pc3", os=None),
               fresh("pc4", os="  "), fresh("mac", os="macOS")]
    out = judged(records, facts={"os": "windows"})
    assert out["pc1"].status is Status.COMPLIANT
    for s in ("pc2", "pc3", "pc4"):
        assert out[s].status is Status.NO_EVIDENCE
        assert out[s].reason == f"{s}: no `os` fact: cannot tell whether in scope."
    assert "mac" not in out


def test_exclude_facts_cannot_be_proved_by_a_missing_fact():
    out = judged([fresh("pc1", os="Windows"), fresh("pc2"), fresh("mac", os="macOS")],
                 exclude_facts={"os": "macos"})
    assert out["pc1"].status is Status.COMPLIANT
    assert out["pc2"].status is Status.NO_EVIDENCE and "no `os` fact" in out["pc2"].reason
    assert "mac" not in out


def test_a_reported_mismatch_decides_even_when_another_fact_is_missing():
    out = judged([fresh("mac", os="macOS")], facts={"os": "windows", "managed": True})
    assert out == {}


def test_another_record_of_the_asset_that_reports_the_fact_decides():
    records = [fresh("pc1"), ev("asset", "pc1", {"asset_kind": "server", "os": "Windows",
                                                 "patch_assessed_at": days_ago(0, 2)},
                                source="rmm")]
    out = judged(records, facts={"os": "windows"})
    assert out["pc1"].status is Status.COMPLIANT


def test_undecided_assets_appear_for_backups_and_restore_tests_too():
    for check, params in ((backup_freshness, {"rpo_hours": 24}),
                          (restore_test, {"period_days": 92})):
        out = judged([asset("db1", "database")], check, params, facts={"engine": "postgres"})
        assert out["db1"].status is Status.NO_EVIDENCE and "no `engine` fact" in out["db1"].reason


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_label_in_facts_read_from_a_file_is_found_by_columns(bad):
    """Facts read from a file are structs screened by columns (``surely_sound``): a float put
    in one asset's labels by hand is still found, and only that asset is no_evidence."""
    reader = _Reader("x")
    read = [reader.record(1, dumps(fresh(name, tags={"site": "1"})).encode())
            for name in ("srv1", "srv2")]
    read[0].facts.tags = {"site": "1", "cost": bad}  # type: ignore[union-attr]
    results = judged(read)
    assert results["srv1"].status is Status.NO_EVIDENCE
    assert "facts.tags.cost" in results["srv1"].reason
    assert results["srv2"].status is Status.COMPLIANT

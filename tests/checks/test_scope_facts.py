"""Scope by asset facts: the matching rule, and macOS devices kept out of a Windows clause."""

from __future__ import annotations

import pytest
from builders import AS_OF, asset, commitment, days_ago, patch

from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.checks.patch_lag import patch_lag
from clausewatch.core.contract import Scope, fact_matches
from clausewatch.core.result import Status


@pytest.mark.parametrize(
    ("actual", "wanted", "matches"),
    [
        ("Windows", "windows", True),
        ("WINDOWS", ["macos", "windows"], True),
        ("Windows Server", "windows", False),  # whole strings, not substrings
        ("macOS", "windows", False),
        (None, "windows", False),  # a fact the asset does not report matches nothing
        ("Straße", "STRASSE", True),  # case-insensitive as Unicode folds case
        ("10", 10, True),
        (10, "10", True),
        (10, 10.0, True),
        (True, "true", True),
        (True, 1, False),
        (1, True, False),
        (["windows", "linux"], "Linux", True),  # a multi-valued fact: any item
        ({"name": "windows"}, "windows", False),
    ],
)
def test_the_matching_rule(actual, wanted, matches):
    assert fact_matches(actual, wanted) is matches


FLEET = [
    asset("pc-win", "workstation", os="Windows", patch_assessed_at=days_ago(0, 2)),
    asset("pc-mac", "workstation", os="macOS", patch_assessed_at=days_ago(0, 2)),
    asset("pc-unknown", "workstation", patch_assessed_at=days_ago(0, 2)),
    asset("srv-win", "server", os="Windows Server", patch_assessed_at=days_ago(0, 2),
          managed=False),
    patch("pc-mac", "macOS 15.2", "critical", "missing", released_at=days_ago(60)),
    patch("pc-win", "KB1", "critical", "installed", released_at=days_ago(20),
          installed_at=days_ago(19)),
]
DEADLINES = {"deadlines_days": {"critical": 15}}


def judged(**scope) -> dict[str, Status]:
    c = commitment("patch_lag", DEADLINES, **scope)
    return {r.subject: r.status for r in patch_lag(c, EvidenceView(FLEET), AS_OF)}


def test_macos_devices_stay_out_of_a_windows_patch_clause():
    # pc-unknown reports no os: nobody can tell whether it is in scope, so no_evidence.
    assert judged(facts={"os": "windows"}) == {"pc-win": Status.COMPLIANT,
                                               "pc-unknown": Status.NO_EVIDENCE}
    assert judged() == {"pc-win": Status.COMPLIANT, "pc-mac": Status.BREACHED,
                        "pc-unknown": Status.COMPLIANT, "srv-win": Status.COMPLIANT}


def test_a_list_means_any_of_and_every_listed_fact_must_match():
    assert judged(facts={"os": ["windows", "windows server"]}) == {
        "pc-win": Status.COMPLIANT, "srv-win": Status.COMPLIANT, "pc-unknown": Status.NO_EVIDENCE}
    # pc-win reports no `managed`: undecided; pc-mac's os already takes it out.
    assert judged(facts={"os": ["windows", "windows server"], "managed": False}) == {
        "srv-win": Status.COMPLIANT, "pc-win": Status.NO_EVIDENCE,
        "pc-unknown": Status.NO_EVIDENCE}


def test_exclude_facts_take_matching_assets_out_and_unreported_ones_undecided():
    # An asset that does not report os cannot be proved not macOS: no_evidence.
    assert judged(exclude_facts={"os": "macos"}) == {
        "pc-win": Status.COMPLIANT, "pc-unknown": Status.NO_EVIDENCE, "srv-win": Status.COMPLIANT}


def test_facts_combine_with_kinds_and_tags():
    scope = Scope(asset_kinds=("workstation",), facts={"os": "windows"})
    assert [a.subject for a in EvidenceView(FLEET).assets(scope)] == ["pc-win"]

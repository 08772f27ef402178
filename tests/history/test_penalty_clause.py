"""The contract's penalty block and attainment period: loaded, defaulted, and checked."""

from __future__ import annotations

import pytest

from clausewatch.checks import CHECKS
from clausewatch.core.contract import Penalty
from clausewatch.core.problems import InputError
from clausewatch.policies.load import load_contract

CONTRACT = """\
contract:
  id: c-1
  title: T
  provider: P
  customer: C
  effective_from: "2026-01-01"
  timezone: Europe/Paris
  period: quarter
commitments:
  - id: patch
    clause: "§1"
    title: Patches
    check: patch_lag
    responsible: provider
    params: {deadlines_days: {critical: 7}}
    target: 100%
    penalty: PENALTY
  - id: backup
    clause: "§2"
    title: Backups
    check: backup_freshness
    responsible: provider
    params: {rpo_hours: 24}
    target: 100%
"""


def load(tmp_path, penalty: str):
    path = tmp_path / "c.yaml"
    path.write_text(CONTRACT.replace("PENALTY", penalty))
    return load_contract(path, CHECKS, name="c.yaml")


def test_penalty_and_period_are_loaded_with_defaults(tmp_path):
    k = load(tmp_path, "{per_breach: 500, per_day_late: 100, cap_per_period: 5000}")
    assert k.period == "quarter"
    assert k.commitments[0].penalty == Penalty(per_breach=500, per_day_late=100,
                                               cap_per_period=5000, currency="EUR",
                                               period="quarter")
    assert k.commitments[1].penalty is None
    k = load(tmp_path, "{per_day_late: 50, currency: CHF, period: month}")
    assert k.commitments[0].penalty == Penalty(per_day_late=50, currency="CHF", period="month")


@pytest.mark.parametrize(
    ("penalty", "expected"),
    [
        ("{cap_per_period: 10}", "c.yaml:17:14: commitments[0].penalty:"),
        ("{per_breach: -1}", "c.yaml:17:27: commitments[0].penalty.per_breach: -1 is less"),
        ("{per_breach: 1, currency: euro}",
         "c.yaml:17:40: commitments[0].penalty.currency: 'euro' does not match"),
        ("{per_breach: 1, period: year}", "c.yaml:17:38: commitments[0].penalty.period: 'year'"),
    ],
)
def test_bad_penalties_are_located(tmp_path, penalty, expected):
    with pytest.raises(InputError) as info:
        load(tmp_path, penalty)
    assert str(info.value.problems[0]).startswith(expected), str(info.value)

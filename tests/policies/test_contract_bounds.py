"""Bounded contracts: percentages, dates, identifiers anchored to the end, scope facts."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from clausewatch.checks import CHECKS
from clausewatch.core.contract import DATE_MAX, DATE_MIN, Waiver
from clausewatch.core.problems import InputError
from clausewatch.policies.load import load_contract, parse_target

MINIMAL = (Path(__file__).parent / "test_load.py").read_text().split('MINIMAL = """\\\n')[1]
MINIMAL = MINIMAL.split('"""')[0]
WAIVER = """\
waivers:
  - commitment: c1
    subjects: [srv-1]
    reason: legacy
    approver: CISO
    expires: "{expires}"
"""


def load(text: str):
    return load_contract("c.yaml", CHECKS, raw=text.encode())


def problems(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        load(text)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("target", "share"),
    [('"100%"', 1.0), ('"100.0%"', 1.0), ('"0%"', 0.0), ('"99.5%"', 0.995), ('"95 %"', 0.95),
     ('"95\u00a0%"', 0.95), ("0.95", 0.95), ("1", 1.0), ("0", 0.0)],
)
def test_targets_within_0_and_100_percent(target, share):
    k = load(MINIMAL.replace("target: 95%", f"target: {target}"))
    assert k.commitments[0].target == pytest.approx(share)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ('"100.9%"', "'100.9%' is not a percentage from 0% to 100% (e.g. '95%')"),
        ('"101%"', "'101%' is not a percentage from 0% to 100% (e.g. '95%')"),
        ('"95%\\n"', "'95%\\n' is not a percentage from 0% to 100% (e.g. '95%')"),
        ('" 95%"', "' 95%' is not a percentage from 0% to 100% (e.g. '95%')"),
        ('"95\u2003%"', "'95\\u2003%' is not a percentage from 0% to 100% (e.g. '95%')"),
        ("1.01", "1.01 is greater than the maximum of 1"),
        ("-0.01", "-0.01 is less than the minimum of 0"),
    ],
)
def test_targets_outside_are_refused(target, message):
    assert problems(MINIMAL.replace("target: 95%", f"target: {target}")) == [
        f"c.yaml:15:13: commitments[0].target: {message}"
    ]


@pytest.mark.parametrize("value", ["100.9%", "95%\n", "x%", 1.5, -0.1, float("nan")])
def test_parse_target_refuses_what_the_schema_refuses(value):
    with pytest.raises(ValueError):
        parse_target(value)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("id: c1", 'id: "c1\\n"', "c.yaml:9:9: commitments[0].id"),
        ("id: k", 'id: "k\\n"', "c.yaml:2:7: contract.id"),
        ("id: c1", 'id: "c 1"', "c.yaml:9:9: commitments[0].id"),
        ("id: c1", 'id: "-c1"', "c.yaml:9:9: commitments[0].id"),
    ],
)
def test_identifiers_refuse_a_trailing_newline_and_other_characters(old, new, where):
    (got,) = problems(MINIMAL.replace(old, new, 1))
    assert got.startswith(f"{where}: ") and got.endswith(
        "is not an identifier (a letter or digit, then letters, digits, '.', '_' or '-')")


def test_waiver_commitment_and_currency_refuse_a_trailing_newline():
    text = MINIMAL.replace("    target: 95%\n", "    target: 95%\n    penalty: {per_breach: 1, "
                           'currency: "EUR\\n"}\n') + WAIVER.format(expires="2027-01-01").replace(
        "commitment: c1", 'commitment: "c1\\n"')
    got = problems(text)
    assert got[0].startswith("c.yaml:16:40: commitments[0].penalty.currency: 'EUR\\n' does not ")
    assert got[1].startswith("c.yaml:18:17: waivers[0].commitment: 'c1\\n' is not an identifier")


def test_a_waiver_forever_is_refused_with_its_place():
    assert problems(MINIMAL + WAIVER.format(expires="9999-12-31")) == [
        "c.yaml:21:14: waivers[0].expires: '9999-12-31' is not a date from 1970-01-01 to "
        "2999-12-31"
    ]


@pytest.mark.parametrize("day", [DATE_MIN, DATE_MAX])
def test_the_date_range_ends_are_accepted(day):
    text = MINIMAL.replace('"2026-01-01"', f'"{DATE_MIN}"') + WAIVER.format(expires=day)
    assert load(text).waivers[0].expires == day


@pytest.mark.parametrize("day", [DATE_MIN - timedelta(days=1), DATE_MAX + timedelta(days=1)])
def test_dates_just_outside_the_range_are_refused(day):
    (got,) = problems(MINIMAL.replace('"2026-01-01"', f'"{day}"'))
    assert got == f"c.yaml:6:19: contract.effective_from: '{day}' is not a date from " \
        "1970-01-01 to 2999-12-31"


def test_an_impossible_date_gives_one_message_not_two():
    assert problems(MINIMAL.replace('"2026-01-01"', '"2026-02-30"')) == [
        "c.yaml:6:19: contract.effective_from: '2026-02-30' is not a 'date'"
    ]


def test_waiver_end_never_overflows_even_when_built_by_hand():
    w = Waiver(commitment="c1", subjects=("a",), reason="r", approver="a", expires=date.max)
    paris = ZoneInfo("Europe/Paris")
    assert w.end(paris).date() == DATE_MAX + timedelta(days=1)
    assert w.in_force(w.end(paris) - timedelta(seconds=1), paris)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("87601", "87601 is greater than the maximum of 87600"),
        ("0", "0 is less than or equal to the minimum of 0"),
    ],
)
def test_durations_have_a_range(value, message):
    text = MINIMAL.replace("check: restore_test", "check: backup_freshness").replace(
        "period_days: 92", f"rpo_hours: {value}")
    assert problems(text) == [f"c.yaml:14:25: commitments[0].params.rpo_hours: {message}"]


def test_warning_days_and_penalties_have_a_range():
    text = MINIMAL.replace("    target: 95%\n", "    target: 95%\n    warning_days: 3651\n"
                           "    penalty: {per_breach: 1.0e+13}\n")
    assert problems(text) == [
        "c.yaml:16:19: commitments[0].warning_days: 3651 is greater than the maximum of 3650",
        "c.yaml:17:27: commitments[0].penalty.per_breach: 10000000000000.0 is greater than the "
        "maximum of 1000000000000",
    ]


def test_scope_facts_are_read_from_the_contract():
    text = MINIMAL.replace("    target: 95%\n", "    target: 95%\n    scope:\n      facts: {os: "
                           "[windows, 'windows server']}\n      exclude_facts: {managed: false}\n")
    scope = load(text).commitments[0].scope
    assert scope.facts == {"os": ["windows", "windows server"]}
    assert scope.exclude_facts == {"managed": False}


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ("{}", "{} should be non-empty"),
        ("{os: []}", "[] should be non-empty"),
        ("{os: {name: windows}}", "{'name': 'windows'} is not of type 'string', 'number', "
         "'boolean', 'array'"),
        ("{os: [[windows]]}", "['windows'] is not of type 'string', 'number', 'boolean'"),
    ],
)
def test_scope_facts_are_validated(facts, message):
    text = MINIMAL.replace("    target: 95%\n", f"    target: 95%\n    scope: {{facts: {facts}}}\n")
    (got,) = problems(text)
    assert message in got and got.startswith("c.yaml:16:")

"""Mutation fuzzing of evidence lines: the reader never raises anything but ``InputError``,
its fast and slow paths agree, and what it accepts evaluates without a traceback.

The seeds are the demo estate's lines (every kind, collection errors), the README's examples
and the examples of the policies; 12,000 seeded mutants (bit flips, key duplication, value
swaps, deep nesting, NaN/Infinity, huge years, ...) go through the reader line by line and as
one file, then every accepted record through ``evaluate`` of the shipped example contracts.
A hypothesis property adds: no non-finite number anywhere in a record yields ``compliant``.

For a long run by hand: ``CLAUSEWATCH_EVIDENCE_MUTANTS=100000 pytest -q -s tests/collectors/
test_evidence_fuzz.py``.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections import Counter
from typing import Any

import pytest
from builders import AS_OF, REPO, asset, commitment, contract, days_ago, ev, identity, patch
from hypothesis import given, settings
from hypothesis import strategies as st

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.collectors import strict_json
from clausewatch.collectors.jsonl import _Reader, dumps, read_evidence
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.problems import InputError
from clausewatch.core.result import Status
from clausewatch.demo.estate import build_estate
from clausewatch.policies.load import load_contract

MUTANTS = int(os.environ.get("CLAUSEWATCH_EVIDENCE_MUTANTS", "12000"))
README_LINES = [line for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines()
                if line.startswith('{"kind": ')]
HOSTILE: list[str] = [
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E400", "9" * 30, "-" + "9" * 400,
    "9223372036854775808", "-0.0", "5e-324", "1.7976931348623157e308", "null", "true", "[]",
    "{}", '""', '" "', '"n/a"', '"not rated"', '"\\tcritical"', '"Critical "', '"CRITICAL"',
    '"0001-01-01T00:00:00Z"', '"0001-01-01T00:00:00+01:00"', '"9999-12-31T23:59:59-01:00"',
    '"9999-12-31T00:00:00Z"', '"3000-01-01T00:00:00Z"', '"1969-12-31T23:59:59Z"',
    '"2999-12-31T23:59:59Z"', '"2036-02-30T00:00:00Z"', '"2026-11-22T06:05:01Z"',
    '"2027-01-01T00:00:00Z"', '"2026-11-22T06:00:00"', '"2026-11-22 06:00:00Z"',
    '"\\u0000"', '"\\ud800"', '"é"', '"' + "x" * 2000 + '"', '{"a": {"b": {"c": 1}}}',
    '[["a"]]', '{"a": NaN}', '["critical", 1e999]',
]


def seeds() -> list[str]:
    estate = build_estate(AS_OF)
    lines = [dumps(x) for x in [*estate.evidence, *estate.errors]]
    return lines + README_LINES


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _set_raw(obj: Any, path: tuple[Any, ...], raw: str) -> str:
    """The JSON text of ``obj`` with the value at ``path`` replaced by the raw text ``raw``."""
    marker = "\x00MARK\x00"
    if not path:
        return raw
    parent = _get(obj, path[:-1])
    saved = parent[path[-1]]
    parent[path[-1]] = marker
    text = json.dumps(obj)
    parent[path[-1]] = saved
    return text.replace(json.dumps(marker), raw, 1)


def mutate(line: str, rng: random.Random) -> tuple[str, bytes]:
    """One mutation of one line, and its name."""
    op = rng.choice(["flip", "flip", "delete", "insert", "dup_key", "dup_key", "value", "value",
                     "value", "swap", "nest", "drop", "truncate", "year", "case"])
    data = line.encode()
    if op == "flip":
        buf = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        return op, bytes(buf)
    if op == "delete":
        i = rng.randrange(len(data))
        return op, data[:i] + data[i + rng.randint(1, 4):]
    if op == "insert":
        i = rng.randrange(len(data))
        return op, data[:i] + rng.choice([b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\",
                                          b"\x00", b"\xff", b"NaN"]) + data[i:]
    if op == "truncate":
        return op, data[: rng.randrange(len(data))]
    obj = json.loads(line)
    paths = _paths(obj)
    dicts = [p for p in paths if isinstance(_get(obj, p), dict) and _get(obj, p)]
    if op == "dup_key":
        where = rng.choice(dicts)
        target = _get(obj, where)
        key = rng.choice(list(target))
        raw = rng.choice([json.dumps(target[key]), *HOSTILE[:12], '"other"'])
        inner = json.dumps(target)
        dup = inner[:-1] + f", {json.dumps(key)}: {raw}}}" if rng.random() < 0.5 else \
            "{" + f"{json.dumps(key)}: {raw}, " + inner[1:]
        return op, _set_raw(obj, where, dup).encode()
    leaves = [p for p in paths if p]
    if op == "value":
        return op, _set_raw(obj, rng.choice(leaves), rng.choice(HOSTILE)).encode()
    if op == "swap":
        a, b = rng.choice(leaves), rng.choice(leaves)
        if a[: len(b)] == b or b[: len(a)] == a:
            return op, data
        va, vb = _get(obj, a), _get(obj, b)
        _get(obj, a[:-1])[a[-1]] = vb
        _get(obj, b[:-1])[b[-1]] = va
        return op, json.dumps(obj).encode()
    if op == "nest":
        levels = rng.choice([3, 10, 15, 16, 17, 40, 1000, 5000])
        kind = rng.choice(["[", '{"a": '])
        close = "]" if kind == "[" else "}"
        return op, _set_raw(obj, rng.choice(leaves),
                            kind * levels + "1" + close * levels).encode()
    if op == "drop":
        where = rng.choice(dicts)
        target = _get(obj, where)
        del target[rng.choice(list(target))]
        return op, json.dumps(obj).encode()
    stamps = [p for p in leaves if isinstance(_get(obj, p), str)
              and len(_get(obj, p)) >= 20 and _get(obj, p)[4] == "-" and _get(obj, p)[10] == "T"]
    if op == "year" and stamps:
        where = rng.choice(stamps)
        year = rng.choice(["0001", "0000", "1969", "1970", "2999", "3000", "9999", "2027"])
        return op, _set_raw(obj, where, json.dumps(year + _get(obj, where)[4:])).encode()
    texts = [p for p in leaves if isinstance(_get(obj, p), str)]
    if texts:  # "case", or "year" without a timestamp
        where = rng.choice(texts)
        value = _get(obj, where)
        changed = rng.choice([value.upper(), value.title(), f" {value}", f"{value}\t"])
        return "case", _set_raw(obj, where, json.dumps(changed)).encode()
    return op, data


def read_line(line: bytes) -> tuple[Any, str]:
    """The reader's answer to one line: the record, or None and the problem's message."""
    reader = _Reader("fuzz.jsonl")
    item = reader.record(1, line)
    return item, "; ".join(p.message for p in reader.problems)


def check_paths_agree(line: bytes, item: Any) -> bool:
    """Whether the fast path took the line; if so, the slow path builds the same record."""
    reader = _Reader("x")
    try:
        decoded = reader.fast.decode(line)
    except Exception:  # noqa: BLE001 - any refusal sends the line to the slow path
        return False
    if not strict_json.keys_intact(line, reader.encode(decoded)):
        return False
    fast = reader._build_fast(decoded)
    if fast is None:
        return False
    slow_reader = _Reader("x")
    obj = strict_json.loads(line)
    assert slow_reader.validator.is_valid(obj), line
    assert slow_reader._build(obj) == fast == item, line
    return True


EXAMPLES = sorted((REPO / "policies" / "examples").glob("*.yaml"))
CONTRACTS = [load_contract(p, CHECKS) for p in EXAMPLES if not p.name.startswith("sources-")]


def test_twelve_thousand_mutants_read_and_evaluate_without_a_traceback(tmp_path, capsys):
    rng = random.Random(20261122)
    base = seeds()
    assert len(base) > 100
    counts: Counter[str] = Counter()
    accepted: list[Evidence] = []
    errors: list[CollectionError] = []
    lines: list[bytes] = []
    for _ in range(MUTANTS):
        op, line = mutate(rng.choice(base), rng)
        lines.append(line)
        item, message = read_line(line)  # any other exception fails the test: a traceback
        if item is None:
            counts["refused"] += 1
            counts[f"refused:{op}"] += 1
            assert message and "\n" not in message, line
            continue
        counts["accepted"] += 1
        counts[f"accepted:{op}"] += 1
        counts["fast"] += check_paths_agree(line, item)
        if isinstance(item, Evidence):
            accepted.append(item)
        else:
            errors.append(item)
    # As one file: one InputError listing the refused lines (and duplicate ids), nothing else.
    path = tmp_path / "mutants.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(InputError) as info:
        read_evidence(path)
    assert info.value.problems and all(p.line >= 1 for p in info.value.problems)
    # Every accepted record through every example contract (unique ids, as one file would).
    unique = list({e.id: e for e in accepted}.values())
    for c in CONTRACTS:
        evaluation = evaluate(c, unique, errors, AS_OF)
        for outcome in evaluation.outcomes:
            v = outcome.verdict
            assert v.measured is None or math.isfinite(v.measured)
            json.dumps([r.measured for r in outcome.results], default=str, allow_nan=False)
    with capsys.disabled():
        print(f"\nevidence mutants: {MUTANTS} tried, {counts['accepted']} accepted "
              f"({counts['fast']} by the fast path), {counts['refused']} refused, 0 tracebacks; "
              + ", ".join(f"{k.split(':')[1]} {n}" for k, n in sorted(counts.items())
                          if k.startswith("refused:")))
    assert counts["accepted"] > 1000 and counts["refused"] > 3000
    assert counts["refused:dup_key"] > 1000 and counts["accepted:dup_key"] == 0
    assert counts["refused:nest"] > 0


# --- no non-finite number anywhere yields compliant ----------------------------------------------

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def _with(facts: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    out = dict(facts)
    if len(path) == 1:
        out[path[0]] = value
    else:
        out[path[0]] = {**(out.get(path[0]) or {}), path[1]: value}
    return out


CASES = {
    "patch_lag": (
        {"deadlines_days": {"critical": 7}},
        lambda f: [asset("s1", patch_assessed_at=days_ago(0, 2), **f),
                   patch("s1", "KB1", "critical", "installed", released_at=days_ago(3),
                         installed_at=days_ago(2))]),
    "backup_freshness": (
        {"rpo_hours": 24},
        lambda f: [asset("s1", "database", **f),
                   ev("backup", "s1", {"outcome": "success", "completed_at": days_ago(0, 2),
                                       **f})]),
    "restore_test": (
        {"period_days": 92, "max_duration_minutes": 60},
        lambda f: [asset("s1", "database", **f),
                   ev("restore_test", "s1", {"outcome": "success", "completed_at": days_ago(3),
                                             "duration_minutes": 10, **f})]),
    "mfa_coverage": ({}, lambda f: [identity("s1", **f)]),
}


@settings(max_examples=300, deadline=None)
@given(check=st.sampled_from(sorted(CASES)), value=NON_FINITE,
       where=st.sampled_from([["duration_minutes"], ["size_bytes"], ["score"], ["tags", "x"],
                              ["tags", "cost"], ["risk"]]))
def test_no_non_finite_value_anywhere_yields_compliant(check, value, where):
    params, build = CASES[check]
    clean = evaluate(contract(commitment(check, params)), build({}), [], AS_OF)
    assert clean.outcomes[0].verdict.status is Status.COMPLIANT  # the baseline is compliant
    records = build(_with({}, where, value))
    out = evaluate(contract(commitment(check, params)), records, [], AS_OF).outcomes[0]
    assert out.verdict.status is not Status.COMPLIANT
    assert all(r.status is not Status.COMPLIANT for r in out.results)

"""Strict evidence reading: what plain JSON parsers let through is refused, by line, on both
paths (msgspec's fast path and the schema path), never with a traceback."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest

from clausewatch.collectors import strict_json
from clausewatch.collectors.jsonl import _Reader, read_evidence
from clausewatch.core.limits import MAX_DEPTH
from clausewatch.core.problems import InputError

GOOD = ('{"kind": "patch", "source": "rmm", "subject": "srv1", '
        '"observed_at": "2026-11-22T01:00:00Z", "facts": {"update_id": "KB1", '
        '"severity": "critical", "state": "missing", "released_at": "2026-11-01T00:00:00+01:00"}}')
ERROR = ('{"kind": "collection_error", "source": "rmm", "origin": "rmm/site-1", '
         '"kinds": ["patch"], "message": "site offline"}')


def refusal(tmp_path, line: str) -> str:
    """The one problem the reader reports for a file of ``GOOD`` then ``line``."""
    path = tmp_path / "e.jsonl"
    path.write_text(GOOD + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_evidence(path)
    (problem,) = info.value.problems
    assert problem.line == 2 and problem.file == str(path)
    return str(problem)


def fast_takes(line: str) -> bool:
    """Whether msgspec's fast path decodes the line at all (it may keep the last duplicate)."""
    try:
        _Reader("x").fast.decode(line.encode())
    except (msgspec.DecodeError, RecursionError):
        return False
    return True


def test_the_good_line_takes_the_fast_path_and_reads(tmp_path):
    reader = _Reader("x")
    line = GOOD.encode()
    assert strict_json.keys_intact(line, reader.encode(reader.fast.decode(line)))
    path = tmp_path / "e.jsonl"
    path.write_text(GOOD + "\n" + ERROR + "\n", encoding="utf-8")
    batch = read_evidence(path)
    assert len(batch.evidence) == 1 and len(batch.errors) == 1


DUPLICATES = [
    (GOOD.replace('"severity": "critical"', '"severity": "low", "severity": "critical"'),
     "'severity'"),
    (GOOD.replace('"subject": "srv1"', '"subject": "srv1", "subject": "srv2"'), "'subject'"),
    (GOOD.replace('"state": "missing"', '"state": "missing", "tags": {"a": 1, "a": 2}'), "'a'"),
    (GOOD.replace('"kind": "patch"', '"kind": "patch", "origin": "a", "origin": "b"'),
     "'origin'"),
    # With a backslash the fast path proves nothing; the slow path finds it.
    (GOOD.replace('"kind": "patch"', '"kind": "patch", "raw_ref": "a\\\\b", "raw_ref": "c"'),
     "'raw_ref'"),
    (GOOD.replace('"facts": {', '"facts": {"severity": "low", '), "'severity'"),
    (ERROR.replace('"message": "site offline"', '"message": "a", "message": "b"'), "'message'"),
]


@pytest.mark.parametrize(("line", "key"), DUPLICATES)
def test_duplicate_keys_at_any_depth_are_refused_on_both_paths(tmp_path, line, key):
    message = refusal(tmp_path, line)
    assert f"duplicate key {key}" in message, message
    with pytest.raises(strict_json.StrictJSONError):
        strict_json.loads(line.encode())


def test_most_duplicates_would_pass_msgspec_itself():
    """The proof is needed: msgspec decodes these lines, keeping the last value."""
    assert sum(fast_takes(line) for line, _ in DUPLICATES) >= 4


NON_FINITE = [
    GOOD.replace('"update_id": "KB1"', '"update_id": "KB1", "score": NaN'),
    GOOD.replace('"update_id": "KB1"', '"update_id": "KB1", "score": Infinity'),
    GOOD.replace('"update_id": "KB1"', '"update_id": "KB1", "score": -Infinity'),
    GOOD.replace('"state": "missing"', '"state": "missing", "tags": {"cost": NaN}'),
    ERROR.replace('"message"', '"details": {"x": -Infinity}, "message"'),
]


@pytest.mark.parametrize("line", NON_FINITE)
def test_nan_and_infinity_are_refused(tmp_path, line):
    assert "NaN and Infinity are not JSON: numbers must be finite" in refusal(tmp_path, line)


@pytest.mark.parametrize("literal", ["1e999", "-1e999", "1E400", "-2.5e308"])
def test_numbers_that_overflow_a_double_are_refused(tmp_path, literal):
    line = GOOD.replace('"update_id": "KB1"', f'"update_id": "KB1", "score": {literal}')
    assert "out of range (it would be infinite)" in refusal(tmp_path, line)
    line = GOOD.replace('"state": "missing"', f'"state": "missing", "tags": {{"x": {literal}}}')
    assert "out of range" in refusal(tmp_path, line)


def test_integers_beyond_the_bound_are_refused_with_their_place(tmp_path):
    big = str(2**63)
    line = GOOD.replace('"state": "missing"', f'"state": "missing", "tags": {{"x": {big}}}')
    assert fast_takes(line) is False  # msgspec's Integer bound sends it to the schema path
    message = refusal(tmp_path, line)
    assert "facts.tags.x: integer 9223372036854775808 is beyond" in message


@pytest.mark.parametrize("big", [2**64, 123456789012345678901234567890, -(2**70)])
def test_integers_beyond_64_bits_are_refused_not_read_as_floats(tmp_path, big):
    # orjson reads an integer beyond 64 bits as a float (1.2345678901234568e+29): the bound
    # must see the integer as written, whether it sits in a number fact or in tags.
    line = ('{"kind": "restore_test", "source": "veeam", "subject": "job1", '
            '"observed_at": "2026-11-22T01:00:00Z", "facts": {"completed_at": '
            f'"2026-11-21T01:00:00Z", "outcome": "success", "duration_minutes": {big}}}}}')
    assert f"facts.duration_minutes: integer {str(big)[:24]}" in refusal(tmp_path, line)
    with pytest.raises(strict_json.StrictJSONError, match="is beyond"):
        strict_json.loads(line.encode())


@pytest.mark.parametrize("levels", [MAX_DEPTH, MAX_DEPTH + 1, 1000, 100_000])
def test_deep_nesting_is_refused_with_its_line(tmp_path, levels):
    inner = "[" * (levels - 2) + "]" * (levels - 2)  # the record and its facts are 2 levels
    line = GOOD.replace('"update_id": "KB1"', f'"update_id": "KB1", "x": {inner}')
    if levels <= MAX_DEPTH:
        read_evidence_ok(tmp_path, line)
    else:
        assert f"nested deeper than {MAX_DEPTH} levels" in refusal(tmp_path, line)


def read_evidence_ok(tmp_path, line: str) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    assert len(read_evidence(path).evidence) == 1


def test_depth_counts_brackets_outside_strings_only():
    assert strict_json.depth(b'{"a": "[[[[{{{{"}') == 1
    assert strict_json.depth(b'{"a": [{"b": []}]}') == 4
    assert strict_json.depth(b"[[[]]") <= 3  # unbalanced: left to the parser


@pytest.mark.parametrize(("stamp", "year"), [
    ("0001-01-01T00:00:00Z", "year 1 is"),
    ("0001-01-01T00:00:00+01:00", "year 1 is"),  # would overflow converting to UTC
    ("9999-12-31T23:59:59-01:00", "year 9999 is"),  # likewise
    ("9999-12-31T00:00:00Z", "year 9999 is"),
    ("1969-12-31T23:59:59Z", "year 1969 is"),
    ("3000-01-01T00:00:00Z", "year 3000 is"),
    ("1970-01-01T00:30:00+01:00", "is outside 1970-2999 (UTC)"),
])
def test_years_outside_the_range_are_refused_in_every_timestamp(tmp_path, stamp, year):
    for line, where in [
        (GOOD.replace('"2026-11-22T01:00:00Z"', f'"{stamp}"'), "observed_at"),
        (GOOD.replace('"2026-11-01T00:00:00+01:00"', f'"{stamp}"'), "facts.released_at"),
        (ERROR.replace('"kinds"', f'"occurred_at": "{stamp}", "kinds"'), "occurred_at"),
    ]:
        message = refusal(tmp_path, line)
        assert f"{where}: {stamp}: {year}" in message or (where in message and year in message)


def test_the_range_ends_are_accepted(tmp_path):
    for stamp in ("1970-01-01T00:00:00Z", "2999-12-31T23:59:59.999999Z",
                  "2999-12-31T23:59:59+00:00"):
        read_evidence_ok(tmp_path, GOOD.replace('"2026-11-01T00:00:00+01:00"', f'"{stamp}"'))


def test_fast_and_slow_paths_build_the_same_record():
    for line in (GOOD, GOOD.replace('"kind": "patch"', '"kind": "patch", "origin": ""'),
                 GOOD.replace('"kind": "patch"', '"kind": "patch", "raw_ref": null')):
        fast_reader, slow_reader = _Reader("x"), _Reader("x")
        built_fast = fast_reader.record(1, line.encode())
        built_slow = slow_reader._build(strict_json.loads(line.encode()))
        assert built_fast == built_slow
    assert built_fast is not None and built_fast.origin == "" and built_fast.raw_ref is None


def test_live_timestamps_beyond_utc_are_a_value_error_not_an_overflow():
    from datetime import timedelta, timezone

    from clausewatch.core.clock import require_utc

    with pytest.raises(ValueError, match="has no UTC instant"):
        require_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))
    assert require_utc(datetime(2026, 1, 1, tzinfo=UTC)).year == 2026


def test_the_messages_are_one_line_each_and_json_safe(tmp_path):
    lines = [d for d, _ in DUPLICATES] + NON_FINITE
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_evidence(path)
    assert [p.line for p in info.value.problems] == list(range(1, len(lines) + 1))
    json.dumps([str(p) for p in info.value.problems], allow_nan=False)

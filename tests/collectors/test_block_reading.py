"""The reader's block path builds exactly what reading each line alone builds.

``read_evidence`` takes a file in blocks of lines, decodes them in one map, proves them free of
duplicate names in one count and builds the lines of each kind column by column, merged back
into line order. Every line must still get the record, or the problems, ``_Reader.record``
gives it alone; timestamps parsed in bulk must be the ones ``canonical_instant`` parses; the
facts it keeps (``fast_lines.Facts``) must read as the dict of the same facts.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from builders import AS_OF

from clausewatch.collectors import jsonl
from clausewatch.collectors.fast_lines import Facts
from clausewatch.collectors.jsonl import (
    _Reader,
    canonical_column,
    canonical_instant,
    canonical_instants,
    dumps,
    read_evidence,
)
from clausewatch.core.problems import InputError
from clausewatch.demo.estate import build_estate


def patch_line(subject: str, update: str, **facts: object) -> dict[str, object]:
    return {"kind": "patch", "source": "rmm", "subject": subject,
            "observed_at": "2026-11-22T01:00:00Z",
            "facts": {"update_id": update, "severity": "critical", "state": "missing",
                      "released_at": "2026-11-01T00:00:00Z", **facts}}


def one_by_one(lines: list[str]) -> tuple[list[object], list[tuple[int, str, str]]]:
    """What ``_Reader.record`` gives each line alone, and the problems, duplicates included."""
    reader = _Reader("x")
    kept: list[object] = []
    seen: dict[str, int] = {}
    problems: list[tuple[int, str, str]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        before = len(reader.problems)
        item = reader.record(n, line.encode())
        problems += [(p.line, p.path, p.message) for p in reader.problems[before:]]
        if item is None:
            continue
        if getattr(item, "kind", "") != "collection_error" and hasattr(item, "observed_at"):
            first = seen.setdefault(item.id, n)
            if first != n:
                problems.append((n, "id", f"duplicate evidence id {item.id!r} (line {first})"))
                continue
        kept.append(item)
    return kept, problems


def read_whole(tmp_path, lines: list[str]) -> tuple[list[object], list[tuple[int, str, str]]]:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        batch = read_evidence(path)
    except InputError as exc:
        return [], [(p.line, p.path, p.message) for p in exc.problems]
    return [*batch.evidence, *batch.errors], []


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of about 2 KiB: a file of a few hundred lines spans many, runs cross them."""
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 2048)


def test_the_demo_estate_reads_as_line_by_line(tmp_path, small_blocks):
    estate = build_estate(AS_OF)
    lines = [dumps(item) for item in [*estate.evidence, *estate.errors]]
    got, problems = read_whole(tmp_path, lines)
    expected, none = one_by_one(lines)
    assert not problems and not none
    evidence = [e for e in expected if hasattr(e, "observed_at")]
    errors = [e for e in expected if not hasattr(e, "observed_at")]
    assert got == [*evidence, *errors]
    assert [dict(e.facts) for e in got[: len(evidence)]] == [dict(e.facts) for e in evidence]
    assert [e.id for e in got[: len(evidence)]] == [e.id for e in evidence]


def test_bad_lines_among_runs_get_the_problems_they_get_alone(tmp_path, small_blocks):
    lines = [json.dumps(patch_line(f"s{i // 10}", f"KB{i}")) for i in range(120)]
    lines[13] = lines[13].replace('"state": "missing"', '"state": "missing", "state": "x"')
    lines[27] = ""  # a blank line keeps its number
    lines[41] = lines[41].replace('"2026-11-01T00:00:00Z"', '"2026-11-01T00:00:00+01:00"')
    lines[55] = lines[55].replace('"2026-11-01T00:00:00Z"', '"2026-02-30T00:00:00Z"')
    lines[66] = lines[66].replace('"rmm"', '"r\\u006dm"')  # an escape: read alone
    lines[77] = lines[5]  # a duplicate id, its first line in an earlier block
    lines[90] = lines[90].replace('"critical"', "NaN")
    lines[101] = lines[101].replace('"2026-11-01T00:00:00Z"', '"3026-11-01T00:00:00Z"')
    got, problems = read_whole(tmp_path, lines)
    _, expected = one_by_one(lines)
    assert problems == expected
    assert [p[0] for p in problems] == [14, 56, 78, 91, 102]
    assert "(line 6)" in problems[2][2]
    lines = [line for i, line in enumerate(lines) if i + 1 not in (14, 56, 78, 91, 102)]
    got, problems = read_whole(tmp_path, lines)
    expected, _ = one_by_one(lines)
    assert not problems and got == expected
    offset = next(e for e in got if e.facts["update_id"] == "KB41")
    assert offset.facts["released_at"] == datetime(2026, 10, 31, 23, tzinfo=UTC)


def test_a_duplicate_id_within_one_run_is_refused_by_its_number(tmp_path, small_blocks):
    lines = [json.dumps(patch_line("s1", f"KB{i % 7}")) for i in range(9)]
    _, problems = read_whole(tmp_path, lines)
    assert [(p[0], p[1]) for p in problems] == [(8, "id"), (9, "id")]
    assert "(line 1)" in problems[0][2] and "(line 2)" in problems[1][2]


def test_an_id_kept_alone_and_one_built_by_columns_are_one_claim(tmp_path, small_blocks):
    """Ids are claimed over every record kept, by whichever path built it: a duplicate between
    a line read alone (an escape) and a line of a run built by columns is refused either way
    round, by its number, as line by line."""
    lines = [json.dumps(patch_line(f"s{i // 10}", f"KB{i}")) for i in range(120)]
    lines[7] = lines[7].replace('"rmm"', '"r\\u006dm"')  # alone, id rmm:patch:s0:KB7
    lines[95] = lines[7].replace('"r\\u006dm"', '"rmm"')  # in a run, the same id
    lines[30] = lines[100].replace('"rmm"', '"r\\u006dm"')  # alone, after its twin is kept
    got, problems = read_whole(tmp_path, lines)
    expected, by_line = one_by_one(lines)
    assert problems == by_line
    assert [(p[0], p[1]) for p in problems] == [(96, "id"), (101, "id")]
    assert "(line 8)" in problems[0][2] and "(line 31)" in problems[1][2]
    # a refused line's id is not counted among the kept: the one duplicate is still found
    refused = [*lines]
    refused[30] = refused[30].replace('"critical"', "NaN")
    del refused[100]
    _, problems = read_whole(tmp_path, refused)
    assert [(p[0], p[1]) for p in problems] == [(31, ""), (96, "id")]  # NaN: not JSON
    assert problems == one_by_one(refused)[1]
    lines = [line for i, line in enumerate(lines) if i not in (95, 100)]
    got, problems = read_whole(tmp_path, lines)
    expected, _ = one_by_one(lines)
    assert not problems and got == expected


def test_duplicate_ids_among_invalid_lines_are_reported_in_line_order_up_to_the_limit(
        tmp_path, small_blocks):
    """Ids are claimed once every line is read: the refused duplicates still come in line
    order among the other problems, and the report stops at the same problem and count."""
    lines = [json.dumps(patch_line(f"s{i // 10}", f"KB{i}")) for i in range(600)]
    for i in range(100, 600, 2):  # a duplicate of a line of an earlier block, then a bad line
        lines[i] = lines[i - 100] if i % 4 else lines[i].replace('"rmm"', '""')
    _, expected = one_by_one(lines)
    assert {p[1] for p in expected} == {"id", "source"} and len(expected) > jsonl.MAX_REPORTED
    _, problems = read_whole(tmp_path, lines)
    assert problems[:-1] == expected[: jsonl.MAX_REPORTED]
    more = len({p[0] for p in expected}) - jsonl.MAX_REPORTED
    assert problems[-1] == (expected[-1][0], "", f"... and {more} more invalid record(s)")


def test_unique_instants_beyond_the_cache_read_as_line_by_line(tmp_path, small_blocks,
                                                              monkeypatch):
    monkeypatch.setattr(jsonl, "MAX_CACHED_PER_FIELD", 16)
    columns: list[object] = []
    column = jsonl.canonical_column
    monkeypatch.setattr(jsonl, "canonical_column",
                        lambda values: columns.append(column(values)) or columns[-1])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = [json.dumps(patch_line(f"s{i // 40}", f"KB{i}", state="installed",
                                   installed_at=(start + timedelta(seconds=7 * i)).strftime(
                                       "%Y-%m-%dT%H:%M:%SZ") if i % 7 else None))
             for i in range(400)]
    absent = json.loads(lines[351])
    del absent["facts"]["installed_at"]
    lines[351] = json.dumps(absent)
    lines[360] = lines[360].replace("T00:42:00Z", "T00:42:00+00:00")  # not of the UTC form
    got, problems = read_whole(tmp_path, lines)
    expected, _ = one_by_one(lines)
    assert not problems and got == expected
    assert got[398].facts["installed_at"] == start + timedelta(seconds=7 * 398)
    assert got[399].facts["installed_at"] is None and "installed_at" not in got[351].facts
    assert any(c is not None for c in columns)  # the unique instants were read in one call


def test_instants_parsed_in_bulk_are_the_ones_parsed_alone():
    rng = random.Random(16)
    texts = []
    for _ in range(3000):
        y, mo, d = rng.choice([1969, 1970, 2000, 2024, 2026, 2999, 3000]), rng.randint(0, 13), \
            rng.randint(0, 32)
        h, mi, s = rng.randint(0, 24), rng.randint(0, 60), rng.randint(0, 60)
        frac = rng.choice(["", ".5", ".123456", ".1234567"])
        zone = rng.choice(["Z", "Z", "+01:00", "z", "-00:00"])
        texts.append(f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{zone}")
    alone = [canonical_instant(t, {}) for t in texts]
    assert 500 < sum(v is not None for v in alone) < 2900
    for i in range(0, len(texts), 50):
        chunk, want = texts[i:i + 50], alone[i:i + 50]
        got = canonical_instants(chunk)
        if None in want:
            assert got is None
        else:
            assert got == want and all(v.tzinfo is UTC for v in got)
    ok = [t for t, v in zip(texts, alone, strict=True) if v is not None and t.endswith("Z")]
    assert canonical_instants(ok) == [canonical_instant(t, {}) for t in ok]
    written = [t for t in ok if ".5Z" not in t]  # msgspec writes .500000Z
    column = [None if i % 3 == 0 else t for i, t in enumerate(written)]
    assert canonical_column(column) == [t and canonical_instant(t, {}) for t in column]
    assert canonical_column([*column, jsonl.UNSET]) is None  # absent: each text alone


def test_the_kept_facts_read_as_the_dict_of_the_same_facts(tmp_path):
    line = patch_line("s1", "KB1", first_seen_at=None, cves=["CVE-1"])
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(line) + "\n")
    (ev,) = read_evidence(path).evidence
    facts = ev.facts
    assert isinstance(facts, Facts) and isinstance(facts, Mapping)
    expected = {"update_id": "KB1", "severity": "critical", "state": "missing",
                "released_at": datetime(2026, 11, 1, tzinfo=UTC), "first_seen_at": None,
                "cves": ["CVE-1"]}
    assert facts == expected and expected == facts and not facts != expected
    assert facts != {**expected, "title": None} and {**expected, "title": None} != facts
    assert dict(facts) == expected and list(facts) == list(expected) and len(facts) == 6
    assert "first_seen_at" in facts and "title" not in facts and "get" not in facts
    assert facts.get("title", "absent") == "absent" and facts.get("first_seen_at", 1) is None
    with pytest.raises(KeyError):
        facts["installed_at"]
    with pytest.raises(KeyError):
        facts["__class__"]
    assert facts.keys() - {"cves"} == set(expected) - {"cves"}
    assert dict(facts.items()) == expected and list(facts.values()) == list(expected.values())
    assert repr(facts) == repr(expected)
    with pytest.raises(TypeError):
        hash(facts)


def asset_line(subject: str, assessed: str = "2026-11-21T00:00:00Z") -> dict[str, object]:
    return {"kind": "asset", "source": "rmm", "subject": subject,
            "observed_at": "2026-11-22T01:00:00Z", "origin": "rmm/site-1",
            "facts": {"asset_kind": "server", "name": subject.upper(),
                      "patch_assessed_at": assessed}}


def mixed_lines(n: int = 160) -> list[str]:
    """Assets and their patches interleaved, as a collector writes them: each block holds
    several runs of each kind, built by kind and merged back into line order."""
    lines = []
    for i in range(n):
        if i % 9 == 0:
            lines.append(json.dumps(asset_line(f"s{i // 9}")))
        else:
            lines.append(json.dumps(patch_line(f"s{i // 9}", f"KB{i}")))
    return lines


def test_a_block_of_mixed_kinds_reads_as_line_by_line_in_line_order(tmp_path, small_blocks):
    lines = mixed_lines()
    got, problems = read_whole(tmp_path, lines)
    expected, none = one_by_one(lines)
    assert not problems and not none and got == expected
    assert [e.kind for e in got] == [json.loads(line)["kind"] for line in lines]
    assert [e.subject for e in got] == [json.loads(line)["subject"] for line in lines]


def test_lines_of_one_kind_the_columns_refuse_keep_their_place_and_problems(tmp_path,
                                                                           small_blocks):
    lines = mixed_lines()
    # An asset whose timestamp has an offset (its kind is built alone), then a patch of the
    # same block that the schema refuses, then an asset the schema refuses: the problems come
    # in line order, and the records that remain are those read alone, in their order.
    lines[9] = json.dumps(asset_line("s1", "2026-11-21T00:00:00+02:00"))
    lines[11] = lines[11].replace('"2026-11-01T00:00:00Z"', '"2026-11-31T00:00:00Z"')
    lines[18] = json.dumps(asset_line("s2", "1969-12-31T23:59:59Z"))
    lines[20] = lines[20].replace('"critical"', "Infinity")
    got, problems = read_whole(tmp_path, lines)
    _, expected = one_by_one(lines)
    assert problems == expected and [p[0] for p in problems] == [12, 19, 21]
    kept = [line for i, line in enumerate(lines) if i + 1 not in (12, 19, 21)]
    got, problems = read_whole(tmp_path, kept)
    expected, _ = one_by_one(kept)
    assert not problems and got == expected
    assert got[9].facts["patch_assessed_at"] == datetime(2026, 11, 20, 22, tzinfo=UTC)


TRICKY = {
    "duplicate names": lambda s: s.replace('"state": "missing"',
                                           '"state": "installed", "state": "missing"'),
    "duplicate facts object": lambda s: s.replace('"facts": {', '"facts": {}, "facts": {'),
    "duplicate null": lambda s: s.replace('"facts": {', '"facts": {"title": null, "title": null, '),
    "duplicate list": lambda s: s.replace('"facts": {', '"facts": {"cves": [], "cves": ["C"], '),
    "duplicate top name": lambda s: s.replace('"source"', '"raw_ref": null, "raw_ref": null, '
                                              '"source"'),
    "duplicate id": lambda s: s.replace('"source"', '"id": "a", "id": "a", "source"'),
    "name twice, once escaped": lambda s: s.replace(
        '"state": "missing"', '"state": "installed", "st\\u0061te": "missing"'),
    "name twice in spaces": lambda s: s.replace('"state": "missing"',
                                                '"state" : "installed" ,"state":"missing"'),
    "NaN": lambda s: s.replace('"critical"', "NaN"),
    "-Infinity": lambda s: s.replace('"facts": {', '"facts": {"cvss": -Infinity, '),
    "overflowing number": lambda s: s.replace('"facts": {', '"facts": {"cvss": 1e999, '),
    "big integer": lambda s: s.replace('"facts": {', '"facts": {"n": 18446744073709551616, '),
    "unicode escape": lambda s: s.replace('"rmm"', '"r\\u006dm"'),
    "escaped subject": lambda s: s.replace('"subject": "s', '"subject": "\\u00e9s'),
    "non-ASCII subject": lambda s: s.replace('"subject": "s', '"subject": "é'),
    "CRLF": lambda s: s + "\r",
    "blank": lambda s: "",
    "spaces": lambda s: "   ",
    "lowercase t": lambda s: s.replace("2026-11-01T00", "2026-11-01t00"),
    "seven digits": lambda s: s.replace("T00:00:00Z", "T00:00:00.1234567Z"),
    "no time zone": lambda s: s.replace("T00:00:00Z", "T00:00:00"),
    "offset": lambda s: s.replace("T00:00:00Z", "T00:00:00+01:00"),
    "not an object": lambda s: "[1, 2]",
    "two objects": lambda s: s + " " + s,
}


@pytest.mark.parametrize("case", sorted(TRICKY))
@pytest.mark.parametrize("where", [0, 37, 159])
def test_a_tricky_line_in_a_mixed_block_reads_as_alone(tmp_path, small_blocks, case, where):
    lines = mixed_lines()
    lines[where] = TRICKY[case](lines[where])
    got, problems = read_whole(tmp_path, lines)
    expected, expected_problems = one_by_one(lines)
    assert problems == expected_problems
    if not problems:
        assert got == expected
        assert [dict(e.facts) for e in got] == [dict(e.facts) for e in expected]
        instants = [v for e in got for v in dict(e.facts).values() if isinstance(v, datetime)]
        assert instants and all(v.tzinfo is UTC for v in instants)  # an offset read as UTC


@pytest.mark.parametrize("cut", [1, 20, 60])
def test_a_truncated_last_line_is_refused_by_its_number(tmp_path, small_blocks, cut):
    lines = mixed_lines()
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines)[:-cut], encoding="utf-8")  # no final newline either
    with pytest.raises(InputError) as caught:
        read_evidence(path)
    assert [p.line for p in caught.value.problems] == [len(lines)]
    _, expected = one_by_one([*lines[:-1], lines[-1][:-cut]])
    assert [(p.line, p.path, p.message) for p in caught.value.problems] == expected


@pytest.mark.parametrize("texts", [
    ["2026-11-22T06:00:00.500000Z", "2026-11-22T06:00:00.000120Z", "2026-11-22T06:00:00Z"],
    ["2026-11-22T06:00:00.5Z", "2026-11-22T06:00:00.000120Z"],  # msgspec writes .500000Z
    ["1970-01-01T00:00:00Z", "2999-12-31T23:59:59.999999Z"],
    ["1969-12-31T23:59:59.999999Z", "2026-11-22T06:00:00Z"],
    ["3000-01-01T00:00:00Z"],
    ["0005-01-01T00:00:00Z"],
    ["2026-11-22T06:00:00-00:00", "2026-11-22T06:00:00+00:00", "2026-11-22T06:00:00z"],
    ["2026-11-22 06:00:00Z", "2026-11-22t06:00:00Z", "2026-11-22T06:00:00.1234567Z"],
    ["2026-11-22T06:00:00+0100", "2026-11-22T06:00:00"],
    # forms msgspec writes back as it read them: taken only in UTC
    ["2026-11-22T06:00:00+01:00", "2026-11-22T06:00:00-05:30"],
    ["2026-11-22T06:00:00"],
    ["2026-11-22T06:00:00Z", "2026-11-22T06:00:00"],
    # one text that would be two in the array msgspec is given: never taken as two
    ['2026-11-22T06:00:00Z","2026-11-22T06:00:00Z', "2026-11-22T06:00:00Z"],
    ['2026-11-22T06:00:00Z","2026-11-22T06:00:00Z'],
])
def test_instants_msgspec_writes_back_are_the_ones_parsed_alone(texts):
    alone = [canonical_instant(t, {}) for t in texts]
    got = canonical_instants(texts)
    if None in alone:
        assert got is None
    else:
        assert got == alone and all(v.tzinfo is UTC for v in got)
    column = canonical_column([None, *texts, None])  # None: read as canonical_instants does
    assert column is None or column == [None, *alone, None] and None not in alone


def _random_value(rng: random.Random, category: str, stamp: bool, kind: object = None) -> object:
    members = getattr(kind, "types", (kind,))
    choices = [v for m in members for v in getattr(m, "values", ())]
    if choices:
        return rng.choice(choices)
    if category == jsonl.TEXTS:
        return [rng.choice(["CVE-1", "a b", ": x", "é", ""]) for _ in range(rng.randint(0, 3))]
    if category == jsonl.PLAIN:
        plain = {jsonl.mi.BoolType: [True, False], jsonl.mi.IntType: [1, 7],
                 jsonl.mi.FloatType: [2.5, 1e300]}
        return rng.choice([v for m in members for v in plain.get(type(m), [])])
    if stamp:
        return f"2026-11-{rng.randint(1, 20):02d}T0{rng.randint(0, 9)}:00:00Z"
    empty = all(getattr(m, "min_length", None) is None for m in members)
    return rng.choice(["x", "a b", ":", " :x", "é", "KB1", "{}", "[1]", *[""] * empty])


@pytest.mark.parametrize("seed", range(3))
def test_the_quotes_told_by_columns_are_the_quotes_msgspec_writes(seed):
    """The block proof's count (``QuotePlan``, told from a run's columns) equals the quotes
    msgspec writes for the run as decoded, on every kind that has a plan, fields absent, null,
    empty or not; and each kind without a plan is written back instead."""
    rng = random.Random(seed)
    reader = _Reader("x")
    planned = 0
    for line_type, table in reader.line_kinds.items():
        plan = jsonl.quote_plan(line_type)
        if plan is None:
            continue
        planned += 1
        info = jsonl.mi.type_info(line_type)
        facts_info = next(f for f in info.fields if f.name == "facts").type
        lines = []
        for i in range(60):
            facts = {}
            for f in facts_info.fields:
                shape = jsonl._shape(f.type)
                assert shape is not None
                if not f.required and rng.random() < 0.3:
                    continue
                facts[f.name] = None if shape[1] and rng.random() < 0.3 else _random_value(
                    rng, shape[0], f.name in table.timestamps, f.type)
            line: dict[str, object] = {"kind": table.name, "source": "s", "subject": f"u{i}",
                                       "observed_at": "2026-11-22T01:00:00Z", "facts": facts}
            for name in ("id", "origin", "raw_ref"):
                if rng.random() < 0.5:
                    line[name] = None if name == "raw_ref" and rng.random() < 0.5 \
                        else _random_value(rng, jsonl.TEXT, False, jsonl.mi.StrType(1))
            lines.append(json.dumps(line).encode())
        run = [reader.fast.decode(line) for line in lines]
        expected = reader.encode(run).count(b'"')
        assert expected == sum(line.count(b'"') for line in lines)  # no name dropped
        made = reader.build_run(run)
        assert made is not None and made[1] == expected
    assert planned >= 4  # all but the asset (its labels are written back)

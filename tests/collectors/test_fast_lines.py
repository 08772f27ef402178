"""The reader's fast path (msgspec types) agrees with the published JSON Schema.

The fast path may refuse a valid line (it then takes the schema path), but must never accept
a line the schema refuses, and must build the very record the schema path builds. The reader
as a whole accepts exactly what it accepted before: schema-valid lines whose timestamps parse.

Both the msgspec types and the schema are derived from the kinds' declarations
(``clausewatch.core.kinds``). ``handwritten_evidence.schema.json`` is the schema as it was
written by hand before they were: every record below is accepted by the derived schema exactly
when it was by the hand-written one (a deliberate change to a kind's facts updates that copy).
Validation uses jsonschema-rs, the validator the reader itself uses; a sample is also checked
with the pure-Python jsonschema as a second opinion.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import msgspec
import orjson
import pytest
from builders import AS_OF
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clausewatch.collectors.jsonl import _Reader, dumps, evidence_schema, read_evidence
from clausewatch.core.kinds import KINDS, KindRegistry
from clausewatch.core.problems import InputError
from clausewatch.demo.estate import build_estate

SCHEMA = jsonschema_rs.validator_for(evidence_schema(), validate_formats=True)
HANDWRITTEN_SCHEMA = json.loads(
    (Path(__file__).parent / "handwritten_evidence.schema.json").read_text(encoding="utf-8"))
HANDWRITTEN = jsonschema_rs.validator_for(HANDWRITTEN_SCHEMA, validate_formats=True)
#: The pure-Python validator, for a sample: a second opinion on what the schema says.
REFERENCE = jsonschema.Draft202012Validator(
    evidence_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def fast_path(reader: _Reader, line: bytes) -> Any:
    """The record the fast path builds, or None where it hands the line to the schema path."""
    try:
        decoded = reader.fast.decode(line)
    except msgspec.DecodeError:
        return None
    return reader._build_fast(decoded)


def schema_path(reader: _Reader, line: bytes) -> Any:
    """The record the schema path builds (it must accept the line)."""
    return reader._build(orjson.loads(line))


def check_agreement(obj: Any) -> None:
    valid = SCHEMA.is_valid(obj)
    assert valid == HANDWRITTEN.is_valid(obj), obj  # derived = hand-written, in behaviour
    line = json.dumps(obj).encode()
    built = fast_path(_Reader("x"), line)
    if built is not None:
        assert valid, obj  # the fast path accepts nothing the schema refuses
        by_schema = schema_path(_Reader("x"), line)
        assert built == by_schema
        assert built.facts == by_schema.facts


def without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    return node


def test_the_derived_schema_is_the_handwritten_one_but_for_descriptions():
    """Derived from the kinds the hand-written schema knew, it is that schema, keyword for keyword.

    (Only descriptions differ: each kind's facts now carry its description.)
    """
    known = [k for k in HANDWRITTEN_SCHEMA["properties"]["kind"]["enum"] if k != "collection_error"]
    derived = evidence_schema(KindRegistry(KINDS[k] for k in known))
    assert without_descriptions(derived) == without_descriptions(HANDWRITTEN_SCHEMA)
    assert derived["$defs"]["patch"]["properties"]["update_id"]["description"] == (
        HANDWRITTEN_SCHEMA["$defs"]["patch"]["properties"]["update_id"]["description"])


def fixture_lines() -> list[str]:
    estate = build_estate(AS_OF)
    return [dumps(item) for item in [*estate.evidence, *estate.errors]]


def test_the_fast_path_takes_every_fixture_record_and_builds_it_as_the_schema_path():
    """Every record of declared facts only takes the fast path; one with a collector's extra
    facts (the demo's Workspace identities are built by the collector's own code) is left to
    the schema path, which reads it the same (``check_agreement``)."""
    lines = fixture_lines()
    assert len(lines) > 100
    taken = declined = 0
    for i, text in enumerate(lines):
        obj = json.loads(text)
        SCHEMA.validate(obj)
        if i % 50 == 0:
            REFERENCE.validate(obj)
        check_agreement(obj)
        if obj["kind"] == "collection_error":
            continue
        declared = {f.name for f in KINDS[obj["kind"]].facts}
        if set(obj["facts"]) <= declared:
            assert fast_path(_Reader("x"), text.encode()) is not None, text
            taken += 1
        else:
            assert fast_path(_Reader("x"), text.encode()) is None, text
            declined += 1
    assert taken > 100 and declined < taken


def test_valid_lines_the_fast_path_refuses_are_read_as_before(tmp_path):
    extra = {"kind": "patch", "source": "rmm", "subject": "s",
             "observed_at": "2026-11-22T01:00:00Z",
             "facts": {"update_id": "KB1", "severity": "low", "state": "missing", "vendor": "x"}}
    spaced = copy.deepcopy(extra)
    del spaced["facts"]["vendor"]
    spaced["facts"]["released_at"] = "2026-11-01T00:00:00.1234567+02:00"
    for obj in (extra, spaced):
        line = json.dumps(obj).encode()
        assert fast_path(_Reader("x"), line) is None
        SCHEMA.validate(obj)
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(extra) + "\n")
    (ev,) = read_evidence(path).evidence
    assert ev.facts["vendor"] == "x"


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` 19 times in 20: most records are valid but for one or two fields."""
    return st.integers(0, 19).flatmap(lambda i: bad if i == 0 else good)


GOOD_STAMPS = st.sampled_from([
    "2026-11-01T00:00:00Z", "2026-11-01T00:00:00+02:00", "2026-11-01T00:00:00.5-05:30",
    "2026-11-01T00:00:00.123456Z", "2026-11-01T00:00:00.1234567Z", "2026-11-01t00:00:00z",
])
BAD_STAMPS = st.sampled_from([
    "2026-11-01 00:00:00Z", "2026-11-01T00:00:00+0200", "2026-11-01T00:00:00",
    "2026-11-01T00:00Z", "2026-02-30T00:00:00Z", "2026-11-01T23:59:60Z", "2026-11-01T24:00:00Z",
    "2026-11-01T00:00:00+24:00", "20261101T000000Z", "", "x",
])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3),
                    st.sampled_from([1.0, 2.5, -0.5]), st.text(max_size=3), GOOD_STAMPS)
TEXT = mostly(st.text(min_size=1, max_size=4), st.one_of(st.just(""), SCALARS))
STAMPS = mostly(GOOD_STAMPS, st.one_of(BAD_STAMPS, SCALARS))
OPT_STAMPS = st.one_of(st.none(), STAMPS)
FLAGS = mostly(st.one_of(st.none(), st.booleans()), SCALARS)


def choice(*values: Any) -> st.SearchStrategy[Any]:
    return mostly(st.sampled_from(values), st.one_of(st.just("nope"), SCALARS))


FACTS = {
    "identity": {"account": TEXT, "enabled": FLAGS,
                 "account_type": choice("member", "guest", "root", "room"),
                 "mfa_registered": FLAGS, "mfa_enforced": FLAGS, "privileged": FLAGS,
                 "created_at": OPT_STAMPS, "display_name": mostly(st.text(max_size=3), SCALARS)},
    "asset": {"asset_kind": TEXT, "name": mostly(st.text(max_size=3), SCALARS),
              "tags": mostly(st.dictionaries(st.text(max_size=2), st.one_of(
                  st.text(max_size=2), st.integers(), st.booleans(), st.just(1.5)), max_size=2),
                  st.dictionaries(st.text(max_size=2), SCALARS, max_size=2)),
              "last_seen": OPT_STAMPS, "patch_assessed_at": OPT_STAMPS,
              "os": mostly(st.one_of(st.none(), st.text(max_size=3)), SCALARS)},
    "patch": {"update_id": TEXT, "severity": TEXT,
              "state": choice("missing", "installed", "failed", "not_applicable"),
              "released_at": OPT_STAMPS, "installed_at": OPT_STAMPS, "first_seen_at": OPT_STAMPS,
              "cves": mostly(st.lists(st.text(max_size=3), max_size=2),
                             st.lists(SCALARS, max_size=2)),
              "title": mostly(st.one_of(st.none(), st.text(max_size=3)), SCALARS)},
    "backup": {"outcome": choice("success", "failed", "partial", "expired", "aborted"),
               "completed_at": STAMPS, "started_at": OPT_STAMPS,
               "size_bytes": mostly(st.one_of(st.none(), st.integers(0, 9)), SCALARS),
               "backup_type": mostly(st.one_of(st.none(), st.text(max_size=3)), SCALARS)},
    "restore_test": {"outcome": choice("success", "failed", "partial"), "completed_at": STAMPS,
                     "duration_minutes": mostly(st.one_of(st.none(), st.integers(0, 9),
                                                          st.just(2.5)), SCALARS),
                     "method": choice("automated", "attested")},
}


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly valid records, a field now and then dropped, retyped, unknown or extra."""
    kind = draw(mostly(st.sampled_from(list(FACTS)), st.sampled_from(["collection_error", "x"])))
    facts_of = FACTS.get(kind, FACTS["patch"])
    facts = {k: draw(s) for k, s in facts_of.items() if draw(st.integers(0, 19))}
    if not draw(st.integers(0, 9)):
        facts[draw(st.sampled_from(["extra", "cves", "state", "tags"]))] = draw(SCALARS)
    obj: dict[str, Any] = {"kind": kind, "source": draw(TEXT), "subject": draw(TEXT),
                           "observed_at": draw(STAMPS), "facts": facts}
    for key, value in (("id", TEXT), ("origin", mostly(st.text(max_size=3), SCALARS)),
                       ("raw_ref", mostly(st.one_of(st.none(), st.text(max_size=3)), SCALARS)),
                       ("extra", SCALARS), ("kinds", st.just(["patch"])), ("message", TEXT)):
        if not draw(st.integers(0, 3 if key in ("id", "origin", "raw_ref") else 19)):
            obj[key] = draw(value)
    for key in ("source", "subject", "observed_at", "facts"):
        if not draw(st.integers(0, 29)):
            del obj[key]
    return obj


def reads_as(tmp_path: Any, obj: dict[str, Any]) -> Any:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(obj) + "\n")
    try:
        return read_evidence(path)
    except InputError as exc:
        return exc.problems


@settings(max_examples=1500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records())
def test_fast_and_schema_paths_agree_on_generated_records(tmp_path, obj):
    check_agreement(obj)
    event("schema-valid" if SCHEMA.is_valid(obj) else "schema-invalid")
    got = reads_as(tmp_path, obj)
    if not SCHEMA.is_valid(obj):
        assert isinstance(got, list), obj  # refused, by line and field
        assert got[0].line == 1
        named = ("'", '"', "observed_at", "facts.")
        assert got[0].path or any(n in got[0].message for n in named)  # names the field
    elif isinstance(got, list):  # schema-valid, refused as before: a timestamp Python cannot read
        stamps = [obj.get("observed_at"), *obj.get("facts", {}).values()]
        assert any(isinstance(v, str) and not python_reads(v) for v in stamps), (obj, got)
        assert fast_path(_Reader("x"), json.dumps(obj).encode()) is None


def python_reads(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("stamp", ["2026-11-01T00:00:00", "2026-11-01 00:00:00"])
def test_naive_timestamps_are_still_refused_with_line_and_field(tmp_path, stamp):
    obj = {"kind": "backup", "source": "veeam", "subject": "vm1", "observed_at": stamp,
           "facts": {"outcome": "success", "completed_at": "2026-11-01T00:00:00Z"}}
    problems = reads_as(tmp_path, obj)
    assert {(p.line, p.path) for p in problems} == {(1, "observed_at")}


def test_equal_timestamps_and_strings_are_shared(tmp_path):
    line = {"kind": "patch", "source": "rmm", "observed_at": "2026-11-22T01:00:00Z",
            "facts": {"update_id": "KB1", "severity": "low", "state": "missing",
                      "released_at": "2026-11-01T00:00:00+01:00", "cves": ["CVE-1"]}}
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps({**line, "subject": f"s{i}"}) + "\n" for i in range(3)))
    a, b, c = read_evidence(path).evidence
    assert a.facts["released_at"] is c.facts["released_at"]
    assert a.facts["released_at"] == datetime.fromisoformat("2026-10-31T23:00:00+00:00")
    assert a.observed_at is b.observed_at
    assert a.facts["severity"] is b.facts["severity"] and a.facts["cves"] is c.facts["cves"]


BASES = {
    "identity": {"account": "a@x", "enabled": True, "account_type": "member",
                 "mfa_registered": True, "mfa_enforced": None, "privileged": False,
                 "privileged_reason": None, "display_name": "A", "mfa_enforced_by": "policy",
                 "created_at": "2026-01-01T00:00:00Z"},
    "asset": {"asset_kind": "server", "name": "H", "tags": {"site": "1", "n": 2, "ok": True},
              "os": "linux", "os_version": None, "last_seen": "2026-01-01T00:00:00Z",
              "patch_assessed_at": None},
    "patch": {"update_id": "KB1", "severity": "low", "state": "installed",
              "released_at": "2026-01-01T00:00:00Z", "first_seen_at": None,
              "installed_at": "2026-01-02T00:00:00+01:00", "classification": None,
              "title": "t", "cves": ["CVE-1"]},
    "backup": {"outcome": "success", "completed_at": "2026-01-01T00:00:00Z",
               "started_at": None, "job_id": "j", "backup_type": None, "size_bytes": 3},
    "restore_test": {"outcome": "partial", "completed_at": "2026-01-01T00:00:00Z",
                     "duration_minutes": 2.5, "method": "attested", "attested_by": None,
                     "note": "n"},
}
PROBES = [None, True, False, 0, -1, 1.0, 2.5, -0.5, "", "x", "member", "missing", "success",
          "automated", [], ["a"], [1], {}, {"a": None}, {"a": [1]}, "2026-01-01T00:00:00Z",
          "2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00+0100"]


@pytest.mark.parametrize("kind", list(BASES))
def test_every_field_set_to_every_probe_or_dropped_agrees(kind):
    base = {"kind": kind, "source": "s", "subject": "x", "observed_at": "2026-01-01T00:00:00Z",
            "id": "i", "origin": "o", "raw_ref": None, "facts": BASES[kind]}
    check_agreement(base)
    assert fast_path(_Reader("x"), json.dumps(base).encode()) is not None
    for where in ("envelope", "facts"):
        fields = base if where == "envelope" else base["facts"]
        for key in [*fields, "unknown"]:
            for value in [*PROBES, DROP]:
                obj = copy.deepcopy(base)
                target = obj if where == "envelope" else obj["facts"]
                if value is DROP:
                    target.pop(key, None)
                else:
                    target[key] = value
                check_agreement(obj)


DROP = object()

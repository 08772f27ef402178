"""The JSON Lines evidence format: round trip, and invalid records reported by line."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import msgspec
import pytest
from builders import AS_OF, asset, patch

from clausewatch.collectors.jsonl import (
    _Reader,
    evidence_schema,
    read_evidence,
    tables,
    write_evidence,
)
from clausewatch.core.evidence import CollectionError
from clausewatch.core.kinds import KINDS, EvidenceKind, Fact, FactType, KindRegistry
from clausewatch.core.problems import InputError
from clausewatch.demo.estate import build_estate

GOOD_PATCH = {
    "kind": "patch", "source": "rmm", "subject": "srv1", "observed_at": "2026-11-22T01:00:00Z",
    "facts": {"update_id": "KB1", "severity": "critical", "state": "missing",
              "released_at": "2026-11-01T00:00:00+01:00"},
}


def write_lines(tmp_path, lines):
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def test_round_trip_keeps_every_field(tmp_path):
    records = [
        asset("srv1", patch_assessed_at=AS_OF, origin="aws/1/eu-west-3", tags={"env": "prod"}),
        patch("srv1", "KB1", "critical", "installed", released_at=AS_OF, installed_at=AS_OF,
              cves=["CVE-2026-1"]),
        CollectionError(source="aws.ssm", origin="aws/2", kinds=("patch",), message="denied",
                        operation="DescribeInstancePatches", occurred_at=AS_OF),
    ]
    buf = io.StringIO()
    assert write_evidence(records, buf) == 3
    path = tmp_path / "e.jsonl"
    path.write_text(buf.getvalue())
    batch = read_evidence(path)
    assert batch.evidence == records[:2]
    assert batch.errors == records[2:]


def test_every_written_line_is_valid_against_the_published_schema():
    estate = build_estate(AS_OF)
    items = [*estate.evidence, *estate.errors]
    buf = io.StringIO()
    assert write_evidence(items, buf) == len(items)
    validator = jsonschema.Draft202012Validator(evidence_schema(),
                                                format_checker=jsonschema.FormatChecker())
    lines = buf.getvalue().splitlines()
    assert len(lines) == len(items) > 100
    assert {json.loads(line)["kind"] for line in lines} == {*KINDS.names(), "collection_error"}
    for line in lines[::20]:  # the pure-Python validator is slow: a sample of every kind
        validator.validate(json.loads(line))


def test_the_demo_estate_reads_back_as_collected(tmp_path):
    """What a collector builds and what the file gives back are the same records, facts too."""
    estate = build_estate(AS_OF)
    path = tmp_path / "e.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        write_evidence([*estate.evidence, *estate.errors], out)
    batch = read_evidence(path)
    assert batch.evidence == estate.evidence
    assert [dict(e.facts) for e in batch.evidence] == [dict(e.facts) for e in estate.evidence]
    assert batch.errors == estate.errors


def test_timestamps_are_normalised_to_utc_and_ids_derived(tmp_path):
    batch = read_evidence(write_lines(tmp_path, [GOOD_PATCH]))
    (p,) = batch.evidence
    assert p.facts["released_at"].isoformat() == "2026-10-31T23:00:00+00:00"
    assert p.id == "rmm:patch:srv1:KB1"


def test_invalid_records_are_reported_by_line_never_dropped(tmp_path):
    naive = json.loads(json.dumps(GOOD_PATCH))
    naive["facts"]["released_at"] = "2026-11-01T00:00:00"
    bad_state = json.loads(json.dumps(GOOD_PATCH))
    bad_state["facts"]["state"] = "pending"
    no_subject = {k: v for k, v in GOOD_PATCH.items() if k != "subject"}
    path = write_lines(tmp_path, [GOOD_PATCH, "{not json", naive, "", bad_state, no_subject,
                                  GOOD_PATCH])
    with pytest.raises(InputError) as info:
        read_evidence(path)
    got = [(p.line, p.path, p.message) for p in info.value.problems]
    assert got[0] == (2, "", "not valid JSON: unexpected character, expected a string key at "
                             "column 2")
    assert got[1][0:2] == (3, "facts.released_at")
    assert got[2] == (5, "facts.state",
                      '"pending" is not one of "missing", "installed" or 2 other candidates')
    assert got[3] == (6, "", '"subject" is a required property')
    assert got[4] == (7, "id", "duplicate evidence id 'rmm:patch:srv1:KB1' (line 1)")
    assert str(info.value.problems[0]).startswith(f"{path}:2:1: ")


def test_many_invalid_records_are_counted(tmp_path):
    path = write_lines(tmp_path, ["[]"] * 250)
    with pytest.raises(InputError) as info:
        read_evidence(path)
    assert len(info.value.problems) == 201  # 100 records x 2 messages, then the count
    assert info.value.problems[-1].message == "... and 150 more invalid record(s)"


def test_the_tables_are_those_of_the_declarations_and_the_schema():
    defs = evidence_schema()["$defs"]
    for kind in KINDS:
        table = tables().by_name[kind.name]
        in_schema = {k for k, v in defs[kind.name]["properties"].items()
                     if "datetime" in json.dumps(v)}
        assert set(table.timestamps) == in_schema == set(kind.timestamp_facts), kind.name
        assert table.shared == kind.shared_facts
    assert sorted(t.name for t in tables().by_line.values()) == sorted(KINDS.names())
    patch_table = tables().by_name["patch"]
    assert set(patch_table.timestamps) == {"released_at", "first_seen_at", "installed_at"}
    assert {"severity", "state", "update_id", "cves"} <= set(patch_table.shared)


def test_an_undeclared_timestamp_fact_is_text_live_and_read_back(tmp_path):
    """One rule: only declared timestamp facts are datetimes, from a collector as from a file.

    A line with an undeclared fact leaves the fast path (its types forbid unknown facts) for
    the schema path, which keeps the fact's JSON value; the live record carries the same text.
    """
    built = patch("srv1", "KB1", "low", "installed", released_at=AS_OF,
                  installed_at=AS_OF.astimezone(timezone(timedelta(hours=2))),
                  scanned_at=AS_OF - timedelta(hours=1))
    assert built.facts["scanned_at"] == "2026-11-22T05:00:00Z"  # converted when built
    assert built.facts["released_at"] is AS_OF
    declared_only = patch("srv2", "KB1", "low", "installed", released_at=AS_OF,
                          installed_at=AS_OF)
    buf = io.StringIO()
    write_evidence([built, declared_only], buf)
    lines = buf.getvalue().encode().splitlines()
    reader = _Reader("x")
    with pytest.raises(msgspec.ValidationError, match="scanned_at"):
        reader.fast.decode(lines[0])  # the schema path reads it
    assert reader._build_fast(reader.fast.decode(lines[1])) == declared_only  # the fast path
    path = tmp_path / "e.jsonl"
    path.write_bytes(buf.getvalue().encode())
    read, read_fast = read_evidence(path).evidence
    assert read == built and dict(read.facts) == dict(built.facts)
    assert read_fast == declared_only and dict(read_fast.facts) == dict(declared_only.facts)
    assert isinstance(read.facts["installed_at"], datetime)
    assert read.facts["installed_at"] == built.facts["installed_at"]
    assert read.facts["scanned_at"] == "2026-11-22T05:00:00Z"


def test_a_live_declared_timestamp_given_as_text_is_a_datetime():
    built = patch("srv1", "KB1", "low", "missing", released_at="2026-11-01T01:00:00+01:00")
    assert built.facts["released_at"] == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="facts.released_at"):
        patch("srv1", "KB1", "low", "missing", released_at="2026-11-01T01:00:00")
    with pytest.raises(ValueError, match="facts.scanned_at"):
        patch("srv1", "KB1", "low", "missing", scanned_at=datetime(2026, 11, 1))  # noqa: DTZ001


TICKET = EvidenceKind(
    name="ticket",
    description="A throwaway kind: one support ticket.",
    facts=(
        Fact(name="ticket_id", type=FactType.TEXT, required=True, shared=True),
        Fact(name="opened_at", type=FactType.TIMESTAMP, required=True),
        Fact(name="closed_at", type=FactType.TIMESTAMP, nullable=True),
        Fact(name="priority", type=FactType.CHOICE, choices=("p1", "p2"), nullable=True),
        Fact(name="minutes", type=FactType.NUMBER, minimum=0),
    ),
    id_facts=("ticket_id",),
)
WITH_TICKET = KindRegistry([*KINDS, TICKET])
TICKET_LINE = {"kind": "ticket", "source": "desk", "subject": "srv1",
               "observed_at": "2026-11-22T01:00:00Z",
               "facts": {"ticket_id": "T-1", "opened_at": "2026-11-20T10:00:00+01:00",
                         "closed_at": None, "priority": "p1", "minutes": 3}}


def test_a_kind_added_to_a_registry_reaches_schema_fast_path_and_tables(tmp_path):
    schema = evidence_schema(WITH_TICKET)
    assert "ticket" in schema["properties"]["kind"]["enum"]
    assert "ticket" in schema["$defs"]["collection_error"]["properties"]["kinds"]["items"]["enum"]
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate(TICKET_LINE)
    bad = json.loads(json.dumps(TICKET_LINE))
    bad["facts"]["priority"] = "p9"
    assert not validator.is_valid(bad)
    assert not jsonschema.Draft202012Validator(evidence_schema()).is_valid(TICKET_LINE)

    table = tables(WITH_TICKET).by_name["ticket"]
    assert table.timestamps == ("opened_at", "closed_at") and table.shared == ("ticket_id",)
    reader = _Reader("x", WITH_TICKET)
    decoded = reader.fast.decode(json.dumps(TICKET_LINE).encode())  # the fast path takes it
    fast = reader._build_fast(decoded)
    assert fast is not None and fast.kind == "ticket"

    path = tmp_path / "e.jsonl"
    slow_line = json.loads(json.dumps(TICKET_LINE))
    slow_line["facts"]["opened_at"] = "2026-11-20T10:00:00.1234567+01:00"  # schema path
    path.write_text(json.dumps(TICKET_LINE) + "\n" + json.dumps({**slow_line, "subject": "b"})
                    + "\n")
    one, two = read_evidence(path, WITH_TICKET).evidence
    assert one == fast
    assert one.id == "desk:ticket:srv1:T-1" and two.id == "desk:ticket:b:T-1"
    assert one.facts["opened_at"] == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert two.facts["opened_at"].microsecond == 123456
    assert one.facts["closed_at"] is None and one.facts["minutes"] == 3


def test_a_kind_unknown_to_the_registry_is_refused_by_line_not_a_crash(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(TICKET_LINE) + "\n")
    with pytest.raises(InputError) as info:
        read_evidence(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (1, "kind")
    bare = EvidenceKind(name="note", description="No timestamps, nothing shared.",
                        facts=(Fact(name="text", type=FactType.STRING),))
    path.write_text(json.dumps({**TICKET_LINE, "kind": "note", "facts": {"text": "x"}}) + "\n")
    (note,) = read_evidence(path, KindRegistry([*KINDS, bare])).evidence
    assert note.id == "desk:note:srv1" and note.facts == {"text": "x"}


def test_a_kind_named_after_a_schema_definition_is_refused():
    clash = EvidenceKind(name="text", description="", facts=())
    with pytest.raises(ValueError, match="taken by the schema"):
        evidence_schema(KindRegistry([*KINDS, clash]))


def test_a_collection_error_keeps_what_it_covered_through_json_lines(tmp_path):
    err = CollectionError(source="aws.rds", origin="aws/1/eu-west-3", kinds=("asset",),
                          message="AccessDenied", asset_kinds=("database",),
                          resource_types=("RDS", "Aurora"), subject="arn:aws:rds:db:x",
                          tags={"customer": "morel"}, facts={"tenant_id": "t"})
    path = tmp_path / "e.jsonl"
    with path.open("w", encoding="utf-8") as out:
        write_evidence([err], out)
    assert read_evidence(path).errors == [err]

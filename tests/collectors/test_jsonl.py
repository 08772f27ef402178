"""The JSON Lines evidence format: round trip, and invalid records reported by line."""

from __future__ import annotations

import io
import json

import jsonschema
import pytest
from builders import AS_OF, asset, patch

from clausewatch.collectors.jsonl import evidence_schema, read_evidence, write_evidence
from clausewatch.core.evidence import CollectionError
from clausewatch.core.problems import InputError

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
    buf = io.StringIO()
    write_evidence([asset("a", patch_assessed_at=AS_OF)], buf)
    validator = jsonschema.Draft202012Validator(evidence_schema(),
                                                format_checker=jsonschema.FormatChecker())
    for line in buf.getvalue().splitlines():
        validator.validate(json.loads(line))


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


def test_every_timestamp_fact_of_the_schema_is_parsed():
    from clausewatch.collectors.jsonl import DATETIME_KEYS

    defs = evidence_schema()["$defs"]
    for kind, keys in DATETIME_KEYS.items():
        in_schema = {k for k, v in defs[kind]["properties"].items() if "datetime" in json.dumps(v)}
        assert set(keys) == in_schema, kind

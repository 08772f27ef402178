"""The run's record written as streams: evidence lines, results.json, the leak scan, the zip."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest
from report_case import AS_OF, CLIENT_SECRET
from report_packs import build

from clausewatch.collectors.jsonl import dumps, read_evidence
from clausewatch.core.evidence import CollectionError, Evidence, default_evidence_id
from clausewatch.core.redact import Redactor
from clausewatch.core.result import Result, Status
from clausewatch.reports import evidence_pack, publish, results_json
from clausewatch.reports.formats import RunView, csv_results
from clausewatch.reports.streams import evidence_chunks, exact, file_chunks, write_stream
from clausewatch.reports.verify import verify

PARIS = timezone(timedelta(hours=1))


def _evidence(subject: str, **facts: object) -> Evidence:
    facts = {"asset_kind": "server", **facts}
    return Evidence(id=default_evidence_id("asset", "rmm", subject, facts), kind="asset",
                    source="rmm", subject=subject, observed_at=AS_OF, facts=facts,
                    origin="rmm/site-1")


def _old_document(case) -> bytes:
    """results.json as it was written before it was streamed."""
    doc = results_json.to_document(case.ev, case.info)
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def test_evidence_lines_read_back_as_the_records(case, tmp_path):
    paris = PARIS
    records = [
        *case.records,
        _evidence("h-1", tags={"site": "Zürich ☃", "quote": 'a","b'}, seen=[1, 2.5, None]),
        dataclasses.replace(_evidence("h-2"), raw_ref="raw/rmm/page-1.json"),
        _evidence("h-3", patch_assessed_at=datetime(2026, 11, 20, 7, 30, tzinfo=paris)),
    ]
    path = tmp_path / "evidence.jsonl"
    written = write_stream(evidence_chunks(records, batch=2), path)
    assert written.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert written.size == path.stat().st_size
    batch = read_evidence(path)
    assert batch.evidence == [r for r in records if isinstance(r, Evidence)]
    assert batch.errors == [r for r in records if isinstance(r, CollectionError)]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(records)
    # one object per line, keys sorted (files diff cleanly), instants in UTC
    assert all(list(json.loads(line)) == sorted(json.loads(line)) for line in lines)
    assert json.loads(lines[-1])["facts"]["patch_assessed_at"] == "2026-11-20T06:30:00Z"


ODD = [float("nan"), float("inf"), [float("-inf")], {"at": datetime(2026, 1, 1, tzinfo=PARIS)}]


@pytest.mark.parametrize("odd", ODD)
def test_a_value_msgspec_would_change_goes_to_the_old_writer(odd, tmp_path):
    """msgspec would write NaN as null and keep an offset: such a record is written by
    ``collectors.jsonl.dumps``, as before (the strict reader then refuses NaN, as before)."""
    plain, strange = _evidence("h-1"), _evidence("h-2", reading=odd)
    assert not exact(strange.facts)
    data = b"".join(evidence_chunks([plain, strange, plain]))
    assert data.splitlines()[1] == dumps(strange).encode("utf-8")
    assert data.splitlines()[0] == data.splitlines()[2] != dumps(plain).encode("utf-8")


def test_results_json_streamed_is_the_document_byte_for_byte(case):
    assert b"".join(results_json.chunks(case.ev, case.info)) == _old_document(case)
    assert results_json.dumps(case.ev, case.info).encode() == _old_document(case)


@pytest.mark.parametrize("measured", [1e-05, 2.5e17, float("nan"), {"7": 0.1, "x": []}])
def test_results_values_orjson_writes_otherwise_fall_back_to_json(case, measured):
    outcome = case.ev.outcomes[0]
    odd = Result(commitment_id=outcome.commitment.id, subject="s-1", status=Status.BREACHED,
                 reason="r", measured={"value": measured})
    ev = dataclasses.replace(case.ev, outcomes=(
        dataclasses.replace(outcome, results=(*outcome.results, odd)), *case.ev.outcomes[1:]))
    doc = results_json.to_document(ev, case.info)
    expected = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert b"".join(results_json.chunks(ev, case.info)) == expected.encode()


@pytest.mark.parametrize("measured", [1e-05, float("nan"), "-1\x01\u2028é", {"7": 0.1}])
def test_the_csv_rows_made_with_results_json_are_the_csv_made_alone(case, measured):
    """Publishing builds the CSV's rows from the dicts results.json is written from; they are
    the rows the CSV makes alone, and a JSON cell orjson would write otherwise is json's."""
    outcome = case.ev.outcomes[0]
    odd = Result(commitment_id=outcome.commitment.id, subject="s-1", status=Status.BREACHED,
                 reason="r", measured={"value": measured})
    ev = dataclasses.replace(case.ev, outcomes=(
        dataclasses.replace(outcome, results=(*outcome.results, odd)), *case.ev.outcomes[1:]))
    rows = csv_results.Rows(ev)
    b"".join(results_json.chunks(ev, case.info, each=rows))
    alone = csv_results.render(RunView.of(ev, case.info))
    assert csv_results.render(RunView.of(ev, case.info, prepared={"csv": rows})) == alone
    row = next(r for r in csv.DictReader(io.StringIO(alone.decode(), newline=""))
               if r["subject"] == "s-1")
    assert row["measured"] == json.dumps({"value": measured}, sort_keys=True,
                                         ensure_ascii=False, separators=(",", ":"))


def test_an_empty_run_streams_like_json(case):
    ev = dataclasses.replace(case.ev, outcomes=(), errors=(), waivers=())
    doc = results_json.to_document(ev, case.info)
    expected = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert b"".join(results_json.chunks(ev, case.info)).decode() == expected


@pytest.mark.parametrize("size", [1, 5, 16, 64])
def test_a_secret_across_a_block_boundary_is_found(size, tmp_path):
    redactor = Redactor(["short-secret-1", CLIENT_SECRET])
    filler = b"x" * 37
    for at in range(len(filler) + 1):
        path = tmp_path / "f.bin"
        path.write_bytes(filler[:at] + CLIENT_SECRET.encode() + filler[at:])
        found = redactor.leaks_in(file_chunks(path, size))
        assert found == redactor.leaks(path.read_bytes()) and found, (size, at)
    path.write_bytes(filler + CLIENT_SECRET[:-1].encode() + filler)
    assert redactor.leaks_in(file_chunks(path, size)) == []


def test_the_pack_refuses_a_secret_split_across_written_chunks(case, tmp_path, monkeypatch):
    """evidence.jsonl is scanned as it is written: a secret that straddles two writes (here
    every write is 3 bytes) still aborts the pack, and nothing of it is published."""
    real = publish.evidence_chunks

    def in_threes(records):
        data = b"".join(real(records))
        return (data[i:i + 3] for i in range(0, len(data), 3))

    monkeypatch.setattr(publish, "evidence_chunks", in_threes)
    leaky = _evidence("h-9", note=f"echoed {CLIENT_SECRET} back")
    with pytest.raises(evidence_pack.PackError, match="would leak into evidence/evidence.jsonl"):
        build(dataclasses.replace(case, records=[*case.records, leaky]), tmp_path / "out",
              secrets=(CLIENT_SECRET,))
    assert not (tmp_path / "out").exists()


def test_a_secret_in_a_written_chunk_is_found_by_the_stream_scan(tmp_path):
    scan = Redactor(["short-secret-1", CLIENT_SECRET]).scan()
    secret = CLIENT_SECRET.encode()
    chunks = [b"head ", secret[:1], secret[1:5], b"", secret[5:], b" tail"]
    write_stream(chunks, tmp_path / "f.bin", scan=scan)
    assert scan.found() == Redactor([CLIENT_SECRET]).leaks(secret)
    clean = Redactor([CLIENT_SECRET]).scan()
    write_stream([secret[:-1], b"x", secret[-1:]], tmp_path / "g.bin", scan=clean)
    assert clean.found() == []


def test_the_record_files_are_not_read_back_for_the_leak_scan(case, tmp_path, monkeypatch):
    """With secrets to look for, the files scanned as written are not read again; the other
    files of the pack are (raw pages, README, run.json...)."""
    read: list[str] = []

    def recording(path, *args):
        read.append(path.name)
        return file_chunks(path, *args)

    monkeypatch.setattr(evidence_pack, "file_chunks", recording)
    build(case, tmp_path / "out", secrets=(CLIENT_SECRET,))
    assert "run.json" in read and "README.md" in read
    assert not {"evidence.jsonl", "results.json", "report.html"} & set(read)


def test_the_zip_streams_members_and_uses_zip64_when_large(case, tmp_path, monkeypatch):
    pack = build(case, tmp_path / "out")
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)  # members over 1000 bytes: ZIP64
    target = tmp_path / "big.zip"
    evidence_pack.zip_pack(pack, target, AS_OF)
    with zipfile.ZipFile(target) as zf:
        member = zf.getinfo("evidence-pack/evidence/evidence.jsonl")
        assert member.file_size > 1000
        assert b"\x01\x00" in member.extra[:2]  # the ZIP64 extra field (header id 0x0001)
        assert zf.read(member) == (pack / "evidence/evidence.jsonl").read_bytes()
        assert zf.testzip() is None
    monkeypatch.undo()
    assert verify(target).ok


@pytest.mark.parametrize("zip64_limit", [None, 1000])
def test_the_manifest_holds_the_digests_taken_while_streaming(case, tmp_path, monkeypatch,
                                                              zip64_limit):
    """evidence.jsonl's digest is the zip thread's (as it read the file), or, when the file
    needs ZIP64 and is zipped again, taken from the file."""
    if zip64_limit is not None:
        monkeypatch.setattr(zipfile, "ZIP64_LIMIT", zip64_limit)
    pack = build(case, tmp_path / "out")
    manifest = json.loads((pack / "manifest.json").read_text())["files"]
    for rel, top in (("evidence/evidence.jsonl", "evidence.jsonl"),
                     ("results/results.json", "results.json")):
        data = (pack / rel).read_bytes()
        assert data == (tmp_path / "out" / top).read_bytes()
        assert manifest[rel] == hashlib.sha256(data).hexdigest()


def test_an_observed_at_with_an_offset_is_written_in_utc():
    """msgspec would keep the offset: the record goes to the old writer, which writes ...Z."""
    e = dataclasses.replace(_evidence("h-1"), observed_at=datetime(2026, 11, 22, 7, tzinfo=PARIS))
    line = b"".join(evidence_chunks([e]))
    assert line == (dumps(e) + "\n").encode("utf-8")
    assert b'"observed_at": "2026-11-22T06:00:00Z"' in line


def test_stamps_keep_utc(tmp_path):
    e = _evidence("h-1", patch_assessed_at=datetime(2026, 11, 20, tzinfo=UTC))
    line = b"".join(evidence_chunks([e]))
    assert b'"patch_assessed_at":"2026-11-20T00:00:00Z"' in line
    assert b'"observed_at":"2026-11-22T06:00:00Z"' in line

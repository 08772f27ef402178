"""The pack's zip: its first member zipped in a thread while the pack is built."""

from __future__ import annotations

import hashlib
import zipfile

import pytest
from report_case import AS_OF

from clausewatch.reports import pack_zip, streams


def _pack(tmp_path):
    pack = tmp_path / "pack"
    (pack / "evidence").mkdir(parents=True)
    (pack / "evidence" / "evidence.jsonl").write_bytes(b'{"a":1}\n' * 200_000)
    (pack / "README.md").write_text("read me\n")
    (pack / "z.json").write_text("{}\n")
    return pack


def test_started_early_gives_the_bytes_of_a_zip_made_afterwards(tmp_path):
    pack = _pack(tmp_path)
    early = pack_zip.PackZip(pack, tmp_path / "early.zip", AS_OF, prefix="p",
                             first=["evidence/evidence.jsonl"])
    early.start()
    (pack / "late.txt").write_text("written while the first member was zipped\n")
    early.finish()
    pack_zip.write(pack, tmp_path / "after.zip", AS_OF, prefix="p",
                   first=["evidence/evidence.jsonl"])
    assert (tmp_path / "early.zip").read_bytes() == (tmp_path / "after.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "early.zip") as zf:
        assert zf.namelist() == ["p/evidence/evidence.jsonl", "p/README.md", "p/late.txt",
                                 "p/z.json"]
        assert zf.read("p/evidence/evidence.jsonl") == b'{"a":1}\n' * 200_000


@pytest.mark.parametrize("limit", [None, 1000])
def test_zipped_while_written_gives_the_bytes_of_a_zip_made_afterwards(tmp_path, monkeypatch,
                                                                       limit):
    """The first member read as its file grows, in blocks that do not fall where the writes
    do: the zip is byte for byte the one made from the finished folder, also when the file
    turns out to need ZIP64 (zipped again from the file)."""
    monkeypatch.setattr(pack_zip, "BLOCK", 1 << 12)
    monkeypatch.setattr(streams, "BLOCK", 1 << 12)
    if limit is not None:
        monkeypatch.setattr(zipfile, "ZIP64_LIMIT", limit)
    pack = _pack(tmp_path)
    data = (pack / "evidence" / "evidence.jsonl").read_bytes()
    (pack / "evidence" / "evidence.jsonl").unlink()
    early = pack_zip.PackZip(pack, tmp_path / "early.zip", AS_OF, prefix="p",
                             first=["evidence/evidence.jsonl"])
    early.start(growing=tmp_path / "growing.jsonl")
    cuts = range(0, len(data), 3001)
    streams.write_stream((data[i:i + 3001] for i in cuts), tmp_path / "growing.jsonl",
                         grown=early.grown)
    streams.link_or_copy(tmp_path / "growing.jsonl", pack / "evidence" / "evidence.jsonl")
    followed = early.followed_sha256()  # taken by the thread as it read the file
    assert followed == (hashlib.sha256(data).hexdigest() if limit is None else None)
    early.finish()
    pack_zip.write(pack, tmp_path / "after.zip", AS_OF, prefix="p",
                   first=["evidence/evidence.jsonl"])
    assert (tmp_path / "early.zip").read_bytes() == (tmp_path / "after.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "early.zip") as zf:
        assert zf.read("p/evidence/evidence.jsonl") == data
        assert (b"\x01\x00" in zf.getinfo("p/evidence/evidence.jsonl").extra[:2]) \
            == (limit is not None)


def test_abort_stops_a_thread_waiting_for_a_growing_file(tmp_path):
    z = pack_zip.PackZip(_pack(tmp_path), tmp_path / "out.zip", AS_OF, prefix="p",
                         first=["evidence/evidence.jsonl"])
    z.start(growing=tmp_path / "never-written.jsonl")
    z.grown(10, False)  # less than a block: the thread waits for more
    z.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_a_failure_in_the_thread_is_raised_and_leaves_no_zip(tmp_path):
    pack = _pack(tmp_path)
    target = tmp_path / "out.zip"
    z = pack_zip.PackZip(pack, target, AS_OF, prefix="p", first=["evidence/missing.jsonl"])
    z.start()
    with pytest.raises(FileNotFoundError):
        z.finish()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_abort_waits_for_the_thread_and_removes_the_temporary_zip(tmp_path):
    pack = _pack(tmp_path)
    z = pack_zip.PackZip(pack, tmp_path / "out.zip", AS_OF, prefix="p",
                         first=["evidence/evidence.jsonl"])
    z.start()
    z.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_run_json_summary_counts_records_kinds_errors_and_origins():
    from clausewatch.core.evidence import CollectionError, Evidence
    from clausewatch.reports.evidence_pack import evidence_summary

    def rec(source, kind, origin, n):
        facts = {"asset_kind": "server"} if kind == "asset" else {}
        return Evidence(id=f"{source}-{kind}-{n}", kind=kind, source=source, subject=f"s{n}",
                        observed_at=AS_OF, facts=facts, origin=origin)

    records = [rec("rmm", "asset", "rmm/b", 1), rec("rmm", "asset", "rmm/a", 2),
               rec("rmm", "asset", "", 3), rec("aws", "asset", "aws/1", 4),
               CollectionError(source="rmm", origin="", kinds=("patch",), message="down"),
               CollectionError(source="veeam", origin="veeam/x", kinds=("backup_job",),
                               message="401")]
    assert evidence_summary(records) == {
        "aws": {"records": 1, "kinds": {"asset": 1}, "origins": ["aws/1"], "errors": 0},
        "rmm": {"records": 3, "kinds": {"asset": 3}, "origins": ["", "rmm/a", "rmm/b"],
                "errors": 1},
        "veeam": {"records": 0, "kinds": {}, "origins": ["veeam/x"], "errors": 1},
    }

"""``clausewatch attest``: the record and its report's hash; bad input exits 2, writes nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from attest_helpers import attest, fix_clock, report

from clausewatch.cli import main
from clausewatch.collectors.attestations import store as att_store


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    fix_clock(monkeypatch)


def test_attest_records_the_report_hash_size_and_a_verbatim_copy(tmp_path: Path, capsys):
    pdf = report(tmp_path)
    store = tmp_path / "store"
    code = attest(store, "si-morel", "2026-11-14", pdf, "--timezone", "Europe/Paris",
                  "--exercise", "dr_exercise", "--duration", "3h20m", "--name", "SI Morel",
                  "--reference", "PV-PRA-2026-01")
    assert code == 0
    (line,) = (store / att_store.FILE).read_text().splitlines()
    doc = json.loads(line)
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert doc["report"]["sha256"] == digest
    assert doc["report"]["size"] == len(pdf.read_bytes())
    assert doc["completed_at"] == "2026-11-13T23:00:00Z"  # midnight in Paris
    assert doc["duration_minutes"] == 200
    assert doc["outcome"] == "success" and doc["exercise"] == "dr_exercise"
    assert doc["attested_by"] == {"name": "C. Morel", "role": "DSI"}
    copy = store / doc["report"]["path"]
    assert copy.read_bytes() == pdf.read_bytes()
    assert digest in capsys.readouterr().out
    # read back as the source reads it
    ((n, rec, system),) = list(att_store.read(store))
    assert isinstance(rec, att_store.Attestation) and rec.report_sha256 == digest
    assert (n, system) == (1, "si-morel")


def test_a_second_attestation_is_appended_and_a_duplicate_refused(tmp_path: Path, capsys):
    store = tmp_path / "store"
    assert attest(store, "si-morel", "2026-11-14T16:30:00+01:00", report(tmp_path)) == 0
    assert attest(store, "si-lyon", "2026-11-15", report(tmp_path, "pv2.pdf")) == 0
    before = (store / att_store.FILE).read_bytes()
    assert attest(store, "si-morel", "2026-11-14T16:30:00+01:00", report(tmp_path)) == 2
    assert "already recorded" in capsys.readouterr().err
    assert (store / att_store.FILE).read_bytes() == before
    assert len(before.splitlines()) == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "2026-02-30"], "--date: '2026-02-30' is not a date"),
    (["--date", "2026-11-14T10:00:00"], "has no UTC offset"),
    (["--date", "2027-01-01"], "is in the future"),
    (["--outcome", "ok"], "--outcome: 'ok' is not one of success, failure, partial"),
    (["--report", "missing.pdf"], "missing.pdf: no such file"),
    (["--duration", "soon"], "--duration: 'soon' is not a duration"),
    (["--exercise", "fire_drill"], "--exercise: 'fire_drill' is not one of"),
    (["--timezone", "Mars/Olympus"], "is not an IANA time zone"),
    (["--system", "   "], "--system: must not be empty"),
])
def test_bad_input_exits_2_naming_it_and_writes_nothing(tmp_path: Path, capsys, args, message):
    pdf = report(tmp_path)
    base = {"--store": str(tmp_path / "store"), "--system": "si-morel", "--date": "2026-11-14",
            "--outcome": "success", "--by": "C. Morel", "--role": "DSI", "--report": str(pdf)}
    for key, value in zip(args[::2], args[1::2], strict=True):
        base[key] = value if key != "--report" else str(tmp_path / value)
    argv = ["attest", *[x for kv in base.items() for x in kv]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "nothing recorded" in err
    assert not (tmp_path / "store").exists()


def test_every_problem_is_reported_at_once(tmp_path: Path, capsys):
    code = main(["attest", "--store", str(tmp_path / "s"), "--system", "x", "--date", "soon",
                 "--outcome", "won", "--by", "", "--role", "DSI",
                 "--report", str(tmp_path / "none.pdf")])
    assert code == 2
    err = capsys.readouterr().err
    for part in ("--date:", "--outcome:", "--by: must not be empty", "--report:"):
        assert part in err


def test_an_empty_report_is_refused(tmp_path: Path, capsys):
    assert attest(tmp_path / "s", "si", "2026-11-14", report(tmp_path, body=b"")) == 2
    assert "the file is empty" in capsys.readouterr().err


def test_the_store_can_be_named_by_the_sources_file(tmp_path: Path):
    (tmp_path / "sources.yaml").write_text(
        "version: 1\nsources:\n  attestations:\n    - {name: pra, store: att}\n"
        "    - {name: other, store: other}\n", encoding="utf-8")
    pdf = report(tmp_path)
    argv = ["attest", "--sources", str(tmp_path / "sources.yaml"), "--system", "si",
            "--date", "2026-11-14", "--outcome", "partial", "--by", "A", "--role", "RSSI",
            "--report", str(pdf)]
    assert main(argv) == 2  # two entries: --source must pick one
    assert main([*argv, "--source", "pra"]) == 0
    assert (tmp_path / "att" / att_store.FILE).is_file()
    assert not (tmp_path / "other").exists()


def test_an_invalid_sources_file_is_a_located_error(tmp_path: Path, capsys):
    (tmp_path / "sources.yaml").write_text(
        "version: 1\nsources:\n  attestations:\n    - {name: pra}\n", encoding="utf-8")
    code = main(["attest", "--sources", str(tmp_path / "sources.yaml"), "--system", "si",
                 "--date", "2026-11-14", "--outcome", "success", "--by", "A", "--role", "R",
                 "--report", str(report(tmp_path))])
    assert code == 2
    assert "sources.yaml:4:" in capsys.readouterr().err

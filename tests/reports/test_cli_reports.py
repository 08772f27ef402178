"""The command line produces every report and a verifiable pack; --lang, --signing-key, chaining."""

from __future__ import annotations

import json
import shutil

from report_packs import keypair

from clausewatch.cli import main
from clausewatch.collectors.jsonl import write_evidence
from clausewatch.reports.formats import FORMATS
from clausewatch.reports.verify import verify

AS_OF = "2026-11-22T06:00:00Z"


def test_run_demo_writes_every_report_and_a_pack_that_verifies(demo_run):
    out = demo_run.out
    assert demo_run.code == 3
    for name in (*FORMATS.file_names(), "results.json", "evidence.jsonl", "evidence-pack.zip"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    assert '<html lang="fr">' in html and "Non conforme" in html  # the French contract
    result = verify(out / "evidence-pack")
    assert result.ok, "\n".join(result.lines())
    run = json.loads((out / "evidence-pack" / "run.json").read_text())
    assert run["sources"][0]["endpoint"].startswith("synthetic estate")


def test_lang_signing_key_from_the_environment_and_automatic_chaining(tmp_path, monkeypatch):
    _key, private, public = keypair(tmp_path)
    monkeypatch.setenv("CLAUSEWATCH_SIGNING_KEY", str(private))
    out = tmp_path / "demo"
    assert main(["run", "--demo", "--as-of", AS_OF, "--out", str(out), "--lang", "en"]) == 3
    assert '<html lang="en">' in (out / "report.html").read_text()
    shutil.copytree(out / "evidence-pack", tmp_path / "previous-pack")
    later = "2026-11-23T06:00:00Z"
    assert main(["run", "--demo", "--as-of", later, "--out", str(out)]) == 3
    chain = json.loads((out / "evidence-pack" / "chain.json").read_text())
    assert chain["sequence"] == 2
    result = verify(out / "evidence-pack", public, tmp_path / "previous-pack")
    assert result.ok, "\n".join(result.lines())


def test_a_bad_signing_key_is_invalid_input_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "key.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    out = tmp_path / "demo"
    argv = ["run", "--demo", "--as-of", AS_OF, "--out", str(out), "--signing-key", str(bad)]
    assert main(argv) == 2
    assert "key.pem" in capsys.readouterr().err and not out.exists()


def test_evaluate_out_publishes_reports_and_pack(tmp_path):
    from report_case import GOLDEN, case_records

    evidence = tmp_path / "evidence.jsonl"
    with open(evidence, "w", encoding="utf-8") as handle:
        write_evidence(case_records(), handle)
    out = tmp_path / "out"
    argv = ["evaluate", "--policy", str(GOLDEN / "contract.yaml"), "--evidence", str(evidence),
            "--as-of", AS_OF, "--out", str(out)]  # fmt: skip
    assert main(argv) == 3
    assert (out / "junit.xml").is_file() and (out / "evidence-pack" / "manifest.json").is_file()
    assert verify(out / "evidence-pack").ok


def test_evaluate_refuses_to_replace_a_foreign_folder(tmp_path, capsys):
    from report_case import GOLDEN, case_records

    evidence = tmp_path / "evidence.jsonl"
    with open(evidence, "w", encoding="utf-8") as handle:
        write_evidence(case_records(), handle)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    argv = ["evaluate", "--policy", str(GOLDEN / "contract.yaml"), "--evidence", str(evidence),
            "--as-of", AS_OF, "--out", str(foreign)]  # fmt: skip
    assert main(argv) == 2
    assert "holds files ClauseWatch did not write (thesis.docx)" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["thesis.docx"]


def test_an_earlier_output_holding_the_evidence_file_is_not_replaced(tmp_path, capsys,
                                                                     demo_run):
    """The benchmark once lost its input: --out pointed at the folder holding the evidence."""
    from report_case import GOLDEN, case_records

    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("{}")  # looks like an earlier run's folder...
    evidence = out / "estate.jsonl"  # ...but also holds the input
    with open(evidence, "w", encoding="utf-8") as handle:
        write_evidence(case_records(), handle)
    argv = ["evaluate", "--policy", str(GOLDEN / "contract.yaml"), "--evidence", str(evidence),
            "--as-of", AS_OF, "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    assert "(estate.jsonl)" in capsys.readouterr().err
    assert evidence.is_file()

    assert main(["run", "--demo", "--as-of", AS_OF, "--out", str(out)]) == 2
    # an earlier demo's own folder (a copy of the session's, same as-of) is replaced
    assert demo_run.code == 3 and AS_OF == "2026-11-22T06:00:00Z"
    shutil.copytree(demo_run.out, tmp_path / "fresh")
    assert main(["run", "--demo", "--as-of", AS_OF, "--out", str(tmp_path / "fresh")]) == 3

"""The command line end to end: exit codes, outputs, messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from builders import FIXTURES, REPO

from clausewatch.checks import CHECKS
from clausewatch.cli import main
from clausewatch.reports.results_json import results_schema

CONTRACT = """\
contract:
  id: k
  title: Test MSA
  provider: MSP
  customer: ACME
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
  - id: patch-prod
    clause: "MSA §7.2"
    title: Critical patches within 7 days
    check: patch_lag
    responsible: provider
    params: {deadlines_days: {critical: 7}}
    target: 100%
"""
AS_OF = "2026-11-22T06:00:00Z"


def asset_line(subject: str, assessed: str = "2026-11-22T05:00:00Z") -> str:
    return json.dumps({"kind": "asset", "source": "rmm", "subject": subject,
                       "observed_at": "2026-11-22T05:00:00Z",
                       "facts": {"asset_kind": "server", "patch_assessed_at": assessed}})


def patch_line(subject: str, released: str) -> str:
    return json.dumps({"kind": "patch", "source": "rmm", "subject": subject,
                       "observed_at": "2026-11-22T05:00:00Z",
                       "facts": {"update_id": "KB1", "severity": "critical", "state": "missing",
                                 "released_at": released}})


@pytest.fixture
def files(tmp_path: Path):
    policy = tmp_path / "contract.yaml"
    policy.write_text(CONTRACT)

    def evidence(*lines: str) -> Path:
        path = tmp_path / "e.jsonl"
        path.write_text("\n".join(lines) + "\n")
        return path

    return policy, evidence


def evaluate(policy: Path, evidence: Path, *extra: str) -> int:
    return main(["evaluate", "--policy", str(policy), "--evidence", str(evidence),
                 "--as-of", AS_OF, *extra])


def test_exit_codes_follow_the_verdicts(files, tmp_path):
    policy, evidence = files
    assert evaluate(policy, evidence(asset_line("s1"))) == 0
    late = patch_line("s1", "2026-11-01T00:00:00Z")
    assert evaluate(policy, evidence(asset_line("s1"), late)) == 3
    stale = asset_line("s2", "2026-10-01T00:00:00Z")
    assert evaluate(policy, evidence(asset_line("s1"), stale)) == 4
    assert evaluate(policy, evidence()) == 4  # nothing at all is never compliant


def test_results_json_is_written_and_valid(files, tmp_path, capsys):
    policy, evidence = files
    out = tmp_path / "out"
    code = evaluate(policy, evidence(asset_line("s1"), patch_line("s1", "2026-11-01T00:00:00Z")),
                    "--out", str(out), "--json")
    assert code == 3
    doc = json.loads((out / "results.json").read_text())
    jsonschema.Draft202012Validator(results_schema(),
                                    format_checker=jsonschema.FormatChecker()).validate(doc)
    assert json.loads(capsys.readouterr().out)["commitments"] == doc["commitments"]
    (c,) = doc["commitments"]
    assert (c["clause"], c["status"], c["measured"], c["target"]) == ("MSA §7.2", "breached",
                                                                       0.0, 1.0)
    (r,) = c["results"]
    assert r["subject"] == "s1" and r["due"] == "2026-11-08T00:00:00Z"
    assert r["evidence_ids"] == ["rmm:asset:s1", "rmm:patch:s1:KB1"]
    assert doc["as_of"] == AS_OF and doc["exit_code"] == 3


def test_invalid_inputs_exit_2_with_located_messages(files, tmp_path, capsys):
    policy, evidence = files
    assert main(["validate", str(FIXTURES / "policies/bad.yaml")]) == 2
    err = capsys.readouterr().err.splitlines()
    bad = str(FIXTURES / "policies/bad.yaml")
    assert len(err) == 12 and all(line.startswith(bad + ":") for line in err)
    assert evaluate(policy, evidence("{oops")) == 2
    assert "e.jsonl:1:1: not valid JSON" in capsys.readouterr().err
    assert main(["evaluate", "--policy", str(policy), "--evidence", str(evidence()),
                 "--as-of", "2026-11-22T06:00:00"]) == 2
    assert "needs a UTC offset" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate"])
    assert exit_info.value.code == 2


def test_validate_ok(capsys):
    path = REPO / "policies/examples/infogerance-fr.yaml"
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok (8 commitment(s), 2 waiver(s))\n"


def test_internal_error_exits_1(files, monkeypatch, capsys):
    policy, evidence = files

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("clausewatch.pipeline.run.evaluate", boom)
    assert evaluate(policy, evidence(asset_line("s1"))) == 1
    assert "RuntimeError: bug" in capsys.readouterr().err


def test_failed_run_leaves_previous_output_untouched(files, tmp_path, monkeypatch, demo_run):
    out = tmp_path / "demo"
    # the previous output: a copy of the session's demo (tests/conftest.py), as of AS_OF
    assert demo_run.code == 3 and AS_OF == "2026-11-22T06:00:00Z"
    shutil.copytree(demo_run.out, out)
    before = (out / "results.json").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("clausewatch.pipeline.run.evaluate", boom)
    assert main(["run", "--demo", "--as-of", "2026-11-23T06:00:00Z", "--out", str(out)]) == 1
    assert (out / "results.json").read_bytes() == before
    # no staging or old folder left; the output folder's lock file stays (empty, unlocked)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo.lock", "contract.yaml", "demo"]


def test_python_dash_m_and_checks_listing():
    done = subprocess.run([sys.executable, "-m", "clausewatch", "checks"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    for name in CHECKS.names():
        assert name in done.stdout


def test_schema_command_prints_the_evidence_schema(capsys):
    assert main(["schema", "evidence"]) == 0
    assert json.loads(capsys.readouterr().out)["title"].startswith("ClauseWatch evidence")


def test_nightly_run_takes_history_and_alerts_from_the_sources_file(tmp_path):
    import argparse

    from clausewatch.commands.common import nightly_for
    from clausewatch.pipeline.sources_file import load_sources

    sources = tmp_path / "conf" / "sources.yaml"
    sources.parent.mkdir()
    sources.write_text("version: 1\nhistory: state/history.sqlite\nalerts:\n  channels:\n"
                       "    - {name: box, type: outbox, path: outbox.jsonl}\n"
                       "sources:\n  aws:\n    - name: a\n      regions: [eu-west-3]\n")
    policy = tmp_path / "contract.yaml"
    policy.write_text(CONTRACT)
    args = argparse.Namespace(history=None, alerts=None, policy=policy)
    nightly = nightly_for(args, load_sources(sources))
    assert nightly.history == sources.parent / "state/history.sqlite"
    assert nightly.alerts is not None and nightly.alerts.channels[0].name == "box"
    assert nightly_for(args).history is None  # evaluate records only when asked


def test_history_inside_the_output_folder_is_refused(files, tmp_path, capsys):
    policy, evidence = files
    out = tmp_path / "out"
    code = evaluate(policy, evidence(asset_line("s1")), "--out", str(out), "--history",
                    str(out / "history.sqlite"))
    assert code == 2
    assert "inside the output folder" in capsys.readouterr().err
    assert not out.exists()

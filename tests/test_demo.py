"""`clausewatch run --demo`: deterministic, realistic, and exercising every status."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from clausewatch.checks import CHECKS
from clausewatch.cli import main
from clausewatch.collectors.jsonl import read_evidence
from clausewatch.demo.estate import build_estate

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def test_estate_is_deterministic_and_sized_like_a_mid_size_company():
    a, b = build_estate(AS_OF), build_estate(AS_OF)
    assert a.evidence == b.evidence
    kinds = Counter(e.kind for e in a.evidence)
    sources = Counter(e.source for e in a.evidence if e.kind == "identity")
    assets = Counter(e.facts["asset_kind"] for e in a.evidence if e.kind == "asset")
    assert sum(sources.values()) >= 300 and set(sources) == {"entra", "aws.iam", "workspace"}
    assert assets["server"] >= 24 and assets["workstation"] >= 300
    assert kinds["backup"] > 100 and kinds["restore_test"] >= 3 and kinds["patch"] > 2000


def test_demo_run_writes_outputs_and_covers_every_status(demo_run):
    out = demo_run.out
    assert demo_run.code == 3
    assert "Sorties de la démo écrites dans" in demo_run.stdout  # French contract
    doc = json.loads((out / "results.json").read_text())
    verdicts = {c["id"]: c["status"] for c in doc["commitments"]}
    assert set(verdicts.values()) == {"compliant", "at_risk", "breached", "waived", "no_evidence"}
    for check in CHECKS.names():  # the demo exercises every check
        statuses = {r["status"] for c in doc["commitments"] if c["check"] == check
                    for r in c["results"]}
        assert {"compliant", "breached"} <= statuses, check
    subject_statuses = {r["status"] for c in doc["commitments"] for r in c["results"]}
    assert subject_statuses == {"compliant", "at_risk", "breached", "waived", "no_evidence"}
    assert [w["status"] for w in doc["waivers"]] == ["in_force", "expired"]
    assert doc["partial"] is True and len(doc["collection_errors"]) == 1
    batch = read_evidence(out / "evidence.jsonl")  # the pack's evidence re-reads cleanly
    assert len(batch.evidence) == doc["evidence_count"]


def test_demo_waivers_stay_relative_to_today(tmp_path):
    out = tmp_path / "later"
    assert main(["run", "--demo", "--as-of", "2027-06-01T06:00:00Z", "--out", str(out)]) == 3
    doc = json.loads((out / "results.json").read_text())
    assert [w["status"] for w in doc["waivers"]] == ["in_force", "expired"]

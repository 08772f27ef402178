"""``clausewatch run`` over a Veeam server (tests/veeam_fake.py) and an attestation store: the
verdicts subject by subject, "attested" in the reports, and the evidence pack carrying the
signed report, which ``verify`` re-hashes (altered: exit 5)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from attest_helpers import AS_OF, attest, fix_clock, report
from veeam_fake import PASSWORD, USER, FakeVeeam, load_estate, start

from clausewatch.cli import main

CONTRACT = """\
contract:
  id: e2e-attest
  title: Infogérance sur site - restaurations et PRA
  provider: Infogérance Atlantique
  customer: Transports Morel
  effective_from: "2026-01-01"
  timezone: Europe/Paris
  language: fr
commitments:
  - id: surebackup
    clause: "PAS §5.3"
    title: Test SureBackup trimestriel (automatisé)
    check: restore_test
    responsible: provider
    scope:
      sources: [veeam]
      asset_kinds: [vm]
      tags: {veeam_job: "Backup Job - Domain Controllers"}
    evidence: automated
    params: {period_days: 92}
    target: 100%
  - id: restore-any
    clause: "PAS §5.4"
    title: Test de restauration trimestriel, automatisé ou attesté
    check: restore_test
    responsible: provider
    scope:
      sources: [veeam]
      asset_kinds: [vm]
      tags: {veeam_job: "Backup Job - Domain Controllers"}
    params: {period_days: 92}
    target: 100%
  - id: pra
    clause: "PAS §6.1"
    title: Exercice de PRA annuel, procès-verbal signé
    check: restore_test
    responsible: shared
    scope: {sources: [attestations], asset_kinds: [system]}
    evidence: attested
    params: {period_days: 366, max_duration_minutes: 480}
    target: 100%
"""
NS01 = "veeam:vbr01:ns01"


def sources(url: str) -> str:
    return f"""\
version: 1
sources:
  veeam:
    - name: vbr01
      url: {url}
      username: '{USER}'
      password_env: VBR01_PASSWORD
      server_timezone: Europe/Prague
  attestations:
    - name: pra
      store: store
      systems:
        - {{subject: si-morel, name: "SI Morel"}}
        - {{subject: si-nantes, name: "Site de Nantes"}}
"""


@pytest.fixture
def vbr01():
    server = start(load_estate(FakeVeeam()))
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    fix_clock(monkeypatch)
    monkeypatch.setenv("VBR01_PASSWORD", PASSWORD)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_run_with_an_attestation_then_verify_the_pack(vbr01: str, tmp_path: Path):
    store = tmp_path / "store"
    pv = report(tmp_path, "PV-PRA-2026.pdf")
    assert attest(store, "si-morel", "2026-06-12", pv, "--timezone", "Europe/Paris",
                  "--exercise", "dr_exercise", "--duration", "6h30m") == 0
    assert attest(store, NS01, "2026-11-11", report(tmp_path, "PV-restore-ns01.pdf")) == 0
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(sources(vbr01), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", "--policy", str(tmp_path / "contract.yaml"),
                 "--sources", str(tmp_path / "sources.yaml"), "--as-of", AS_OF,
                 "--out", str(out)])
    assert code == 3

    doc = json.loads((out / "results.json").read_text())
    results = {c["id"]: {r["subject"]: r for r in c["results"]} for c in doc["commitments"]}
    status = {c: {s: r["status"] for s, r in rs.items()} for c, rs in results.items()}
    vm = "veeam:vbr01:"
    # SureBackup: dc01 30 days ago, dc02 85, ns01 95 (outside the period)
    assert status["surebackup"] == {f"{vm}dc01": "compliant", f"{vm}dc02": "compliant",
                                    NS01: "breached"}
    # the same VMs, attestations accepted: ns01's attested restore 10 days ago counts
    assert status["restore-any"] == {f"{vm}dc01": "compliant", f"{vm}dc02": "compliant",
                                     NS01: "compliant"}
    assert "attested by C. Morel (DSI)" in results["restore-any"][NS01]["reason"]
    assert results["restore-any"][NS01]["measured"]["attested"] is True
    assert "attested" not in results["restore-any"][f"{vm}dc01"]["reason"]
    assert status["pra"] == {"si-morel": "compliant", "si-nantes": "breached"}
    assert "attested by C. Morel (DSI)" in results["pra"]["si-morel"]["reason"]

    # the reports say "attested" (the contract is French: "attesté")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<em class="attested">attesté</em>' in html
    assert "attesté" in (out / "summary.md").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text("utf-8"))))
    marked = {(r["commitment_id"], r["subject"]) for r in rows if r["attested"] == "attested"}
    assert marked == {("restore-any", NS01), ("pra", "si-morel")}

    # the pack carries the signed report byte for byte, named by the evidence record
    pack = out / "evidence-pack"
    records = [json.loads(x) for x in (pack / "evidence/evidence.jsonl").read_text().splitlines()]
    (pra,) = [r for r in records if r.get("subject") == "si-morel" and r["kind"] == "restore_test"]
    rel, _, digest = pra["raw_ref"].partition("#sha256=")
    assert rel.startswith("attachments/attestations/pra/")
    assert (pack / rel).read_bytes() == pv.read_bytes()
    assert digest == pra["facts"]["report_sha256"]
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["files"][rel] == digest
    assert "attachments/" in (pack / "README.md").read_text(encoding="utf-8")
    assert main(["verify", str(pack)]) == 0
    assert main(["verify", str(out / "evidence-pack.zip")]) == 0

    # an altered copy of the report fails verification (exit 5)
    altered = tmp_path / "altered"
    shutil.copytree(pack, altered)
    (altered / rel).write_bytes(b"%PDF forged")
    assert main(["verify", str(altered)]) == 5

    # ... even with the manifest re-hashed to match: the evidence record holds the digest
    import hashlib

    rehashed = json.loads((altered / "manifest.json").read_text())
    rehashed["files"][rel] = hashlib.sha256(b"%PDF forged").hexdigest()
    from clausewatch.reports import signing

    (altered / "manifest.json").write_text(signing.render(rehashed), encoding="utf-8")
    from clausewatch.reports.verify import verify

    result = verify(altered)
    notes = [n for c in result.checks for n in c.notes]
    assert result.exit_code == 5
    assert any("does not match the SHA-256 its record holds" in n for n in notes)


def test_a_report_altered_in_the_store_is_no_evidence_in_the_run(vbr01: str, tmp_path: Path):
    store = tmp_path / "store"
    assert attest(store, "si-morel", "2026-06-12", report(tmp_path), "--duration", "2h") == 0
    (report_file,) = (store / "reports").rglob("*.pdf")
    report_file.write_bytes(b"%PDF replaced after signature")
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(sources(vbr01), encoding="utf-8")
    out = tmp_path / "out"
    main(["run", "--policy", str(tmp_path / "contract.yaml"),
          "--sources", str(tmp_path / "sources.yaml"), "--as-of", AS_OF, "--out", str(out)])
    doc = json.loads((out / "results.json").read_text())
    (pra,) = [c for c in doc["commitments"] if c["id"] == "pra"]
    morel = next(r for r in pra["results"] if r["subject"] == "si-morel")
    assert morel["status"] == "no_evidence"
    assert "does not match its recorded SHA-256" in morel["reason"]
    assert not (out / "evidence-pack" / "attachments").exists()  # nothing untrusted is sealed
    assert main(["verify", str(out / "evidence-pack")]) == 0

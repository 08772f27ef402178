"""``clausewatch run --policy --sources`` against two local Graph emulators (two tenants)."""

from __future__ import annotations

import json
from pathlib import Path

from clausewatch.cli import main
from clausewatch.collectors.jsonl import read_evidence

FIXTURES = Path(__file__).parents[2] / "fixtures/m365"
CONTOSO = "11111111-1111-1111-1111-111111111111"
FABRIKAM = "22222222-2222-2222-2222-222222222222"
PC_0142 = "705c034c-034c-705c-4c03-5c704c035c70"
PC_0200 = "815d145d-145d-815d-5d14-6d815d146d81"
PC_OLD = "925e256e-256e-925e-6e25-7e925e257e92"
PC_LAB = "b4704780-4780-b470-8047-90b470479fb4"
PC_NEW = "c5815891-5891-c581-9158-a1c581589ac5"


def test_run_two_tenants_verdicts_subject_by_subject(emulator, credential, tmp_path: Path):
    contoso, fabrikam = emulator("contoso"), emulator("fabrikam")
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"""version: 1
sources:
  m365:
    - name: contoso
      tenant_id: {CONTOSO}
      client_id: 8a2b6c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d
      client_secret_env: CONTOSO_GRAPH_SECRET
      graph_host: {contoso.base}
      login_host: {contoso.base}
    - name: fabrikam
      tenant_id: {FABRIKAM}
      client_id: 1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e
      client_secret_env: FABRIKAM_GRAPH_SECRET
      graph_host: {fabrikam.base}
      login_host: {fabrikam.base}
      collect: [entra, backup]
      classify_mailboxes: false
""")
    out = tmp_path / "out"
    code = main(["run", "--policy", str(FIXTURES / "contract.yaml"), "--sources", str(sources),
                 "--as-of", "2025-01-20T06:00:00Z", "--out", str(out)])
    assert code == 3  # a commitment is breached

    doc = json.loads((out / "results.json").read_text())
    status = {c["id"]: {r["subject"]: r["status"] for r in c["results"]}
              for c in doc["commitments"]}
    verdict = {c["id"]: c["status"] for c in doc["commitments"]}

    assert status["MFA-USERS"] == {
        "alice@contoso.com": "compliant",  # CA001
        "bob@contoso.com": "breached",  # excluded from CA001; CA002 report-only; CA004 OR
        "carol@contoso.com": "breached",  # excluded through a nested group
        "frank@contoso.com": "compliant",  # CA003 by role, despite the CA001 group exclusion
        "gina@contoso.com": "compliant",
        "henry@fabrikam.fr": "compliant",  # security defaults
        "ivy@fabrikam.fr": "compliant",
    }  # guest, disabled, shared mailbox, room and break-glass accounts are out of scope
    assert status["MFA-ADMINS"] == {"frank@contoso.com": "compliant",
                                    "gina@contoso.com": "compliant"}
    assert verdict["MFA-ADMINS"] == "compliant"
    assert status["MFA-REGISTERED"]["ivy@fabrikam.fr"] == "breached"  # per-user methods
    assert status["MFA-REGISTERED"]["henry@fabrikam.fr"] == "compliant"
    assert status["MFA-REGISTERED"]["carol@contoso.com"] == "breached"

    assert status["PATCH-WORKSTATIONS"] == {
        PC_0142: "breached",  # two security updates behind
        PC_0200: "compliant",
        PC_OLD: "no_evidence",  # last sync 32 days ago: stale
        PC_LAB: "no_evidence",  # build unknown to the catalog
        PC_NEW: "no_evidence",  # never synced
    }  # the iPhone is a mobile asset, not a workstation

    backup = status["BACKUP-M365"]
    assert backup["exchange:alice@contoso.com"] == "compliant"
    assert backup["exchange:bob@contoso.com"] == "breached"  # no restore point
    assert backup["sharepoint:https://contoso.sharepoint.com/sites/finance"] == "breached"
    # fabrikam has no Microsoft 365 Backup: loud, never silent
    (gap,) = [s for s in backup if s.startswith(f"error:m365.backup:m365backup/{FABRIKAM}:")]
    assert backup[gap] == "no_evidence"
    assert status["RESTORE-M365"][f"m365backup:{CONTOSO}:exchange"] == "compliant"
    assert status["RESTORE-M365"][f"m365backup:{CONTOSO}:sharepoint"] == "breached"

    # every result traces to evidence whose raw page is in the output folder
    lines = [json.loads(x) for x in (out / "evidence.jsonl").read_text().splitlines()]
    refs = {x["raw_ref"].split("#")[0] for x in lines if x.get("raw_ref")}
    assert refs and all((out / ref).is_file() for ref in refs)
    bob = next(x for x in lines if x.get("subject") == "bob@contoso.com")
    assert bob["origin"] == f"entra/{CONTOSO}"
    # the records validate against the interchange schema and read back whole
    batch = read_evidence(out / "evidence.jsonl")
    assert len(batch.evidence) == len(lines) - 1 and len(batch.errors) == 1
    # the fixed test token never reaches the outputs
    assert not any(credential.token in p.read_text() for p in out.rglob("*.json*"))

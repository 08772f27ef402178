"""``clausewatch run --policy --sources`` over two Defender tenants: morel (the fake estate of
tests/defender_fake.py) and dead (API unreachable). patch_lag on both clocks, subject by
subject."""

from __future__ import annotations

import json
from pathlib import Path

from defender_fake import (
    CLIENT,
    M_APP,
    M_DISC,
    M_LNX,
    M_OLD,
    M_WEB,
    M_WKS,
    SECRET,
    TENANT,
    subject,
)

from clausewatch.cli import main

COMMITMENT = """\
  - id: {id}
    clause: "PAS §4.{n}"
    title: Correctifs de sécurité des serveurs
    check: patch_lag
    responsible: provider
    scope: {scope}
    params: {params}
    warning_days: 2
    target: 100%
"""
SERVERS = "{sources: [defender], asset_kinds: [server]}"
DEADLINES = "deadlines_days: {critical: 7, high: 30}"


def contract() -> str:
    head = """\
contract:
  id: e2e-defender
  title: Infogérance - correctifs
  provider: Infogérance Atlantique
  customer: Transports Morel
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
"""
    rows = [("release", SERVERS, f"{{{DEADLINES}, clock: release}}"),
            ("detection", SERVERS, f"{{{DEADLINES}, clock: detection}}"),
            ("strict", SERVERS, f"{{{DEADLINES}, clock: release, release_fallback: no_evidence}}"),
            ("windows", "{sources: [defender], asset_kinds: [server, workstation], "
                        "facts: {os: windows}}", f"{{{DEADLINES}}}")]
    return head + "".join(COMMITMENT.format(id=i, n=n, scope=s, params=p)
                          for n, (i, s, p) in enumerate(rows, 1))


def sources(fake, dead_url: str) -> str:
    common = f"""tenant_id: {TENANT}
      client_id: {CLIENT}
      client_secret_env: MDE_SECRET
      login_host: {fake.base}
      msrc_url: {fake.base}/cvrf/v3.0/
      tls: {{ca_bundle: {fake.ca}}}"""
    return f"""\
version: 1
sources:
  defender:
    - name: morel
      api_host: {fake.base}
      {common}
      tags: {{customer: morel}}
      page_size: 2
      export_page_size: 3
    - name: dead
      api_host: {dead_url}
      {common}
      retry: {{attempts: 1}}
"""


DEAD = "error:defender:defender/dead:asset+patch:machines"  # the unreachable tenant


def test_run_judges_defender_machines_subject_by_subject(estate, dead_url, tmp_path: Path,
                                                         monkeypatch):
    fake = estate()
    monkeypatch.setenv("MDE_SECRET", SECRET)
    (tmp_path / "contract.yaml").write_text(contract(), encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(sources(fake, dead_url), encoding="utf-8")
    assert main(["validate", str(tmp_path / "sources.yaml")]) == 0
    out = tmp_path / "out"
    code = main(["run", "--policy", str(tmp_path / "contract.yaml"),
                 "--sources", str(tmp_path / "sources.yaml"),
                 "--as-of", "2026-11-21T06:00:00Z", "--out", str(out)])
    assert code == 3
    doc = json.loads((out / "results.json").read_text())
    status = {c["id"]: {r["subject"]: r["status"] for r in c["results"]}
              for c in doc["commitments"]}
    reason = {c["id"]: {r["subject"]: r["reason"] for r in c["results"]}
              for c in doc["commitments"]}
    web, app, lnx, old, disc, wks = (subject(m) for m in (M_WEB, M_APP, M_LNX, M_OLD, M_DISC,
                                                          M_WKS))
    assert status["release"] == {
        web: "breached",  # KB5071001 released 2026-11-10: 7 days are past
        app: "compliant",  # no release date: falls back to detection, 2 days ago
        lnx: "breached",  # openssl, no KB: detected 51 days ago, high = 30 days
        old: "no_evidence",  # inactive, last seen 20 days ago
        disc: "no_evidence",  # not onboarded
        DEAD: "no_evidence",  # the unreachable tenant's subjects, and only them
    }
    assert "KB5071001 (critical)" in reason["release"][web]
    assert "patch data is 20.0 days old" in reason["release"][old]
    assert "not onboarded to Defender for Endpoint" in reason["release"][disc]
    assert "cannot connect to 127.0.0.1" in reason["release"][DEAD]
    # detection clock: web01 first seen 2026-11-15 20:00 UTC, due 2026-11-22: at risk
    assert status["detection"][web] == "at_risk"
    assert status["detection"][lnx] == "breached"
    # release_fallback: no_evidence: a KB without a release date leaves app02 undecided
    assert status["strict"][app] == "no_evidence"
    assert "do not list KB5071999 as a vendor fix" in reason["strict"][app]
    assert status["strict"][lnx] == "no_evidence"
    assert status["strict"][web] == "breached"
    # facts: {os: windows}: the Linux server is out, the workstation in
    assert set(status["windows"]) == {web, app, old, disc, wks, DEAD}
    assert status["windows"][wks] == "compliant"

    lines = [json.loads(x) for x in (out / "evidence.jsonl").read_text().splitlines()]
    refs = {x["raw_ref"].split("#")[0] for x in lines if x.get("raw_ref")}
    assert refs and all((out / ref).is_file() for ref in refs)
    assert [e["origin"] for e in lines if e["kind"] == "collection_error"] == ["defender/dead"]
    assert main(["verify", str(out / "evidence-pack")]) == 0
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".html", ".md", ".csv"):
            text = path.read_text(encoding="utf-8")
            assert SECRET not in text and "eyJ0eXAi.mde-" not in text

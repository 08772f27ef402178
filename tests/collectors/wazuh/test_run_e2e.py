"""``clausewatch run`` with a patch_lag contract over three Wazuh servers: wazuh01 (4.14, the
vulnerability index), wazuh47 (4.7, the server API) and wazuh-dead (unreachable). Verdicts
subject by subject (the estate: tests/wazuh_fake.py)."""

from __future__ import annotations

import json
from pathlib import Path

from wazuh_fake import INDEXER_PASSWORD, INDEXER_USER, PASSWORD, USER, subject

from clausewatch.cli import main

CONTRACT = """\
contract:
  id: e2e-wazuh
  title: Infogérance sur site - correctifs
  provider: Infogérance Atlantique
  customer: Transports Morel
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
  - id: patch-servers
    clause: "PAS §6.1"
    title: Correctifs de sécurité des serveurs (critique 15 j, haute 30 j, moyenne 90 j)
    check: patch_lag
    responsible: provider
    scope: {sources: [wazuh], asset_kinds: [server]}
    params: {deadlines_days: {critical: 15, high: 30, medium: 90}, clock: release,
             freshness_days: 7}
    warning_days: 5
    target: 100%
  - id: patch-servers-detection
    clause: "PAS §6.1 bis"
    title: Les mêmes délais, comptés depuis la détection
    check: patch_lag
    responsible: provider
    scope: {sources: [wazuh], asset_kinds: [server]}
    params: {deadlines_days: {critical: 15, high: 30, medium: 90}, clock: detection,
             unrated_as: ignore}
    warning_days: 5
    target: 100%
  - id: patch-windows
    clause: "PAS §6.2"
    title: Correctifs des postes et serveurs Windows
    check: patch_lag
    responsible: provider
    scope: {sources: [wazuh], facts: {os_family: windows}}
    params: {deadlines_days: {critical: 15, high: 30}}
    warning_days: 5
    target: 100%
"""


def sources(wazuh01: str, indexer: str, wazuh47: str, dead: str) -> str:
    return f"""\
version: 1
sources:
  wazuh:
    - name: wazuh01
      url: {wazuh01}
      username: {USER}
      password_env: WAZUH01_PASSWORD
      vulnerabilities: auto
      indexer: {{url: {indexer}, username: {INDEXER_USER},
                 password_env: WAZUH01_INDEXER_PASSWORD}}
      tags: {{customer: morel}}
      retry: {{attempts: 1}}
    - name: wazuh47
      url: {wazuh47}
      username: {USER}
      password_env: WAZUH47_PASSWORD
      retry: {{attempts: 1}}
    - name: wazuh-dead
      url: {dead}
      username: {USER}
      password_env: WAZUH47_PASSWORD
      retry: {{attempts: 1}}
"""


def run(tmp_path: Path, text: str, monkeypatch) -> tuple[int, Path]:
    monkeypatch.setenv("WAZUH01_PASSWORD", PASSWORD)
    monkeypatch.setenv("WAZUH01_INDEXER_PASSWORD", INDEXER_PASSWORD)
    monkeypatch.setenv("WAZUH47_PASSWORD", PASSWORD)
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", "--policy", str(tmp_path / "contract.yaml"),
                 "--sources", str(tmp_path / "sources.yaml"),
                 "--as-of", "2026-11-21T06:00:00Z", "--out", str(out)])
    return code, out


DEAD = "error:wazuh:wazuh/wazuh-dead:asset+patch:api-info"  # the unreachable server


def servers(server: str, **status: str) -> dict[str, str]:
    return {subject(k.removeprefix("a"), server): v for k, v in status.items()}


def test_run_three_servers_verdicts_subject_by_subject(estate, dead_url, tmp_path, monkeypatch):
    w01, idx = estate()
    w47, _ = estate(version="4.7.5")
    code, out = run(tmp_path, sources(w01.base, idx.base, w47.base, dead_url), monkeypatch)
    assert code == 3  # a commitment is breached

    doc = json.loads((out / "results.json").read_text())
    status = {c["id"]: {r["subject"]: r["status"] for r in c["results"]}
              for c in doc["commitments"]}
    reason = {c["id"]: {r["subject"]: r["reason"] for r in c["results"]}
              for c in doc["commitments"]}
    verdict = {c["id"]: c["status"] for c in doc["commitments"]}

    each = dict(a000="compliant",  # the manager: a medium CVE 10 days old
                a001="breached",  # a high CVE published 40 days ago, 30 allowed
                a002="compliant",  # a critical CVE published 5 days ago, 15 allowed
                a004="no_evidence",  # disconnected, last keep-alive 20 days ago
                a005="no_evidence",  # never connected
                a006="no_evidence",  # HTTP 500 on its packages page
                a007="no_evidence")  # no syscollector inventory
    assert status["patch-servers"] == {**servers("wazuh01", **each),
                                       **servers("wazuh47", **each), DEAD: "no_evidence"}
    # 4.14 publishes a time (06:00 UTC, 40 days ago), 4.7 a date (midnight UTC, earlier)
    for server, late in (("wazuh01", "10"), ("wazuh47", "10.2")):
        why = {k.rsplit(":", 1)[1]: v for k, v in reason["patch-servers"].items()
               if k.startswith(f"wazuh:{server}:")}
        assert why["001"] == ("web01: 1 security update(s) past deadline; worst "
                              f"CVE-2026-1001 nginx (high) {late} days late.")
        assert why["004"].startswith("db-old: patch data is 20.0 days old (freshness limit 7)")
        assert "agent never connected (registered 2026-11-18T06:00:00Z)" in why["005"]
        assert "no package or hotfix inventory" in why["007"]
        assert "HTTP 500 server error" in why["006"] and "packages" in why["006"]
    assert "cannot connect to 127.0.0.1" in reason["patch-servers"][DEAD]

    # on the release clock web01 is breached, its unrated curl CVE notwithstanding; on the
    # detection clock its high CVE (detected 10 days ago) is within 30 days, the unrated one
    # ignored as the commitment says
    detection = status["patch-servers-detection"]
    assert detection[subject("001", "wazuh01")] == "compliant"
    assert detection[subject("001", "wazuh47")] == "compliant"

    # scoped by the os_family fact: the Windows server and the Windows 11 workstation; the
    # agent that never connected reports no OS, so nobody can tell whether it is in scope
    assert status["patch-windows"] == {
        **servers("wazuh01", a002="compliant", a003="compliant", a005="no_evidence"),
        **servers("wazuh47", a002="compliant", a003="compliant", a005="no_evidence"),
        DEAD: "no_evidence"}
    assert "no `os_family` fact" in reason["patch-windows"][subject("005", "wazuh01")]
    assert verdict == {"patch-servers": "breached", "patch-servers-detection": "no_evidence",
                       "patch-windows": "no_evidence"}

    lines = [json.loads(x) for x in (out / "evidence.jsonl").read_text().splitlines()]
    refs = {x["raw_ref"].split("#")[0] for x in lines if x.get("raw_ref")}
    assert refs and all((out / ref).is_file() for ref in refs)
    errors = sorted(x["origin"] for x in lines if x["kind"] == "collection_error")
    assert errors == ["wazuh/wazuh-dead", "wazuh/wazuh01/agents/006",
                      "wazuh/wazuh47/agents/006"]
    assert main(["verify", str(out / "evidence-pack")]) == 0
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".html", ".md", ".csv"):
            text = path.read_text(encoding="utf-8")
            assert PASSWORD not in text and INDEXER_PASSWORD not in text
            assert "eyJhbGciOiAiRVM1MTIi" not in text  # no JWT

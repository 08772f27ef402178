"""``clausewatch run --policy --sources`` against two Veeam servers: vbr01 (the fake estate of
tests/veeam_fake.py) and vbr02, which logs in but answers 503. Verdicts subject by subject; a
server unreachable at start-up stops the run as misconfigured (exit 7, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

from veeam_fake import J_AGENT, J_DC, J_EXCH, J_SQL, J_WEB, PASSWORD, USER

from clausewatch.cli import main

CONTRACT = """\
contract:
  id: e2e-veeam
  title: Infogérance sur site - sauvegardes
  provider: Infogérance Atlantique
  customer: Transports Morel
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
  - id: backup-vm
    clause: "PAS §5.1"
    title: Sauvegarde quotidienne des VM (RPO 24 h)
    check: backup_freshness
    responsible: provider
    scope: {sources: [veeam], asset_kinds: [vm]}
    params: {rpo_hours: 24}
    target: 100%
  - id: backup-agents
    clause: "PAS §5.2"
    title: Sauvegarde quotidienne des serveurs physiques, sans avertissement
    check: backup_freshness
    responsible: provider
    scope: {sources: [veeam], asset_kinds: [server]}
    params: {rpo_hours: 24}
    target: 100%
  - id: backup-agents-lenient
    clause: "PAS §5.2 bis"
    title: Sauvegarde quotidienne des serveurs physiques, avertissements admis
    check: backup_freshness
    responsible: provider
    scope: {sources: [veeam], asset_kinds: [server]}
    params: {rpo_hours: 24, accept_warning: true}
    target: 100%
  - id: backup-jobs
    clause: "PAS §5.3"
    title: Chaque travail de sauvegarde réussit chaque jour
    check: backup_freshness
    responsible: provider
    scope: {sources: [veeam], asset_kinds: [backup_job]}
    params: {rpo_hours: 24}
    target: 100%
  - id: agent-job-lenient
    clause: "PAS §5.3 bis"
    title: Le travail des agents réussit chaque jour, avertissements admis
    check: backup_freshness
    responsible: provider
    scope: {sources: [veeam], asset_kinds: [backup_job],
            tags: {veeam_job: "Agent Backup - Physical Servers"}}
    params: {rpo_hours: 24, accept_warning: true}
    target: 100%
  - id: restore-test
    clause: "PAS §5.4"
    title: Test de restauration trimestriel, en moins de 4 h
    check: restore_test
    responsible: provider
    scope: {sources: [veeam], asset_kinds: [vm, server]}
    params: {period_days: 92, max_duration_minutes: 240}
    warning_days: 14
    target: 100%
"""


def sources(vbr01: str, vbr02: str, zone: str = "server_timezone: Europe/Prague") -> str:
    return f"""\
version: 1
sources:
  veeam:
    - name: vbr01
      url: {vbr01}
      username: '{USER}'
      password_env: VBR01_PASSWORD
      {zone}
      tags: {{customer: morel}}
    - name: vbr02
      url: {vbr02}
      username: '{USER}'
      password_env: VBR02_PASSWORD
      retry: {{attempts: 1}}
"""


def job(job_id: str) -> str:
    return f"veeam:vbr01:job:{job_id}"


def vm(name: str) -> str:
    return f"veeam:vbr01:{name}"


DEAD = "error:veeam:veeam/vbr02:asset+backup+restore_test:jobs"  # stands for its subjects
VBR02_PASSWORD = "another-pa55word-77"


def failing(estate) -> str:  # type: ignore[no-untyped-def]
    """vbr02: the login works, then the server answers 503 (once: its retry is 1 attempt)."""
    fake = estate(password=VBR02_PASSWORD)
    fake.fail("serverTime", 503, 503)
    fake.fail("jobs", 503, 503)
    return str(fake.base)


def run(tmp_path: Path, sources_text: str, monkeypatch) -> tuple[int, Path]:
    monkeypatch.setenv("VBR01_PASSWORD", PASSWORD)
    monkeypatch.setenv("VBR02_PASSWORD", VBR02_PASSWORD)
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(sources_text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", "--policy", str(tmp_path / "contract.yaml"),
                 "--sources", str(tmp_path / "sources.yaml"),
                 "--as-of", "2026-11-21T06:00:00Z", "--out", str(out)])
    return code, out


def statuses(out: Path) -> dict[str, dict[str, str]]:
    doc = json.loads((out / "results.json").read_text())
    return {c["id"]: {r["subject"]: r["status"] for r in c["results"]}
            for c in doc["commitments"]}


def test_run_two_servers_verdicts_subject_by_subject(estate, tmp_path: Path, monkeypatch):
    code, out = run(tmp_path, sources(estate().base, failing(estate)), monkeypatch)
    assert code == 3  # a commitment is breached

    doc = json.loads((out / "results.json").read_text())
    status = {c["id"]: {r["subject"]: r["status"] for r in c["results"]}
              for c in doc["commitments"]}
    reason = {c["id"]: {r["subject"]: r["reason"] for r in c["results"]}
              for c in doc["commitments"]}
    verdict = {c["id"]: c["status"] for c in doc["commitments"]}

    assert status["backup-vm"] == {
        vm("dc01"): "compliant", vm("dc02"): "compliant", vm("ns01"): "compliant",
        vm("web01"): "breached",  # the RPO exceeded by one hour
        vm("sql01"): "breached",  # only failed runs
        vm("sql02"): "breached",  # a tag member seen only through its failed task
        vm("exch01"): "breached",  # in a job that never ran: never backed up
        DEAD: "no_evidence",  # vbr02 failing: its subjects, and only them
    }
    assert reason["backup-vm"][vm("web01")] == (
        "web01: last successful backup 25.0 h ago, RPO 24 h.")
    assert reason["backup-vm"][vm("exch01")] == (
        "exch01: in scope but never backed up successfully.")
    assert reason["backup-vm"][vm("sql01")].endswith("(1 failed attempt(s)).")
    assert "HTTP 503" in reason["backup-vm"][DEAD]

    fs01 = vm("fs01.corp.example")
    assert status["backup-agents"] == {fs01: "breached", DEAD: "no_evidence"}
    assert "3 with warnings, not accepted" in reason["backup-agents"][fs01]
    assert status["backup-agents-lenient"] == {fs01: "compliant", DEAD: "no_evidence"}
    assert status["agent-job-lenient"] == {job(J_AGENT): "compliant", DEAD: "no_evidence"}

    assert status["backup-jobs"] == {
        job(J_DC): "compliant", job(J_AGENT): "breached", job(J_SQL): "breached",
        job(J_WEB): "breached", job(J_EXCH): "breached", DEAD: "no_evidence"}

    assert status["restore-test"] == {
        vm("dc01"): "compliant",  # SureBackup 30 days ago
        vm("dc02"): "at_risk",  # 85 days ago: due within the 14 days' warning
        vm("ns01"): "breached",  # 95 days ago: outside the 92-day period
        vm("web01"): "compliant",  # a failed restore 5 days ago, after a success 40 days ago
        fs01: "breached",  # only a content scan: not a restore test
        vm("sql01"): "breached", vm("sql02"): "breached", vm("exch01"): "breached",
        DEAD: "no_evidence",
    }
    web01 = next(r for c in doc["commitments"] if c["id"] == "restore-test"
                 for r in c["results"] if r["subject"] == vm("web01"))
    assert web01["measured"]["duration_minutes"] == 36.6
    assert "2026-10-12" in web01["reason"]  # the older success, not the failed restore
    # the lenient commitment: fs01 compliant, but vbr02 unseen: undecided, never compliant
    assert verdict == {"backup-vm": "breached", "backup-agents": "breached",
                       "backup-agents-lenient": "no_evidence", "backup-jobs": "breached",
                       "agent-job-lenient": "no_evidence", "restore-test": "breached"}

    # every result traces to evidence whose raw page is in the output folder
    lines = [json.loads(x) for x in (out / "evidence.jsonl").read_text().splitlines()]
    refs = {x["raw_ref"].split("#")[0] for x in lines if x.get("raw_ref")}
    assert refs and all((out / ref).is_file() for ref in refs)
    errors = [x for x in lines if x["kind"] == "collection_error"]
    assert [e["origin"] for e in errors] == ["veeam/vbr02"]
    # the evidence pack verifies: hashes, raw pages, subject results re-evaluated
    assert main(["verify", str(out / "evidence-pack")]) == 0
    # neither password nor token reaches the outputs
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".html", ".md", ".csv"):
            text = path.read_text(encoding="utf-8")
            assert PASSWORD not in text and "another-pa55word-77" not in text
            assert "eyJ.access" not in text and "eyJ.refresh" not in text


def test_offset_less_surebackup_times_without_a_zone_are_no_evidence(estate, tmp_path: Path,
                                                                      monkeypatch):
    """1.2-rev1's serverTime gives an offset, not a zone: the SureBackup sessions (times
    without offset) cannot be placed, so vbr01's restore tests are no_evidence, with the
    reason; its backups, whose times carry offsets, are judged as before."""
    code, out = run(tmp_path, sources(estate().base, failing(estate),
                                      zone="# no server_timezone"), monkeypatch)
    assert code == 3
    status = statuses(out)
    assert set(status["restore-test"].values()) == {"no_evidence"}
    doc = json.loads((out / "results.json").read_text())
    [restore] = [c for c in doc["commitments"] if c["id"] == "restore-test"]
    dc01 = next(r for r in restore["results"] if r["subject"] == vm("dc01"))
    assert "has no UTC offset and the server's time zone is not established" in dc01["reason"]
    assert "set server_timezone" in dc01["reason"]
    assert status["backup-vm"][vm("web01")] == "breached"
    assert status["backup-vm"][vm("dc01")] == "compliant"


def test_a_server_unreachable_at_start_stops_the_run_as_misconfigured(estate, dead_url,
                                                                      tmp_path: Path,
                                                                      monkeypatch, capsys):
    code, out = run(tmp_path, sources(estate().base, dead_url), monkeypatch)
    assert code == 7
    err = capsys.readouterr().err
    assert "clausewatch: veeam source 'vbr02': cannot reach 127.0.0.1 (connection refused)" \
        in err
    assert "Traceback" not in err
    assert not out.exists()  # nothing written, no staging left behind
    assert [p.name for p in tmp_path.glob(".out*")] == [".out.lock"]  # the run's lock only

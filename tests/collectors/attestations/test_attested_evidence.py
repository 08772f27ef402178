"""Attestations as restore-test evidence: a sound report counts (and says "attested"), a missing
or altered one is no_evidence, never compliant; ``evidence: automated`` ignores them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from attest_helpers import NOW, attest, fix_clock, report

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.collectors.attestations import store as att_store
from clausewatch.collectors.attestations.source import build
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.redact import Redactor
from clausewatch.policies.load import load_contract

CONTRACT = """\
contract:
  id: k
  title: T
  provider: P
  customer: C
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
  - id: any
    clause: "§1"
    title: restore test, any evidence
    check: restore_test
    responsible: provider
    scope: {asset_kinds: [system, vm]}
    params: {period_days: 92, max_duration_minutes: 240}
    target: 100%
  - id: automated
    clause: "§2"
    title: restore test, automated only
    check: restore_test
    responsible: provider
    scope: {asset_kinds: [system, vm]}
    evidence: automated
    params: {period_days: 92}
    target: 100%
  - id: attested
    clause: "§3"
    title: PRA, attested only
    check: restore_test
    responsible: shared
    scope: {asset_kinds: [system, vm]}
    evidence: attested
    params: {period_days: 366}
    target: 100%
"""
SYSTEMS = [{"subject": s, "name": s.upper()} for s in ("si-a", "si-b", "si-c", "si-d")]


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    fix_clock(monkeypatch)


def collect(store: Path, raw_root: Path | None = None, systems=SYSTEMS
            ) -> tuple[list[Evidence], list[CollectionError]]:
    context = BuildContext(as_of=NOW, raw=RawRecorder(raw_root, Redactor()), env={},
                           base_dir=store.parent, secrets=Redactor())
    (collector,) = build({"name": "pra", "store": store.name, "systems": systems}, context)
    items = list(collector.collect())
    return ([i for i in items if isinstance(i, Evidence)],
            [i for i in items if isinstance(i, CollectionError)])


def judge(tmp_path: Path, evidence, errors=()):
    (tmp_path / "c.yaml").write_text(CONTRACT, encoding="utf-8")
    ev = evaluate(load_contract(tmp_path / "c.yaml", CHECKS), evidence, list(errors), NOW)
    return {o.commitment.id: {r.subject: r for r in o.results} for o in ev.outcomes}


def vm_asset(subject: str) -> Evidence:
    return Evidence(id=f"veeam:asset:{subject}", kind="asset", source="veeam", subject=subject,
                    observed_at=NOW, facts={"asset_kind": "vm", "name": subject},
                    origin="veeam/vbr01")


def surebackup(subject: str, days: float) -> Evidence:
    when = NOW - timedelta(days=days)
    return Evidence(id=f"veeam:rt:{subject}:{days}", kind="restore_test", source="veeam",
                    subject=subject, observed_at=NOW,
                    facts={"outcome": "success", "completed_at": when, "duration_minutes": 30,
                           "method": "automated"}, origin="veeam/vbr01")


def record_of(store: Path, system: str) -> att_store.Attestation:
    return next(a for _, a, s in att_store.read(store)
                if s == system and isinstance(a, att_store.Attestation))


def test_sound_missing_and_altered_reports(tmp_path: Path):
    store = tmp_path / "store"
    assert attest(store, "si-a", "2026-11-01", report(tmp_path, "a.pdf"), "--duration", "95") == 0
    assert attest(store, "si-b", "2026-11-02", report(tmp_path, "b.pdf")) == 0
    assert attest(store, "si-c", "2026-11-03", report(tmp_path, "c.pdf")) == 0
    (store / record_of(store, "si-b").report_path).write_bytes(b"%PDF forged")  # altered
    (store / record_of(store, "si-c").report_path).unlink()  # gone from the store
    evidence, errors = collect(store, tmp_path / "stage")
    assert errors == []
    tests = {e.subject: e for e in evidence if e.kind == "restore_test"}
    a = tests["si-a"].facts
    assert a["attested"] is True and a["method"] == "attested" and a["report_problem"] is None
    assert a["attested_by"] == "C. Morel (DSI)" and a["duration_minutes"] == 95
    assert a["report_sha256"] == record_of(store, "si-a").report_sha256
    # the sound report is kept verbatim for the pack, named by raw_ref with its digest
    rel, _, digest = tests["si-a"].raw_ref.partition("#sha256=")
    assert digest == a["report_sha256"]
    assert (tmp_path / "stage" / rel).read_bytes() == (tmp_path / "a.pdf").read_bytes()
    assert "does not match its recorded SHA-256" in tests["si-b"].facts["report_problem"]
    assert tests["si-b"].raw_ref is None
    assert "is missing from the store" in tests["si-c"].facts["report_problem"]

    r = judge(tmp_path, evidence)
    assert r["any"]["si-a"].status == "compliant"
    assert "attested by C. Morel (DSI), report sha256" in r["any"]["si-a"].reason
    assert r["any"]["si-a"].measured["attested"] is True
    assert r["any"]["si-b"].status == "no_evidence"  # hash mismatch: never compliant
    assert "cannot be verified" in r["any"]["si-b"].reason
    assert "does not match its recorded SHA-256" in r["any"]["si-b"].reason
    assert r["any"]["si-c"].status == "no_evidence"  # report missing
    assert "missing from the store" in r["any"]["si-c"].reason
    assert r["any"]["si-d"].status == "breached"  # declared, never attested
    assert r["attested"]["si-a"].status == "compliant"
    assert r["attested"]["si-b"].status == "no_evidence"


def test_evidence_automated_ignores_attestations(tmp_path: Path):
    store = tmp_path / "store"
    assert attest(store, "veeam:vbr01:ns01", "2026-11-11", report(tmp_path),
                  "--duration", "45") == 0
    assert attest(store, "veeam:vbr01:dc01", "2026-11-12", report(tmp_path, "x.pdf")) == 0
    (store / record_of(store, "veeam:vbr01:dc01").report_path).write_bytes(b"changed")
    evidence, _ = collect(store, systems=[])
    evidence += [vm_asset("veeam:vbr01:ns01"), surebackup("veeam:vbr01:ns01", 95),
                 vm_asset("veeam:vbr01:dc01"), surebackup("veeam:vbr01:dc01", 100)]
    r = judge(tmp_path, evidence)
    # the SureBackup test is 95 days old: automated-only judges on it alone
    assert r["automated"]["veeam:vbr01:ns01"].status == "breached"
    assert "attested" not in r["automated"]["veeam:vbr01:ns01"].reason
    assert r["any"]["veeam:vbr01:ns01"].status == "compliant"
    assert "attested" in r["any"]["veeam:vbr01:ns01"].reason
    # an altered attestation neither counts nor blurs the automated verdict
    assert r["automated"]["veeam:vbr01:dc01"].status == "breached"
    assert r["any"]["veeam:vbr01:dc01"].status == "no_evidence"
    # attested-only does not count the SureBackup runs
    assert r["attested"]["veeam:vbr01:ns01"].measured["attested"] is True


def test_a_newer_automated_success_is_not_blurred_by_an_altered_attestation(tmp_path: Path):
    store = tmp_path / "store"
    assert attest(store, "vm1", "2026-10-01", report(tmp_path)) == 0
    (store / record_of(store, "vm1").report_path).write_bytes(b"changed")
    evidence, _ = collect(store, systems=[])
    evidence += [vm_asset("vm1"), surebackup("vm1", 10)]
    r = judge(tmp_path, evidence)
    assert r["any"]["vm1"].status == "compliant"  # rests on the SureBackup run, not the PV
    assert "attested" not in r["any"]["vm1"].reason


def test_a_failed_attestation_never_counts(tmp_path: Path):
    store = tmp_path / "store"
    assert attest(store, "si-a", "2026-11-01", report(tmp_path), outcome="failure") == 0
    evidence, _ = collect(store)
    assert {e.facts["outcome"] for e in evidence if e.kind == "restore_test"} == {"failed"}
    assert judge(tmp_path, evidence)["any"]["si-a"].status == "breached"


def test_an_rto_too_slow_or_unmeasured_does_not_count(tmp_path: Path):
    store = tmp_path / "store"
    assert attest(store, "si-a", "2026-11-01", report(tmp_path), "--duration", "5h") == 0
    assert attest(store, "si-b", "2026-11-01", report(tmp_path, "b.pdf")) == 0
    r = judge(tmp_path, collect(store)[0])
    assert r["any"]["si-a"].status == "breached"  # 300 min > the 240-minute RTO
    assert "too slow" in r["any"]["si-a"].reason
    assert r["any"]["si-b"].status == "breached"  # no duration: the RTO cannot be shown
    assert "no duration recorded" in r["any"]["si-b"].reason
    assert r["attested"]["si-a"].status == "compliant"  # no RTO on that commitment


def test_an_unreadable_line_naming_its_system_is_no_evidence_for_it(tmp_path: Path):
    store = tmp_path / "store"
    assert attest(store, "si-a", "2026-11-01", report(tmp_path), "--duration", "1h") == 0
    with open(store / att_store.FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"format": att_store.FORMAT, "system": "si-b"}) + "\n")
    evidence, errors = collect(store)
    assert errors == []
    r = judge(tmp_path, evidence)
    assert r["any"]["si-a"].status == "compliant"
    assert r["any"]["si-b"].status == "no_evidence"
    assert "line 2 is unreadable" in r["any"]["si-b"].reason


def test_a_line_naming_nothing_or_a_missing_store_leaves_every_attested_commitment_undecided(
        tmp_path: Path):
    store = tmp_path / "store"
    assert attest(store, "si-a", "2026-11-01", report(tmp_path)) == 0
    with open(store / att_store.FILE, "a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    evidence, errors = collect(store)
    (error,) = errors
    assert error.origin == "" and error.kinds == ("restore_test",)
    assert "line 2 is unreadable and names no system" in error.message
    evidence += [vm_asset("vm1"), surebackup("vm1", 10)]
    r = judge(tmp_path, evidence, errors)
    assert r["any"]["si-a"].status == "no_evidence"  # the broken line may be about it
    assert r["any"]["vm1"].status == "no_evidence"
    assert r["automated"]["vm1"].status == "compliant"  # attestations do not concern it

    gone, errors = collect(tmp_path / "nowhere")
    (error,) = errors
    assert "does not exist" in error.message
    assert {e.subject for e in gone} == {s["subject"] for s in SYSTEMS}  # still in scope
    r = judge(tmp_path, gone, errors)
    assert {x.status for x in r["any"].values()} == {"no_evidence"}


def test_an_attestation_after_as_of_is_not_yet_evidence(tmp_path: Path, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setattr("clausewatch.commands.attest.utc_now", lambda: NOW + timedelta(days=30))
    assert attest(store, "si-a", "2026-12-10", report(tmp_path)) == 0
    evidence, _ = collect(store)
    assert not [e for e in evidence if e.kind == "restore_test"]


def test_the_contract_refuses_contradicting_accept_attested(tmp_path: Path):
    from clausewatch.core.problems import InputError

    bad = CONTRACT.replace("    evidence: automated\n    params: {period_days: 92}",
                           "    evidence: automated\n    params: {period_days: 92, "
                           "accept_attested: true}")
    (tmp_path / "c.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_contract(tmp_path / "c.yaml", CHECKS, name="c.yaml")
    (problem,) = info.value.problems
    assert str(problem).startswith("c.yaml:24:")
    assert "contradicts evidence: automated" in str(problem)
    wrong = CONTRACT.replace("evidence: automated", "evidence: manual")
    (tmp_path / "c.yaml").write_text(wrong, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_contract(tmp_path / "c.yaml", CHECKS, name="c.yaml")
    assert "c.yaml:23:" in str(info.value) and "manual" in str(info.value)

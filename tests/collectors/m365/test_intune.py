"""Intune devices and Windows patch state from the Windows Update catalog (Graph beta)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

CONTOSO = "11111111-1111-1111-1111-111111111111"
FOLDER = Path(__file__).parents[2] / "fixtures/m365/contoso"
PC_0142 = "705c034c-034c-705c-4c03-5c704c035c70"  # 10.0.22631.4317: two builds behind
PC_0200 = "815d145d-145d-815d-5d14-6d815d146d81"  # 10.0.22631.4602: current


def split(evidence):
    assets = {e.subject: e for e in evidence if e.kind == "asset"}
    patches: dict[str, dict[str, dict]] = {}
    for e in evidence:
        if e.kind == "patch":
            patches.setdefault(e.subject, {})[e.facts["update_id"]] = e
    return assets, patches


def test_device_two_builds_behind_misses_two_security_updates(emulator, run_collector):
    emu = emulator("contoso")
    evidence, errors = run_collector(emu, CONTOSO, "intune")
    assert errors == []
    assets, patches = split(evidence)
    assert len(assets) == 6  # two pages of devices
    assert emu.hits("GET", "/v1.0/deviceManagement/managedDevices") == 2
    assert emu.hits("GET", "/beta/admin/windows/updates/catalog/entries") == 2

    pc = assets[PC_0142]
    assert pc.origin == f"intune/{CONTOSO}" and pc.source == "intune"
    assert pc.facts["asset_kind"] == "workstation" and pc.facts["os_version"] == "10.0.22631.4317"
    assert pc.facts["compliance_state"] == "noncompliant"
    assert pc.facts["tags"]["ownership"] == "company"
    synced = datetime(2025, 1, 19, 21, 2, 49, tzinfo=UTC)
    assert pc.facts["patch_assessed_at"] == synced

    mine = patches[PC_0142]
    assert {k: v.facts["state"] for k, v in mine.items()} == {
        "KB5048685": "missing", "KB5046633": "missing", "KB5044285": "installed"}
    dec = mine["KB5048685"]
    assert dec.facts["released_at"] == datetime(2024, 12, 10, tzinfo=UTC)
    assert dec.facts["severity"] == "critical" and dec.facts["cves"] == ["CVE-2024-49138"]
    assert dec.observed_at == synced  # as fresh as the device's last report, no fresher
    assert mine["KB5044285"].facts["severity"] == "important"
    # the non-security D release (4541) and the feature update entry are ignored
    assert all(p.facts["build"] != "10.0.22631.4541" for p in mine.values())

    assert {v.facts["state"] for v in patches[PC_0200].values()} == {"installed"}
    # the offset -08:00 in lastSyncDateTime is normalised to UTC
    assert assets[PC_0200].facts["last_seen"] == datetime(2025, 1, 20, 4, 10, tzinfo=UTC)


def test_devices_that_cannot_be_assessed_carry_no_patch_state(emulator, run_collector):
    evidence, _ = run_collector(emulator("contoso"), CONTOSO, "intune")
    assets, patches = split(evidence)
    by_name = {a.facts["name"]: a for a in assets.values()}
    iphone = by_name["iPhone-Frank"]
    assert iphone.facts["asset_kind"] == "mobile" and iphone.facts["patch_assessed_at"] is None
    lab = by_name["PC-LAB"]  # a build the catalog does not list
    assert lab.facts["patch_assessed_at"] is None and lab.subject not in patches
    assert "not in the Windows Update catalog" in lab.facts["patch_data_note"]
    never = by_name["PC-NEW"]  # lastSyncDateTime 0001-01-01: never synced
    assert never.facts["last_seen"] is None and never.subject not in patches
    old = by_name["PC-OLD"]  # synced a month ago: assessed then, the check judges freshness
    assert old.facts["patch_assessed_at"] == datetime(2024, 12, 18, 10, tzinfo=UTC)


def test_unreadable_catalog_is_a_patch_error_and_assets_still_come(emulator, run_collector):
    routes = json.loads((FOLDER / "routes.json").read_text())
    routes["GET /beta/admin/windows/updates/catalog/entries"] = {
        "status": 403, "body": {"error": {"code": "Forbidden", "message": "Missing role"}}}
    emu = emulator(routes=routes)
    emu.folder = FOLDER
    evidence, errors = run_collector(emu, CONTOSO, "intune")
    assets, patches = split(evidence)
    assert len(assets) == 6 and patches == {}
    assert all(a.facts["patch_assessed_at"] is None for a in assets.values())
    [err] = errors
    assert err.kinds == ("patch",) and err.origin == f"intune/{CONTOSO}"
    assert "WindowsUpdates.ReadWrite.All" in err.message


def test_without_windows_updates_no_beta_call(emulator, run_collector):
    emu = emulator("contoso")
    evidence, errors = run_collector(emu, CONTOSO, "intune", collect=["intune"])
    assert errors == [] and not any(e.kind == "patch" for e in evidence)
    assert emu.hits("GET", "/beta/admin/windows/updates/catalog/entries") == 0

"""Microsoft 365 Backup: protection units, latest restore points, restore sessions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

CONTOSO = "11111111-1111-1111-1111-111111111111"
FABRIKAM = "22222222-2222-2222-2222-222222222222"


def test_protected_resources_restore_points_and_sessions(emulator, run_collector):
    emu = emulator("contoso")
    evidence, errors = run_collector(emu, CONTOSO, "backup", backup_tags={"customer": "contoso"})
    assert errors == []
    assets = {e.subject: e.facts for e in evidence if e.kind == "asset"}
    assert set(assets) == {
        "exchange:alice@contoso.com", "exchange:bob@contoso.com",
        "sharepoint:https://contoso.sharepoint.com/sites/finance",
        f"m365backup:{CONTOSO}:exchange", f"m365backup:{CONTOSO}:sharepoint",
    }  # the offboarded mailbox is gone; the draft OneDrive session is not a test
    alice = assets["exchange:alice@contoso.com"]
    assert alice["asset_kind"] == "mailbox"
    assert alice["tags"] == {"customer": "contoso", "workload": "exchange",
                             "protection_status": "protected",
                             "protection_policy": "Executive mailboxes"}
    backups = {e.subject: e.facts for e in evidence if e.kind == "backup"}
    assert backups["exchange:alice@contoso.com"]["completed_at"] == \
        datetime(2025, 1, 20, 5, 50, tzinfo=UTC)
    assert "exchange:bob@contoso.com" not in backups  # no restore point in the window
    [search] = [r for r in emu.requests if r["path"].endswith("/restorePoints/search")]
    body = json.loads(search["body"])
    assert sorted(body["protectionUnitIds"]) == sorted([
        "89014d8c-71fe-4d00-a01a-31850bc5b32c", "9a125e9d-820f-4e11-b12b-42961cd6c43d",
        "ab236fae-9310-4f22-c23c-53a72de7d54e"])
    assert body["restorePointPreference"] == "latest"
    tests = {e.subject: e.facts for e in evidence if e.kind == "restore_test"}
    ex = tests[f"m365backup:{CONTOSO}:exchange"]
    assert ex["outcome"] == "success" and ex["duration_minutes"] == 40.0
    assert ex["method"] == "automated"
    assert tests[f"m365backup:{CONTOSO}:sharepoint"]["outcome"] == "failed"
    assert all(e.origin == f"m365backup/{CONTOSO}" and e.source == "m365.backup"
               for e in evidence)


def test_tenant_without_the_service_is_an_error_naming_it(emulator, run_collector):
    evidence, errors = run_collector(emulator("fabrikam"), FABRIKAM, "backup")
    assert evidence == []
    [err] = errors
    assert "Microsoft 365 Backup" in err.message and "HTTP 404" in err.message
    assert set(err.kinds) == {"asset", "backup", "restore_test"}


def test_disabled_service_is_an_error(emulator, run_collector):
    emu = emulator(routes={"GET /v1.0/solutions/backupRestore": {"body": {
        "id": "backupRestore", "serviceStatus": {"status": "disabled",
                                                  "disableReason": "invalidBillingProfile"}}}})
    evidence, errors = run_collector(emu, CONTOSO, "backup")
    assert evidence == []
    assert "not enabled" in errors[0].message and "invalidBillingProfile" in errors[0].message

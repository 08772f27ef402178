"""A failed Graph call loses only what it carried; evolvable enums are asked for and never read
as a known state; a malformed page is an error, never an empty list."""

from __future__ import annotations

import pytest
from m365_routes import CONTOSO, DENIED, page, routes, start

from clausewatch.core.evidence import RunWarning


@pytest.mark.parametrize("which", ["entra", "intune", "backup"])
def test_every_graph_request_asks_for_unknown_enum_members(emulator, run_collector, which):
    emu = emulator("contoso")
    run_collector(emu, CONTOSO, which)
    assert emu.requests
    assert {r["headers"].get("prefer") for r in emu.requests} == {"include-unknown-enum-members"}
    if which != "backup":  # next links (users, registration details, devices, catalog) too
        assert any("$skiptoken" in r["query"] for r in emu.requests)


def test_failed_protection_units_still_read_the_restore_sessions(emulator, run_collector):
    emu = start(emulator, routes(**{"GET_/v1.0/solutions/backupRestore/protectionUnits": DENIED}))
    evidence, errors = run_collector(emu, CONTOSO, "backup", backup_tags={"customer": "contoso"})
    (err,) = errors
    assert err.operation == "protection-units" and set(err.kinds) == {"asset", "backup"}
    assert err.asset_kinds == ("mailbox", "site", "onedrive")
    assert err.tags == {"customer": "contoso"} and err.facts == {"tenant_id": CONTOSO}
    tests = {e.subject: e.facts["outcome"] for e in evidence if e.kind == "restore_test"}
    assert tests == {f"m365backup:{CONTOSO}:exchange": "success",
                     f"m365backup:{CONTOSO}:sharepoint": "failed"}


def test_failed_restore_sessions_keep_the_protected_units(emulator, run_collector):
    emu = start(emulator, routes(**{"GET_/v1.0/solutions/backupRestore/restoreSessions": DENIED}))
    evidence, errors = run_collector(emu, CONTOSO, "backup")
    (err,) = errors
    assert err.kinds == ("restore_test",) and err.asset_kinds == ("backup_workload",)
    assert "exchange:alice@contoso.com" in {e.subject for e in evidence if e.kind == "backup"}


def test_failed_restore_point_search_covers_those_units_only(emulator, run_collector):
    emu = start(emulator, routes(
        **{"POST_/v1.0/solutions/backupRestore/restorePoints/search": DENIED}))
    evidence, errors = run_collector(emu, CONTOSO, "backup")
    assert {e.subject for e in errors} == {
        "exchange:alice@contoso.com", "exchange:bob@contoso.com",
        "sharepoint:https://contoso.sharepoint.com/sites/finance"}
    assert all(e.kinds == ("backup",) for e in errors)
    assert any(e.kind == "restore_test" for e in evidence)


@pytest.mark.parametrize(("status", "kept", "error"), [
    ("offboarded", False, False), ("unprotected", False, False),
    ("removeRequested", False, False), ("offboardRequested", False, False),
    ("protected", True, False), ("protectRequested", True, False),
    ("unknownFutureValue", True, True), ("somethingNewer", True, True),
])
def test_protection_unit_status_decides_scope(emulator, run_collector, status, kept, error):
    units = page("protection-units.json")
    units["value"][0]["status"] = status
    emu = start(emulator, routes(**{"GET_/v1.0/solutions/backupRestore/protectionUnits": {
        "body": units}}))
    evidence, errors = run_collector(emu, CONTOSO, "backup")
    assets = {e.subject for e in evidence if e.kind == "asset"}
    assert ("exchange:alice@contoso.com" in assets) is kept
    assert bool(errors) is error
    if error:  # never read as protected: its backups are uncertain
        (err,) = errors
        assert err.subject == "exchange:alice@contoso.com" and err.kinds == ("backup",)


def test_restore_session_with_an_unknown_status_is_not_dropped(emulator, run_collector):
    sessions = page("restore-sessions.json")
    sessions["value"][1]["status"] = "unknownFutureValue"  # a "failed" session, as Graph hides it
    emu = start(emulator, routes(**{"GET_/v1.0/solutions/backupRestore/restoreSessions": {
        "body": sessions}}))
    evidence, errors = run_collector(emu, CONTOSO, "backup")
    (err,) = errors
    assert err.subject == f"m365backup:{CONTOSO}:sharepoint" and err.kinds == ("restore_test",)
    assert f"m365backup:{CONTOSO}:sharepoint" in {e.subject for e in evidence}


def test_deleted_group_named_by_a_policy_is_empty_with_a_warning(emulator, run_collector):
    gone = {"status": 404, "body": {"error": {"code": "Request_ResourceNotFound",
                                              "message": "Resource does not exist."}}}
    emu = start(emulator, routes(**{
        "GET_/v1.0/groups/aaaaaaaa-0000-4000-8000-000000000001/transitiveMembers/graph.user":
            gone}))
    evidence, errors = run_collector(emu, CONTOSO, "entra")
    assert errors == []
    warnings = [e for e in evidence if isinstance(e, RunWarning)]
    identities = [e for e in evidence if not isinstance(e, RunWarning)]
    (w,) = warnings
    assert "aaaaaaaa-0000-4000-8000-000000000001" in w.message
    assert "Conditional Access policy" in w.message and w.details["policies"]
    assert len(identities) >= 5  # the tenant's identities are still judged one by one


def test_a_missing_group_for_a_role_is_still_an_error(emulator, run_collector):
    gone = {"status": 404, "body": {"error": {"code": "Request_ResourceNotFound",
                                              "message": "Resource does not exist."}}}
    emu = start(emulator, routes(**{
        "GET_/v1.0/groups/aaaaaaaa-0000-4000-8000-000000000003/transitiveMembers/graph.user":
            gone}))
    evidence, errors = run_collector(emu, CONTOSO, "entra")
    (err,) = errors
    assert err.operation == "group-members" and err.facts == {"tenant_id": CONTOSO}


@pytest.mark.parametrize("body", [
    {"body": {"@odata.context": "x"}},  # no value
    {"body": {"value": None}},
])
def test_users_page_without_value_is_an_error_not_an_empty_tenant(emulator, run_collector, body):
    emu = start(emulator, routes(**{"GET_/v1.0/users?$skiptoken=RFNwdAIAAQAAACE6": body}))
    evidence, errors = run_collector(emu, CONTOSO, "entra")
    assert evidence == []
    (err,) = errors
    assert err.operation == "users" and "malformed page" in err.message


def test_an_unparsable_page_is_an_error(emulator, run_collector, tmp_path):
    (tmp_path / "broken.json").write_text('{"value": [ {"id": ')
    table = routes()
    table["GET /v1.0/deviceManagement/managedDevices"] = "broken.json"
    emu = emulator(routes=table)
    emu.folder = tmp_path
    evidence, errors = run_collector(emu, CONTOSO, "intune", collect=["intune"])
    assert evidence == []
    (err,) = errors
    assert err.operation == "managed-devices"

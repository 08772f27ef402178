"""Entra ID identities through the real GraphServiceClient against the local Graph emulator."""

from __future__ import annotations

import json
from pathlib import Path

from m365_routes import entry

CONTOSO = "11111111-1111-1111-1111-111111111111"
FABRIKAM = "22222222-2222-2222-2222-222222222222"


def by_account(evidence):
    return {e.subject: e.facts for e in evidence}


def test_contoso_identities(emulator, run_collector, context, tmp_path: Path):
    emu = emulator("contoso")
    evidence, errors = run_collector(emu, CONTOSO, "entra")
    assert errors == []
    ids = by_account(evidence)
    # paging: both pages of users were read (10 users over 2 pages), and of registrations
    assert len(ids) == 10
    assert emu.hits("GET", "/v1.0/users") == 2
    assert emu.hits("GET", "/v1.0/reports/authenticationMethods/userRegistrationDetails") == 2
    # no double slash in any request path (the base-URL trap)
    assert not any("//" in r["path"] for r in emu.requests)

    alice = ids["alice@contoso.com"]
    assert alice["mfa_enforced"] is True and alice["mfa_registered"] is True
    assert alice["mfa_enforced_by"].startswith("Conditional Access policy 0b3c5c63")
    assert alice["account_type"] == "member" and alice["privileged"] is False

    # excluded directly from the only policy that would enforce it; CA004 (mfa OR compliant
    # device) and CA005 (outside trusted locations) do not count; CA002 is report-only
    bob = ids["bob@contoso.com"]
    assert bob["mfa_enforced"] is False and bob["mfa_enforced_by"] is None
    assert bob["mfa_registered"] is True
    assert bob["mfa_report_only_policies"] == [
        "Conditional Access policy 1c4d6d74-6b9b-4e2f-8b1f-3a1a7c8b2d22 "
        "(CA002: Require MFA for all users (pilot, report-only))"]

    # excluded through a group (transitive membership from Graph)
    assert ids["carol@contoso.com"]["mfa_enforced"] is False

    # a guest: MFA methods live in the home tenant -> registration unknown, never guessed
    guest = ids["dave_fabrikam.com#EXT#@contoso.onmicrosoft.com"]
    assert guest["account_type"] == "guest" and guest["mfa_registered"] is None

    # a disabled user is reported as such (the check decides whether it counts)
    assert ids["erin@contoso.com"]["enabled"] is False

    # the break-glass account: Global Administrator, excluded from every policy
    bg = ids["bg-admin-01@contoso.com"]
    assert bg["privileged"] is True and bg["privileged_reason"] == "Global Administrator"
    assert bg["mfa_enforced"] is False

    # excluded from CA001 by group, but enforced by the role-targeted strength policy CA003
    frank = ids["frank@contoso.com"]
    assert frank["mfa_enforced"] is True and "CA003" in frank["mfa_enforced_by"]
    assert frank["privileged_reason"] == "Security Administrator"

    # privileged through a role-assignable group
    gina = ids["gina@contoso.com"]
    assert gina["privileged_reason"] == \
        "Helpdesk Administrator via group Helpdesk admins (role-assignable)"

    assert ids["info@contoso.com"]["account_type"] == "shared_mailbox"
    assert ids["room-paris@contoso.com"]["account_type"] == "room"

    # provenance: origin and a raw page on disk whose digest matches raw_ref
    ev = next(e for e in evidence if e.subject == "bob@contoso.com")
    assert ev.origin == f"entra/{CONTOSO}" and ev.source == "entra"
    rel, digest = ev.raw_ref.split("#sha256=")
    page = (tmp_path / "out" / rel).read_text()
    import hashlib
    assert hashlib.sha256(page.encode()).hexdigest() == digest
    assert "bob@contoso.com" in page
    assert any("conditional-access" in p for p in ev.facts["raw_pages"])
    # the mailbox answer the account type was read from: its own entry of a batch raw page
    info = next(e for e in evidence if e.subject == "info@contoso.com")
    [ref] = [p for p in info.facts["raw_pages"] if "/mailbox-settings-" in p]
    assert entry(tmp_path / "out", ref)["url"].endswith(
        f"/v1.0/users/{info.facts['object_id']}/mailboxSettings?%24select=userPurpose")


def test_non_premium_tenant_falls_back_to_methods_and_security_defaults(emulator, run_collector):
    emu = emulator("fabrikam")
    evidence, errors = run_collector(emu, FABRIKAM, "entra", classify_mailboxes=False)
    assert errors == []
    ids = by_account(evidence)
    assert ids["henry@fabrikam.fr"]["mfa_registered"] is True
    assert ids["henry@fabrikam.fr"]["mfa_methods"] == ["microsoftAuthenticatorAuthenticationMethod"]
    assert ids["henry@fabrikam.fr"]["mfa_registration_source"] == "authentication methods"
    assert ids["ivy@fabrikam.fr"]["mfa_registered"] is False  # password + email are not MFA
    for facts in ids.values():
        assert facts["mfa_enforced"] is True
        assert facts["mfa_enforced_by"] == "security defaults"
        assert "Entra ID P1/P2" in facts["mfa_enforcement_note"]
    assert emu.hits("GET", "/v1.0/users/f0000001-0000-4000-8000-000000000001/"
                    "authentication/methods") == 1


def test_permission_missing_is_a_collection_error_naming_the_permission(emulator, run_collector):
    routes = json.loads(
        (Path(__file__).parents[2] / "fixtures/m365/fabrikam/routes.json").read_text())
    routes["GET /v1.0/roleManagement/directory/roleDefinitions"] = {
        "status": 403, "body": {"error": {"code": "Authorization_RequestDenied",
                                          "message": "Insufficient privileges."}}}
    emu = emulator(routes=routes)
    emu.folder = Path(__file__).parents[2] / "fixtures/m365/fabrikam"
    evidence, errors = run_collector(emu, FABRIKAM, "entra", classify_mailboxes=False)
    assert evidence == []
    [err] = errors
    assert err.origin == f"entra/{FABRIKAM}" and err.kinds == ("identity",)
    assert "RoleManagement.Read.Directory" in err.message and "HTTP 403" in err.message
    assert err.operation == "role-definitions" and err.retryable is False


def test_unlicensed_ca_in_a_premium_tenant_is_an_error_not_an_empty_policy_list(
        emulator, run_collector):
    folder = Path(__file__).parents[2] / "fixtures/m365/contoso"
    routes = json.loads((folder / "routes.json").read_text())
    routes["GET /v1.0/identity/conditionalAccess/policies"] = {
        "status": 403, "body": {"error": {"code": "AccessDenied", "message": "denied"}}}
    emu = emulator(routes=routes)
    emu.folder = folder
    evidence, errors = run_collector(emu, CONTOSO, "entra")
    assert evidence == [] and "Policy.Read.All" in errors[0].message


def _contoso_with_policies(emulator, keep: set[str]):
    folder = Path(__file__).parents[2] / "fixtures/m365/contoso"
    routes = json.loads((folder / "routes.json").read_text())
    page = json.loads((folder / "ca-policies.json").read_text())
    page["value"] = [p for p in page["value"] if p["displayName"][:5] in keep]
    routes["GET /v1.0/identity/conditionalAccess/policies"] = {"body": page}
    emu = emulator(routes=routes)
    emu.folder = folder
    return emu


def test_user_excluded_from_the_only_policy(emulator, run_collector):
    emu = _contoso_with_policies(emulator, {"CA001"})
    ids = by_account(run_collector(emu, CONTOSO, "entra")[0])
    assert ids["alice@contoso.com"]["mfa_enforced"] is True
    assert ids["bob@contoso.com"]["mfa_enforced"] is False  # excluded by id
    assert ids["frank@contoso.com"]["mfa_enforced"] is False  # excluded by group, no CA003 now
    assert ids["bob@contoso.com"]["mfa_report_only_policies"] == []


def test_report_only_policy_enforces_nothing(emulator, run_collector):
    emu = _contoso_with_policies(emulator, {"CA002"})
    ids = by_account(run_collector(emu, CONTOSO, "entra")[0])
    assert {f["mfa_enforced"] for f in ids.values()} == {False}
    assert all(len(f["mfa_report_only_policies"]) == 1 for f in ids.values())

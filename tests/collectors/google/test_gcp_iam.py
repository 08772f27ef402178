"""Privileged Google Cloud principals: inheritance, groups, conditions, custom roles, faults."""

from __future__ import annotations

from google_estate import ORG, routes
from google_helpers import gcp_iam
from google_stub import error

from clausewatch.core.evidence import CollectionError, Evidence

PREFIX = f"gcp:{ORG}:"


def collect(server, raw, **kw):
    items = list(gcp_iam(server, raw, **kw).collect())
    found = {e.subject.removeprefix(PREFIX): e for e in items if isinstance(e, Evidence)}
    errors = [e for e in items if isinstance(e, CollectionError)]
    return found, errors


def test_the_hierarchy_is_walked_over_pages_and_deleted_parts_are_left_out(stub, raw):
    server = stub(routes())
    tree = gcp_iam(server, raw).tree
    assert sorted(n.label for n in tree.projects) == ["prod-a", "prod-b"]  # page 2 after a 503
    assert "folders/234567890123" in tree.nodes and not tree.gaps
    assert sorted(n.label for n in tree.deleting) == [
        "folders/345678901234 (Sandbox (pending delete))", "legacy-b"]
    assert server.hits("GET", "/v3/projects") == 4  # org p1, org p2 (503, retried), folder


def test_a_user_privileged_only_through_a_folder_binding(stub, raw):
    found, _ = collect(stub(routes()), raw)
    frank = found["user:frank@example.com"].facts
    assert frank["privileged"] is True and frank["gcp_projects"] == ["prod-a"]
    assert frank["privileged_reason"] == \
        "roles/editor on folders/234567890123 (Production), inherited by prod-a"
    assert (frank["mfa_registered"], frank["mfa_enforced"]) == (True, False)  # from Directory


def test_a_user_privileged_through_a_nested_group(stub, raw):
    found, _ = collect(stub(routes()), raw)
    bob = found["user:bob@example.com"].facts
    assert bob["privileged"] is True
    assert bob["privileged_reason"].endswith(
        "via group sec-admins@example.com > sec-oncall@example.com")
    assert bob["mfa_enforced"] is False
    erin = found["user:erin@example.com"].facts
    assert erin["privileged_reason"].endswith("via group sec-admins@example.com")
    assert erin["mfa_enforced"] is True and erin["mfa_enforced_by"].startswith("Workspace 2-Step")


def test_an_expired_time_bound_grant_is_not_held_and_a_live_one_is(stub, raw):
    found, _ = collect(stub(routes()), raw)
    assert "user:gina@example.com" not in found  # owner until 2026-01-01 only
    dave = found["user:dave@example.com"].facts
    assert dave["privileged"] is True
    (grant,) = dave["gcp_grants"]
    assert grant["condition"] == "request.time < timestamp('2027-01-01T00:00:00.000Z')"
    assert grant["condition_note"].startswith("until 2027-01-01")


def test_a_custom_role_with_set_iam_policy_is_privileged(stub, raw):
    server = stub(routes())
    found, _ = collect(server, raw)
    (grant,) = found["user:dave@example.com"].facts["gcp_grants"]
    assert grant["role"] == "projects/prod-a/roles/breakGlassAdmin"
    assert grant["why"] == "custom role with resourcemanager.projects.setIamPolicy"
    assert server.hits("GET", "/v1/projects/prod-a/roles/breakGlassAdmin") == 1


def test_a_deleted_principal_is_out_of_scope_and_a_service_account_is_a_service(stub, raw):
    found, _ = collect(stub(routes()), raw)
    assert not [s for s in found if "deleted:" in s or "bob@example.com?uid" in s]
    sa = found["serviceAccount:ci-deployer@prod-a.iam.gserviceaccount.com"].facts
    assert sa["account_type"] == "service" and sa["mfa_enforced"] is None


def test_an_external_user_is_unknown_with_the_reason(stub, raw):
    server = stub(routes())
    found, _ = collect(server, raw)
    mallory = found["user:mallory@gmail.com"].facts
    assert mallory["account"] == "mallory@gmail.com" and mallory["external"] is True
    assert (mallory["mfa_registered"], mallory["mfa_enforced"]) == (None, None)
    assert mallory["mfa_note"].startswith("outside the Workspace domain(s) example.com")
    assert not server.hits("GET", "/admin/directory/v1/users/mallory@gmail.com")


def test_a_suspended_super_admin_holding_owner_is_disabled(stub, raw):
    found, _ = collect(stub(routes()), raw)
    carol = found["user:carol@example.com"].facts
    assert carol["enabled"] is False and carol["privileged"] is True


def test_not_privileged_roles_make_nobody_an_admin(stub, raw):
    found, errors = collect(stub(routes()), raw)
    assert "allUsers" not in found and "allAuthenticatedUsers" not in found  # viewer roles
    assert not [e for e in errors if "domain" in e.origin]  # domain: holds only viewer
    federated = found["principal://iam.googleapis.com/locations/global/workforcePools/"
                      "corp-pool/subject/carol@partner.example"].facts
    assert federated["mfa_enforced"] is None and "identity provider" in federated["mfa_note"]


def test_a_403_on_one_project_is_an_error_there_and_the_others_are_judged(stub, raw):
    found, errors = collect(stub(routes()), raw)
    (err,) = errors
    assert err.origin == f"gcp/{ORG}/prod-b" and err.kinds == ("identity",)
    assert err.details["status"] == 403 and not err.retryable
    assert found["user:alice@example.com"].origin == f"gcp/{ORG}"  # not covered by it
    assert found["user:alice@example.com"].facts["mfa_enforced"] is True


def test_a_group_that_cannot_be_expanded_is_an_error_for_its_unknown_members(stub, raw):
    estate = routes()
    estate["GET /admin/directory/v1/groups/sec-admins@example.com/members"] = error(
        403, "Not Authorized to access this resource/api", "forbidden", legacy=True)
    found, errors = collect(stub(estate), raw)
    assert "user:erin@example.com" not in found
    group_errors = [e for e in errors if e.origin.endswith("/groups/sec-admins@example.com")]
    assert len(group_errors) == 1 and group_errors[0].kinds == ("identity",)


def test_without_a_directory_nobody_gets_2sv_and_groups_are_errors(stub, raw):
    found, errors = collect(stub(routes()), raw, workspace=False)
    assert all(e.facts["mfa_enforced"] is None for e in found.values()
               if e.facts["account_type"] == "member" and e.facts["member_kind"] == "user")
    assert found["user:alice@example.com"].facts["mfa_note"].startswith(
        "no Workspace Directory configured")
    assert any(e.origin.endswith("/groups/sec-admins@example.com") for e in errors)


def test_a_custom_role_that_cannot_be_read_leaves_privilege_unknown(stub, raw):
    estate = routes()
    estate["GET /v1/projects/prod-a/roles/breakGlassAdmin"] = error(403, "denied")
    found, _ = collect(stub(estate), raw)
    dave = found["user:dave@example.com"].facts
    assert dave["privileged"] is None and "could not be read" in dave["privileged_note"]


def test_a_deleted_custom_role_grants_nothing_and_says_so(stub, raw):
    estate = routes()
    role = {"name": "projects/prod-a/roles/breakGlassAdmin", "deleted": True,
            "includedPermissions": ["resourcemanager.projects.setIamPolicy"]}
    estate["GET /v1/projects/prod-a/roles/breakGlassAdmin"] = role
    found, _ = collect(stub(estate), raw)
    assert "user:dave@example.com" not in found

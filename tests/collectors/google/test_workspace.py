"""The Workspace collector: Directory users as identities, over two pages, with admin roles."""

from __future__ import annotations

from google_estate import CUSTOMER, routes
from google_helpers import AS_OF, directory_for, retry_settings
from google_stub import error

from clausewatch.collectors.workspace.collector import WorkspaceCollector
from clausewatch.core.evidence import CollectionError, Evidence


def collect(server, raw, **routes_kw):
    directory = directory_for(server, raw, retry_settings(3))
    return list(WorkspaceCollector(CUSTOMER, directory, AS_OF,
                                   service_accounts=("svc-*@example.com",)).collect())


def by_subject(items):
    return {e.subject: e for e in items if isinstance(e, Evidence)}


def test_users_over_two_pages_after_a_429_become_identities(stub, raw):
    server = stub(routes())
    items = collect(server, raw)
    found = by_subject(items)
    assert not [e for e in items if isinstance(e, CollectionError)]
    assert sorted(found) == ["alice@example.com", "bob@example.com", "carol@example.com",
                             "dave@example.com", "erin@example.com", "frank@example.com",
                             "svc-backup@example.com"]
    assert server.hits("GET", "/admin/directory/v1/users") == 3  # 429, page 1, page 2
    alice = found["alice@example.com"]
    assert alice.origin == f"workspace/{CUSTOMER}" and alice.source == "workspace"
    assert {k: alice.facts[k] for k in ("account", "enabled", "account_type", "privileged",
                                        "mfa_registered", "mfa_enforced")} == {
        "account": "alice@example.com", "enabled": True, "account_type": "member",
        "privileged": True, "mfa_registered": True, "mfa_enforced": True}
    assert alice.facts["privileged_reason"] == "Super Admin"
    assert alice.facts["mfa_enforced_by"] == \
        "Workspace 2-Step Verification enforcement (org unit /)"
    assert found["svc-backup@example.com"].facts["account_type"] == "service"
    assert found["frank@example.com"].facts["privileged"] is False
    assert raw.root is not None and (raw.root / alice.raw_ref.split("#")[0]).is_file()


def test_a_suspended_super_admin_is_privileged_and_disabled(stub, raw):
    carol = by_subject(collect(stub(routes()), raw))["carol@example.com"]
    assert carol.facts["enabled"] is False and carol.facts["suspended"] is True
    assert carol.facts["privileged"] is True
    assert carol.facts["privileged_reason"].startswith("Super Admin")


def test_a_role_held_through_a_nested_group_makes_its_members_privileged(stub, raw):
    bob = by_subject(collect(stub(routes()), raw))["bob@example.com"]
    assert bob.facts["privileged"] is True
    assert "Help Desk Admin (org unit 03ph8a2z1s3ovsg)" in bob.facts["privileged_reason"]
    assert "Security Reviewer via group 03x8tuzt2bhhnue > sec-oncall@example.com" in \
        bob.facts["privileged_reason"]
    assert bob.facts["never_signed_in"] is False and bob.facts["mfa_enforced"] is False


def test_a_later_users_page_that_fails_yields_only_the_error(stub, raw):
    estate = routes()
    estate["GET /admin/directory/v1/users?pageToken=cGFnZS0y"] = error(503, "unavailable")
    items = collect(stub(estate), raw)
    assert [type(i).__name__ for i in items] == ["CollectionError"]
    (err,) = items
    assert err.origin == f"workspace/{CUSTOMER}" and err.kinds == ("identity",)
    assert err.retryable and "users.list" in err.message


def test_unreadable_roles_leave_unflagged_users_of_unknown_privilege(stub, raw):
    estate = routes()
    estate[f"GET /admin/directory/v1/customer/{CUSTOMER}/roles"] = error(
        403, "Not Authorized to access this resource/api", "forbidden", legacy=True)
    found = by_subject(collect(stub(estate), raw))
    assert found["alice@example.com"].facts["privileged"] is True  # isAdmin
    assert found["bob@example.com"].facts["privileged"] is True  # isDelegatedAdmin
    dave = found["dave@example.com"].facts
    assert dave["privileged"] is None and "admin roles could not be read" in \
        dave["privileged_note"]
    assert dave["mfa_enforced"] is True  # 2SV does not depend on the roles


def test_a_user_record_without_2sv_flags_is_unknown_not_compliant(stub, raw):
    estate = routes()
    page = {"users": [{"id": "1", "primaryEmail": "x@example.com", "suspended": False,
                       "isAdmin": False, "isDelegatedAdmin": False}]}
    estate["GET /admin/directory/v1/users"] = page
    (x,) = by_subject(collect(stub(estate), raw)).values()
    assert x.facts["mfa_enforced"] is None and x.facts["mfa_registered"] is None
    assert x.facts["enabled"] is True


def test_a_group_holding_several_roles_is_listed_once():
    """Its members are read once per run, then credited with every role the group holds."""
    from clausewatch.collectors.google.directory import Expansion, Member
    from clausewatch.collectors.workspace.roles import admin_roles

    class Directory:
        expanded: list[str] = []

        def roles(self):
            return [({"roleId": "1", "roleName": "Help Desk"}, "r"),
                    ({"roleId": "2", "roleName": "Groups Admin"}, "r")]

        def role_assignments(self):
            return [({"roleId": role, "assignedTo": "grp1", "assigneeType": "group"}, "a")
                    for role in ("1", "2")]

        def expand(self, key):
            self.expanded.append(key)
            return Expansion(users=[Member("u1", "u1@example.com", "ACTIVE", ("g@example.com",))],
                             raw_refs=["m"])

    directory = Directory()
    roles = admin_roles(directory, AS_OF)  # type: ignore[arg-type]
    assert directory.expanded == ["grp1"]
    assert len(roles.reasons["u1"]) == 2 and roles.known

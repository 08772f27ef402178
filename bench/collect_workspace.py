"""Collection benchmark: Google Workspace, 10,000 users and their admin roles.

The estate (tests/google_stub.py serving Admin SDK Directory v1 as Google pages it): 10,000
users, 20 admin roles, 300 role assignments (250 to users, 50 to 10 groups of 20 users each).
The real collector signs in with a service-account key file by domain-wide delegation (a JWT
grant to the key's ``token_uri``, here the stub). Every request waits ``latency`` seconds.

Documented limits (cited):

* ``users.list``: ``maxResults`` 1-500, default 100 (https://developers.google.com/admin-sdk/
  directory/reference/rest/v1/users/list);
* ``roles.list``: ``maxResults`` 1-100; ``roleAssignments.list``: ``maxResults`` 1-200;
  ``members.list``: ``maxResults`` at most 200 (Directory API reference of each method);
* quota: 2,400 queries a minute per user per project (https://developers.google.com/admin-sdk/
  directory/v1/limits): not reached here. A 403 ``quotaExceeded`` is "the limit for concurrent
  requests for a particular operation", a limit the page does not give: the collector keeps
  one request of a customer in flight (``DIRECTORY_REQUESTS_AT_ONCE``; the stub reports the
  most it saw, stderr) and overlaps its own work with the wait. A list is a chain of page
  tokens: concurrency 1.

Floor = token + user pages (500) + role pages (100) + assignment pages (200) + one members page
per group holding a role (200), at concurrency 1.
"""

from __future__ import annotations

import rest_estates as kit
from collect_common import Figure, floor_seconds
from google_pages import CREDENTIALS, collect, paged

USERS, ROLES, ASSIGNED_USERS, GROUPS, GROUP_SIZE = 10_000, 20, 250, 10, 20
MAX_USERS, MAX_ROLES, MAX_ASSIGNMENTS, MAX_MEMBERS, CONCURRENCY = 500, 100, 200, 200, 1


def routes() -> dict[str, object]:
    from google_estate import CUSTOMER, user

    users = [user(f"user{n:05d}@example.com", f"1{n:020d}", admin=n < 5,
                  enrolled=n % 7 != 0) for n in range(USERS)]
    roles = [{"kind": "admin#directory#role", "roleId": f"9{r:016d}", "roleName": f"Role {r}",
              "isSuperAdminRole": r == 0, "isSystemRole": r < 5,
              "rolePrivileges": [{"privilegeName": "USERS_RETRIEVE",
                                  "serviceId": "00haapch16h1ysv"}]}
             for r in range(ROLES)]
    assignments = [{"kind": "admin#directory#roleAssignment", "roleAssignmentId": f"8{a:016d}",
                    "roleId": f"9{a % ROLES:016d}", "assignedTo": f"1{a * 37 % USERS:020d}",
                    "assigneeType": "user", "scopeType": "CUSTOMER"}
                   for a in range(ASSIGNED_USERS)]
    out: dict[str, object] = {}
    for g in range(GROUPS):
        gid = f"03grp{g:010d}"
        for a in range(5):
            assignments.append({"kind": "admin#directory#roleAssignment",
                                "roleAssignmentId": f"7{g:08d}{a:08d}",
                                "roleId": f"9{a:016d}", "assignedTo": gid,
                                "assigneeType": "group", "scopeType": "CUSTOMER"})
        members = [{"kind": "admin#directory#member", "id": f"1{(g * 100 + m):020d}",
                    "email": f"user{g * 100 + m:05d}@example.com", "role": "MEMBER",
                    "type": "USER", "status": "ACTIVE"} for m in range(GROUP_SIZE)]
        out[f"GET /admin/directory/v1/groups/{gid}/members"] = paged(
            members, "members", "maxResults", MAX_MEMBERS, 200,
            {"kind": "admin#directory#members"})
    out.update({
        "GET /admin/directory/v1/users": paged(users, "users", "maxResults", MAX_USERS, 100,
                                               {"kind": "admin#directory#users"}),
        f"GET /admin/directory/v1/customer/{CUSTOMER}/roles": paged(
            roles, "items", "maxResults", MAX_ROLES, 100, {"kind": "admin#directory#roles"}),
        f"GET /admin/directory/v1/customer/{CUSTOMER}/roleassignments": paged(
            assignments, "items", "maxResults", MAX_ASSIGNMENTS, 100,
            {"kind": "admin#directory#roleAssignments"}),
    })
    return out


def measure(latency: float) -> list[Figure]:
    from google_estate import CUSTOMER

    from clausewatch.collectors.workspace.source import build

    def entry(url: str) -> dict[str, object]:
        return {"name": "bench", "customer": CUSTOMER, "subject": "admin@example.com",
                "credentials": CREDENTIALS, "endpoints": {"admin": url}}

    batch, seconds, requests = collect(routes(), latency, entry, build, "workspace")
    assert len(batch.evidence) == USERS, len(batch.evidence)
    floor_pages = (1 + kit.pages(USERS, MAX_USERS) + kit.pages(ROLES, MAX_ROLES)
                   + kit.pages(ASSIGNED_USERS + 5 * GROUPS, MAX_ASSIGNMENTS) + GROUPS)
    return [Figure("workspace", requests, seconds,
                   floor_seconds(floor_pages, latency, CONCURRENCY))]

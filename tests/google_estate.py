"""A two-project Google Cloud organisation with its Workspace, as Google's APIs would page it.

Organisation 123456789012 (customer C03az79cb, domain example.com), as of 2026-11-22 06:00 UTC:

* folders: Production (page 1 of ``folders.list``), a folder being deleted (page 2);
* projects: ``prod-a`` in Production, ``prod-b`` under the organisation (page 2 of
  ``projects.list`` answers 503 once), ``legacy-b`` being deleted;
* IAM: alice is organisation admin and owner of prod-a; frank is editor on the Production
  folder only; ``group:sec-admins`` (erin, and nested group sec-oncall with bob) is owner of
  the folder; dave holds a custom role with ``setIamPolicy`` until 2027; gina's owner grant
  expired in January; carol (a suspended super admin) is owner of prod-a; mallory@gmail.com
  (external) is editor; a deleted principal, a service account, a workforce identity;
  prod-b's policy answers 403;
* Directory: users over two pages (the first call throttled with a 429), admin roles;
* VMs of prod-a: web-1 (critical CVE detected 10 days ago), app-2 (critical CVE detected 2
  days ago), legacy-1 (no OS Config agent), stale-1 (inventory 12 days old), win-app-01
  (Windows update released 10 days ago fixing a critical CVE), batch-old (TERMINATED); zone
  asia-east1-a unreachable. prod-b: api-1, whose zone's OS Config answers 403.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from google_stub import error, fixture

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
ORG = "123456789012"
CUSTOMER = "C03az79cb"
FOLDER = "folders/234567890123"


def ts(days: float) -> str:
    """An RFC 3339 instant ``days`` before AS_OF."""
    return (AS_OF - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def user(email: str, uid: str, *, admin: bool = False, delegated: bool = False,
         enrolled: bool = True, enforced: bool = True, suspended: bool = False,
         ou: str = "/") -> dict[str, Any]:
    first = email.split("@")[0]
    doc: dict[str, Any] = {
        "kind": "admin#directory#user", "id": uid, "primaryEmail": email,
        "name": {"givenName": first.title(), "familyName": "Example",
                 "fullName": f"{first.title()} Example"},
        "isAdmin": admin, "isDelegatedAdmin": delegated, "lastLoginTime": ts(1),
        "creationTime": "2021-03-01T10:00:00.000Z", "suspended": suspended, "archived": False,
        "customerId": CUSTOMER, "orgUnitPath": ou, "isEnrolledIn2Sv": enrolled,
        "isEnforcedIn2Sv": enforced,
    }
    if suspended:
        doc["suspensionReason"] = "ADMIN"
    return doc


USERS = {
    "alice@example.com": user("alice@example.com", "104583901234567890123", admin=True),
    "bob@example.com": user("bob@example.com", "104583901234567890456", delegated=True,
                            enrolled=False, enforced=False, ou="/Sales"),
    "carol@example.com": user("carol@example.com", "104583901234567890789", admin=True,
                              suspended=True, enforced=False, ou="/Leavers"),
    "dave@example.com": user("dave@example.com", "104583901234567890111"),
    "erin@example.com": user("erin@example.com", "104583901234567890222"),
    "frank@example.com": user("frank@example.com", "104583901234567890333", enrolled=True,
                              enforced=False),
    "svc-backup@example.com": user("svc-backup@example.com", "104583901234567890444",
                                   enrolled=False, enforced=False),
}


def policy(*bindings: dict[str, Any]) -> dict[str, Any]:
    return {"version": 3, "etag": "BwWWja0YfJA=", "bindings": list(bindings)}


def binding(role: str, *members: str, expression: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"role": role, "members": list(members)}
    if expression:
        out["condition"] = {"title": "temporary", "expression": expression}
    return out


def instance(name: str, iid: str, zone: str, status: str = "RUNNING",
             labels: dict[str, str] | None = None, project: str = "prod-a") -> dict[str, Any]:
    base = f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{zone}"
    return {"kind": "compute#instance", "id": iid, "name": name, "status": status,
            "zone": base, "machineType": f"{base}/machineTypes/e2-medium",
            "selfLink": f"{base}/instances/{name}",
            "creationTimestamp": "2024-03-05T02:11:37.615-08:00",
            "labels": labels if labels is not None else {"env": "prod"},
            "metadata": {"items": [{"key": "enable-osconfig", "value": "TRUE"}]}}


def apt(name: str, version: str, kind: str, seen: str) -> tuple[str, dict[str, Any]]:
    key = f"{'availablePackage' if kind == 'available' else 'installedPackage'}-" \
          f"{name}:amd64:{version}"
    field = "availablePackage" if kind == "available" else "installedPackage"
    return key, {"id": key, "originType": "INVENTORY_REPORT", "createTime": seen,
                 "updateTime": ts(0.1),
                 "type": "AVAILABLE_PACKAGE" if kind == "available" else "INSTALLED_PACKAGE",
                 field: {"aptPackage": {"packageName": name, "architecture": "amd64",
                                        "version": version}}}


def debian_inventory(iid: str, zone: str, updated: str,
                     items: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"projects/415104041262/locations/{zone}/instances/{iid}/inventory",
            "osInfo": {"hostname": iid, "longName": "Debian GNU/Linux 12 (bookworm)",
                       "shortName": "debian", "version": "12",
                       "osconfigAgentVersion": "20241029.00-g1"},
            "items": items, "updateTime": updated}


def vulnerability(cve: str, severity: str, score: float, installed: str, available: str,
                  detected: str) -> dict[str, Any]:
    return {"details": {"cve": cve, "cvssV3": {"baseScore": score}, "severity": severity,
                        "description": f"{cve} test"},
            "installedInventoryItemIds": [installed], "availableInventoryItemIds": [available],
            "createTime": detected, "updateTime": ts(0.1)}


def report(iid: str, zone: str, updated: str, *vulns: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"projects/415104041262/locations/{zone}/instances/{iid}/"
                    "vulnerabilityReport",
            "vulnerabilities": list(vulns), "updateTime": updated}


def osconfig_zone_a() -> tuple[dict[str, Any], dict[str, Any]]:
    zone = "us-central1-a"
    ssl_old = apt("openssl", "3.0.15-1~deb12u1", "installed", "2024-10-29T10:00:00Z")
    ssl_new = apt("openssl", "3.0.17-1~deb12u2", "available", ts(10))
    curl_old = apt("curl", "7.88.1-10", "installed", "2024-10-29T10:00:00Z")
    curl_new = apt("curl", "7.88.1-10+deb12u9", "available", ts(2))
    vim_new = apt("vim", "2:9.0.1378-2+deb12u2", "available", ts(3))
    web = debian_inventory("4567890123456789012", zone, ts(0.1),
                           dict([ssl_old, ssl_new, vim_new]))
    app = debian_inventory("4567890123456789013", zone, ts(0.1), dict([curl_old, curl_new]))
    stale = debian_inventory("4567890123456789015", zone, ts(12), dict([ssl_old, ssl_new]))
    inventories = {"inventories": [web, app, stale], "nextPageToken": ""}
    reports = {"vulnerabilityReports": [
        report("4567890123456789012", zone, ts(0.1),
               vulnerability("CVE-2026-1001", "CRITICAL", 9.8, ssl_old[0], ssl_new[0], ts(10))),
        report("4567890123456789013", zone, ts(0.1),
               vulnerability("CVE-2026-1002", "CRITICAL", 9.1, curl_old[0], curl_new[0], ts(2))),
        report("4567890123456789015", zone, ts(12),
               vulnerability("CVE-2026-1001", "CRITICAL", 9.8, ssl_old[0], ssl_new[0], ts(12))),
    ]}
    return inventories, reports


def osconfig_zone_b() -> tuple[dict[str, Any], dict[str, Any]]:
    inv = fixture("osconfig_inventories_list_full.json")["inventories"][1]  # win-app-01
    inv = {**inv, "name": inv["name"].replace("us-central1-a", "europe-west1-b"),
           "updateTime": ts(0.2)}
    wua_key = "availablePackage-2f9a3b58-1111-4c4e-9d2a-000000000000"
    wua = inv["items"][wua_key]
    wua["availablePackage"]["wuaPackage"]["lastDeploymentChangeTime"] = ts(10)
    wua["createTime"] = ts(9)
    vuln = {"details": {"cve": "CVE-2026-2001", "severity": "CRITICAL",
                        "cvssV3": {"baseScore": 9.8}},
            "installedInventoryItemIds": [], "availableInventoryItemIds": [wua_key],
            "createTime": ts(9), "updateTime": ts(0.2)}
    rep = {"name": inv["name"].replace("/inventory", "/vulnerabilityReport"),
           "vulnerabilities": [vuln], "updateTime": ts(0.2)}
    return {"inventories": [inv]}, {"vulnerabilityReports": [rep]}


def routes() -> dict[str, Any]:
    users_page1 = {"kind": "admin#directory#users",
                   "users": [USERS[e] for e in ("alice@example.com", "bob@example.com",
                                                "carol@example.com")],
                   "nextPageToken": "cGFnZS0y"}
    users_page2 = {"kind": "admin#directory#users",
                   "users": [USERS[e] for e in ("dave@example.com", "erin@example.com",
                                                "frank@example.com", "svc-backup@example.com")]}
    folders1 = fixture("crm_v3_folders_list_page1.json")
    projects_org1 = {"projects": [
        {"name": "projects/528741963014", "parent": f"organizations/{ORG}",
         "projectId": "legacy-b", "state": "DELETE_REQUESTED", "displayName": "Legacy B"}],
        "nextPageToken": "b3JnLXByb2plY3RzLTI"}
    projects_org2 = {"projects": [
        {"name": "projects/639852074125", "parent": f"organizations/{ORG}",
         "projectId": "prod-b", "state": "ACTIVE", "displayName": "Prod B",
         "labels": {"env": "prod"}}]}
    prod_a = {"projects": [fixture("crm_v3_projects_search_page1.json")["projects"][0]]}
    inv_a, rep_a = osconfig_zone_a()
    inv_b, rep_b = osconfig_zone_b()
    sec_admins = {"kind": "admin#directory#members", "members": [
        {"kind": "admin#directory#member", "id": "104583901234567890222",
         "email": "erin@example.com", "role": "MEMBER", "type": "USER", "status": "ACTIVE"},
        {"kind": "admin#directory#member", "id": "02grqrue2ho3nzy",
         "email": "sec-oncall@example.com", "role": "MEMBER", "type": "GROUP",
         "status": "ACTIVE"}]}
    compute_a1 = {
        "kind": "compute#instanceAggregatedList",
        "items": {
            "zones/us-central1-a": {"instances": [
                instance("web-1", "4567890123456789012", "us-central1-a"),
                instance("app-2", "4567890123456789013", "us-central1-a"),
                instance("batch-old", "4567890123456789999", "us-central1-a",
                         status="TERMINATED")]},
            "zones/asia-east1-a": {"warning": {
                "code": "UNREACHABLE", "message": "Scope 'zones/asia-east1-a' is unreachable.",
                "data": [{"key": "scope", "value": "zones/asia-east1-a"}]}},
        },
        "unreachables": ["zones/asia-east1-a"],
        "nextPageToken": "Y29tcHV0ZS1wYWdlLTI",
    }
    compute_a2 = {"kind": "compute#instanceAggregatedList", "items": {
        "zones/us-central1-a": {"instances": [
            instance("legacy-1", "4567890123456789014", "us-central1-a"),
            instance("stale-1", "4567890123456789015", "us-central1-a")]},
        "zones/europe-west1-b": {"instances": [
            instance("win-app-01", "7890123456789012345", "europe-west1-b", status="SUSPENDED",
                     labels={"env": "prod", "os": "windows"})]}}}
    compute_b = {"kind": "compute#instanceAggregatedList", "items": {
        "zones/us-central1-b": {"instances": [
            instance("api-1", "5678901234567890123", "us-central1-b", project="prod-b")]}}}
    denied = error(403, "The caller does not have permission")
    return {
        # Resource Manager
        f"GET /v3/organizations/{ORG}": fixture("crm_v3_organizations_search.json")[
            "organizations"][0],
        f"GET /v3/folders?parent=organizations/{ORG}": folders1,
        f"GET /v3/folders?parent=organizations/{ORG}&pageToken=Zm9sZGVycy1wYWdlLTI":
            "crm_v3_folders_list_page2.json",
        f"GET /v3/folders?parent={FOLDER}": {"folders": []},
        f"GET /v3/projects?parent=organizations/{ORG}": projects_org1,
        f"GET /v3/projects?parent=organizations/{ORG}&pageToken=b3JnLXByb2plY3RzLTI": [
            error(503, "The service is currently unavailable."), projects_org2],
        f"GET /v3/projects?parent={FOLDER}": prod_a,
        f"POST /v3/organizations/{ORG}:getIamPolicy": policy(
            binding("roles/resourcemanager.organizationAdmin", "user:alice@example.com"),
            binding("roles/viewer", "domain:example.com", "allAuthenticatedUsers")),
        f"POST /v3/{FOLDER}:getIamPolicy": policy(
            binding("roles/editor", "user:frank@example.com"),
            binding("roles/owner", "group:sec-admins@example.com")),
        "POST /v3/projects/prod-a:getIamPolicy": policy(
            binding("roles/owner", "user:alice@example.com", "user:carol@example.com",
                    "serviceAccount:ci-deployer@prod-a.iam.gserviceaccount.com"),
            binding("roles/editor", "user:Mallory@gmail.com",
                    "deleted:user:bob@example.com?uid=123456789012345678901",
                    "principal://iam.googleapis.com/locations/global/workforcePools/corp-pool/"
                    "subject/carol@partner.example"),
            binding("projects/prod-a/roles/breakGlassAdmin", "user:dave@example.com",
                    expression="request.time < timestamp('2027-01-01T00:00:00.000Z')"),
            binding("roles/owner", "user:gina@example.com",
                    expression='request.time < timestamp("2026-01-01T00:00:00Z")'),
            binding("roles/storage.objectViewer", "allUsers")),
        "POST /v3/projects/prod-b:getIamPolicy": denied,
        # IAM custom role
        "GET /v1/projects/prod-a/roles/breakGlassAdmin": "iam_v1_projects_roles_get_custom.json",
        # Directory
        "GET /admin/directory/v1/users": [
            fixture_error(429, "Rate limit exceeded.", "rateLimitExceeded"), users_page1],
        "GET /admin/directory/v1/users?pageToken=cGFnZS0y": users_page2,
        **{f"GET /admin/directory/v1/users/{e}": doc for e, doc in USERS.items()},
        f"GET /admin/directory/v1/customer/{CUSTOMER}/roles": "admin_directory_roles_list.json",
        f"GET /admin/directory/v1/customer/{CUSTOMER}/roleassignments":
            "admin_directory_roleassignments_list.json",
        "GET /admin/directory/v1/groups/03x8tuzt2bhhnue/members":
            "admin_directory_members_list_sec-reviewers.json",
        "GET /admin/directory/v1/groups/02grqrue2ho3nzy/members":
            "admin_directory_members_list_sec-oncall.json",
        "GET /admin/directory/v1/groups/sec-admins@example.com/members": sec_admins,
        # Compute Engine and OS Config
        "GET /compute/v1/projects/prod-a/aggregated/instances": compute_a1,
        "GET /compute/v1/projects/prod-a/aggregated/instances?pageToken=Y29tcHV0ZS1wYWdlLTI":
            compute_a2,
        "GET /compute/v1/projects/prod-b/aggregated/instances": compute_b,
        "GET /v1/projects/prod-a/locations/us-central1-a/instances/-/inventories": inv_a,
        "GET /v1/projects/prod-a/locations/us-central1-a/instances/-/vulnerabilityReports":
            rep_a,
        "GET /v1/projects/prod-a/locations/europe-west1-b/instances/-/inventories": inv_b,
        "GET /v1/projects/prod-a/locations/europe-west1-b/instances/-/vulnerabilityReports":
            rep_b,
        "GET /v1/projects/prod-b/locations/us-central1-b/instances/-/inventories": denied,
    }


def fixture_error(status: int, message: str, reason: str) -> tuple[int, dict[str, Any]]:
    return error(status, message, reason, legacy=True)


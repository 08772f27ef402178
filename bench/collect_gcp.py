"""Collection benchmark: Google Cloud, 20 projects x 500 VMs with OS Config data, and IAM.

The estate (tests/google_stub.py serving Resource Manager v3, Compute Engine v1 and OS Config
v1 as Google pages them): an organisation with 20 projects; each project has 500 VMs in two
zones (250 each), every VM with an OS Config inventory (an installed and an available package)
and a vulnerability report (one CVE fixed by the available package); IAM policies on the
organisation and each project. The real client libraries talk to the stub (REST transport,
self-signed JWT: no token request). Every request waits ``latency`` seconds.

Documented limits (cited):

* ``folders.list`` / ``projects.list`` (v3): ``pageSize`` at most 1000
  (https://cloud.google.com/resource-manager/reference/rest/v3/projects/list);
* ``instances.aggregatedList``: ``maxResults`` 0-500, default 500
  (https://cloud.google.com/compute/docs/reference/rest/v1/instances/aggregatedList);
* OS Config ``inventories.list`` / ``vulnerabilityReports.list`` (per zone, ``instances/-``):
  ``pageSize`` "the maximum number of results to return", no maximum documented
  (https://cloud.google.com/compute/docs/osconfig/rest/v1/projects.locations.instances.
  inventories/list); the collector asks 100 and the stub serves at most 100: the floor uses 100;
* quotas are per minute (Resource Manager, Compute read requests, OS Config; "Google enforces
  rate quotas at a per-minute interval", https://cloud.google.com/compute/api-quota): no
  concurrency limit is documented. An entry keeps at most 8 requests in flight
  (``RetrySettings.gate``, ``REQUESTS_AT_ONCE``: as many as the collectors a run reads at once,
  collectors/runner.py ``collect_all(workers=8)``); a project's zones are read together within
  that bound. The floor uses concurrency 8 after the hierarchy (3 requests in a row); the stub
  reports the most requests it had in flight (stderr).

Floor = 3 (organisation, folders, projects) + [organisation and project policies + per project
(1 aggregated page + per zone 3 inventory and 3 report pages)] / 8.
"""

from __future__ import annotations

import rest_estates as kit
from collect_common import Figure, floor_seconds
from google_pages import CREDENTIALS, collect, paged

PROJECTS, ZONES, VMS_PER_ZONE = 20, ("us-central1-a", "europe-west1-b"), 250
OSCONFIG_PAGE, WORKERS = 100, 8


def routes() -> dict[str, object]:
    from google_estate import (
        ORG,
        apt,
        binding,
        debian_inventory,
        instance,
        policy,
        report,
        ts,
        vulnerability,
    )

    projects = [{"name": f"projects/{700000000000 + p}", "parent": f"organizations/{ORG}",
                 "projectId": f"bench-{p:02d}", "state": "ACTIVE",
                 "displayName": f"Bench {p:02d}", "labels": {"env": "prod"}}
                for p in range(PROJECTS)]
    out: dict[str, object] = {
        f"GET /v3/organizations/{ORG}": {"name": f"organizations/{ORG}",
                                         "displayName": "example.com", "state": "ACTIVE",
                                         "directoryCustomerId": "C03az79cb"},
        f"GET /v3/folders?parent=organizations/{ORG}": {"folders": []},
        f"GET /v3/projects?parent=organizations/{ORG}": paged(
            projects, "projects", "pageSize", 1000, 50),
        f"POST /v3/organizations/{ORG}:getIamPolicy": policy(
            binding("roles/resourcemanager.organizationAdmin", "user:alice@example.com")),
    }
    installed = apt("openssl", "3.0.15-1~deb12u1", "installed", "2024-10-29T10:00:00Z")
    available = apt("openssl", "3.0.17-1~deb12u2", "available", ts(10))
    for p in range(PROJECTS):
        pid = f"bench-{p:02d}"
        out[f"POST /v3/projects/{pid}:getIamPolicy"] = policy(
            binding("roles/owner", "user:alice@example.com"),
            binding("roles/viewer", f"serviceAccount:ci@{pid}.iam.gserviceaccount.com"))
        items: dict[str, object] = {}
        for z, zone in enumerate(ZONES):
            ids = [f"{p + 1}{z}{v:06d}" for v in range(VMS_PER_ZONE)]
            items[f"zones/{zone}"] = {"instances": [
                instance(f"vm-{z}-{v:04d}", iid, zone, project=pid)
                for v, iid in enumerate(ids)]}
            inventories = [debian_inventory(iid, zone, ts(0.1), dict([installed, available]))
                           for iid in ids]
            reports = [report(iid, zone, ts(0.1), vulnerability(
                "CVE-2026-1001", "CRITICAL", 9.8, installed[0], available[0], ts(10)))
                for iid in ids]
            base = f"GET /v1/projects/{pid}/locations/{zone}/instances/-"
            out[f"{base}/inventories"] = paged(inventories, "inventories", "pageSize",
                                               OSCONFIG_PAGE, 25)
            out[f"{base}/vulnerabilityReports"] = paged(reports, "vulnerabilityReports",
                                                        "pageSize", OSCONFIG_PAGE, 25)
        out[f"GET /compute/v1/projects/{pid}/aggregated/instances"] = {
            "kind": "compute#instanceAggregatedList", "items": items}
    return out


def measure(latency: float) -> list[Figure]:
    from google_estate import ORG

    from clausewatch.collectors.gcp.source import build

    def entry(url: str) -> dict[str, object]:
        return {"name": "bench", "organization_id": ORG, "credentials": CREDENTIALS,
                "endpoints": {api: url for api in
                              ("cloudresourcemanager", "iam", "compute", "osconfig")}}

    batch, seconds, requests = collect(routes(), latency, entry, build, "gcp")
    vms = PROJECTS * len(ZONES) * VMS_PER_ZONE
    per_project = 1 + len(ZONES) * 2 * kit.pages(VMS_PER_ZONE, OSCONFIG_PAGE)
    parallel = 1 + PROJECTS + PROJECTS * per_project
    floor = floor_seconds(3, latency, 1) + floor_seconds(parallel, latency, WORKERS)
    assert sum(1 for e in batch.evidence if e.kind == "asset") == vms
    return [Figure("gcp", requests, seconds, floor)]

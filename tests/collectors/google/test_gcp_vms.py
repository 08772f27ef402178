"""VMs and OS Config: assets, patch records, the two clocks, and what leaves no evidence."""

from __future__ import annotations

from datetime import timedelta

from google_estate import AS_OF, ORG, routes
from google_helpers import vm_collector

from clausewatch.core.evidence import CollectionError, Evidence

PROD_A = f"gcp/{ORG}/prod-a"


def collect(server, raw, project="prod-a"):
    items = list(vm_collector(server, raw, project).collect())
    assets = {e.facts["name"]: e for e in items if isinstance(e, Evidence) and e.kind == "asset"}
    patches = [e for e in items if isinstance(e, Evidence) and e.kind == "patch"]
    errors = [e for e in items if isinstance(e, CollectionError)]
    return assets, patches, errors


def test_every_vm_but_a_terminated_one_is_an_asset(stub, raw):
    assets, _, _ = collect(stub(routes()), raw)
    assert sorted(assets) == ["app-2", "legacy-1", "stale-1", "web-1", "win-app-01"]
    web = assets["web-1"]
    assert web.subject == ("//compute.googleapis.com/projects/prod-a/zones/us-central1-a/"
                           "instances/web-1")
    assert web.origin == f"{PROD_A}/us-central1-a" and web.source == "gcp.compute"
    assert web.facts["tags"] == {"customer": "acme", "env": "prod"}
    assert (web.facts["gcp_status"], web.facts["gcp_zone"], web.facts["instance_id"]) == (
        "RUNNING", "us-central1-a", "4567890123456789012")
    assert web.facts["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert assets["win-app-01"].facts["gcp_status"] == "SUSPENDED"  # kept: it resumes as left


def test_an_unreachable_zone_is_an_error_for_its_unknown_vms(stub, raw):
    _, _, errors = collect(stub(routes()), raw)
    (err,) = errors
    assert err.origin == f"{PROD_A}/asia-east1-a" and err.kinds == ("asset", "patch")


def test_a_vm_without_the_agent_has_no_patch_data_and_says_why(stub, raw):
    assets, patches, _ = collect(stub(routes()), raw)
    legacy = assets["legacy-1"].facts
    assert legacy["patch_assessed_at"] is None and legacy["osconfig_agent"] is False
    assert legacy["patch_data_note"].startswith("no OS Config inventory")
    assert not [p for p in patches if p.subject == assets["legacy-1"].subject]


def test_a_stale_inventory_dates_the_patch_data(stub, raw):
    assets, patches, _ = collect(stub(routes()), raw)
    stale = assets["stale-1"]
    assert stale.facts["patch_assessed_at"] == AS_OF - timedelta(days=12)
    (patch,) = [p for p in patches if p.subject == stale.subject]
    assert patch.observed_at == AS_OF - timedelta(days=12)  # not the run's clock


def test_linux_updates_carry_the_detection_clock_and_the_cve_severity(stub, raw):
    server = stub(routes())
    assets, patches, _ = collect(server, raw)
    inventories = [r for r in server.requests if r["path"].endswith("/instances/-/inventories")]
    assert inventories and all(r["query"]["view"] == ["FULL"] for r in inventories)
    (web,) = [p for p in patches if p.subject == assets["web-1"].subject]
    assert {k: web.facts[k] for k in ("update_id", "severity", "state", "released_at",
                                      "cves")} == {
        "update_id": "openssl 3.0.17-1~deb12u2", "severity": "critical", "state": "missing",
        "released_at": None, "cves": ["CVE-2026-1001"]}
    assert web.facts["first_seen_at"] == AS_OF - timedelta(days=10)  # Vulnerability.createTime
    assert assets["web-1"].facts["other_available_updates"] == 1  # vim: no CVE, no record


def test_windows_updates_carry_the_release_clock(stub, raw):
    assets, patches, _ = collect(stub(routes()), raw)
    (kb,) = [p for p in patches if p.subject == assets["win-app-01"].subject]
    assert kb.facts["update_id"] == "KB5046616" and kb.facts["severity"] == "critical"
    assert kb.facts["released_at"] == AS_OF - timedelta(days=10)  # lastDeploymentChangeTime
    assert kb.facts["first_seen_at"] == AS_OF - timedelta(days=9)  # Vulnerability.createTime
    assert kb.facts["classification"] == "Security Updates"


def test_an_os_config_403_in_a_zone_covers_exactly_its_vms(stub, raw):
    assets, patches, errors = collect(stub(routes()), raw, project="prod-b")
    (err,) = errors
    assert err.origin == f"gcp/{ORG}/prod-b/us-central1-b" and err.kinds == ("patch",)
    api = assets["api-1"]
    assert api.origin == err.origin and api.facts["patch_assessed_at"] is None
    assert not patches


def test_a_compute_failure_is_an_error_for_the_project(stub, raw):
    estate = routes()
    estate["GET /compute/v1/projects/prod-a/aggregated/instances?pageToken=Y29tcHV0ZS1wYWdlLTI"] \
        = (403, {"error": {"code": 403, "message": "Required 'compute.instances.list' "
                           "permission", "errors": [{"reason": "forbidden",
                                                     "domain": "global", "message": "x"}]}})
    assets, patches, errors = collect(stub(estate), raw)
    assert not assets and not patches  # page 1's VMs are not reported as all there is
    (err,) = errors
    assert err.origin == PROD_A and err.kinds == ("asset", "patch")
    assert err.details["reason"] == "forbidden"

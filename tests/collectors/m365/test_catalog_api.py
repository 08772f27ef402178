"""The Windows Update catalog read through msgraph-core on /beta, without the beta SDK."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory

from clausewatch.collectors.m365.catalog_api import (
    CatalogEntry,
    CatalogEntryCollectionResponse,
    QualityUpdateCatalogEntry,
)
from clausewatch.collectors.m365.windows_updates import CATALOG_FILTER, QUALITY

CONTOSO = "11111111-1111-1111-1111-111111111111"
FOLDER = Path(__file__).parents[2] / "fixtures/m365/contoso"
CATALOG = "/beta/admin/windows/updates/catalog/entries"


def test_catalog_call_carries_the_odata_query_token_and_raw_page(emulator, run_collector,
                                                                  context):
    emu = emulator("contoso")
    evidence, errors = run_collector(emu, CONTOSO, "intune")
    assert errors == []
    first, second = [r for r in emu.requests if r["path"] == CATALOG]
    assert first["query"] == {"$filter": [CATALOG_FILTER],
                              "$expand": [f"{QUALITY}/productRevisions"],
                              "$orderby": ["releaseDateTime desc"]}
    assert first["headers"]["authorization"] == "Bearer test-token-not-a-secret"
    assert second["query"] == {"$skiptoken": ["Q0FUMg"]}  # the @odata.nextLink, as given

    dec = next(e for e in evidence if e.kind == "patch" and e.facts["update_id"] == "KB5048685")
    path, _, digest = dec.raw_ref.partition("#sha256=")
    assert path == f"raw/intune/intune/{CONTOSO}/update-catalog-0001.json" and digest
    page = json.loads((context.raw.root / path).read_text())
    assert page["value"][0]["id"] == dec.facts["catalog_entry_id"]
    assert not [m for m in sys.modules if m.split(".")[0] == "msgraph_beta"]


def test_throttled_catalog_goes_through_the_bounded_retry_handler(emulator, run_collector):
    routes = json.loads((FOLDER / "routes.json").read_text())
    routes[f"GET {CATALOG}"] = [
        {"status": 429, "headers": {"Retry-After": "0.05"},
         "body": {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}},
        "catalog-1.json"]
    emu = emulator(routes=routes)
    emu.folder = FOLDER
    evidence, errors = run_collector(emu, CONTOSO, "intune")
    assert errors == [] and any(e.kind == "patch" for e in evidence)
    calls = [r for r in emu.requests if r["path"] == CATALOG]
    assert len(calls) == 3  # page 1 throttled then served, page 2
    assert calls[1]["headers"]["retry-attempt"] == "1"
    assert calls[1]["at"] - calls[0]["at"] >= 0.05


def test_entries_parse_by_odata_type():
    body = (FOLDER / "catalog-1.json").read_text().replace("{base}", "http://127.0.0.1:1")
    node = JsonParseNodeFactory().get_root_parse_node("application/json", body.encode())
    page = node.get_object_value(CatalogEntryCollectionResponse)
    assert page.odata_next_link.endswith("?$skiptoken=Q0FUMg")
    security, non_security, feature = page.value
    assert isinstance(security, QualityUpdateCatalogEntry)
    assert security.quality_update_classification == "security"
    assert security.is_expeditable is True
    assert security.release_date_time == datetime(2024, 12, 10, tzinfo=UTC)
    assert security.cve_severity_information.max_severity == "critical"
    assert [c.number for c in security.cve_severity_information.exploited_cves] == [
        "CVE-2024-49138"]
    rev = security.product_revisions[0]
    assert (rev.id, rev.product, rev.version) == ("10.0.22631.4602", "Windows 11", "23H2")
    assert rev.knowledge_base_article.id == "KB5048685"
    assert (rev.os_build.build_number, rev.os_build.update_build_revision) == (22631, 4602)
    assert non_security.quality_update_classification == "nonSecurity"
    assert type(feature) is CatalogEntry  # other entry types: base class, fields kept aside
    assert feature.additional_data["buildNumber"] == "26100"

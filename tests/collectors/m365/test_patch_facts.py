"""Intune's patch facts worked out once per OS version (``intune.PatchFacts``): the records are
those the update states spell, each with its own lists."""

from __future__ import annotations

from datetime import UTC, datetime

from m365_routes import CONTOSO

from clausewatch.collectors.m365.intune import Device, IntuneCollector, PatchFacts
from clausewatch.collectors.m365.windows_updates import Revision, SecurityUpdate, assess
from clausewatch.collectors.raw import RawRecorder


def _catalog() -> list[SecurityUpdate]:
    released = datetime(2024, 11, 12, tzinfo=UTC)
    return [SecurityUpdate(f"cat-{m}", f"2024-{m} Security Update", released, "critical",
                           ("CVE-2024-1",), (Revision(22631, 4300 + m * 100,
                                                      f"10.0.22631.{4300 + m * 100}", f"KB{m}",
                                                      "Windows", "23H2"),),
                           f"raw/intune/catalog-{m}.json#sha256=00")
            for m in (1, 2, 3)]


def _device(n: int, version: str) -> Device:
    return Device(f"dev-{n}", f"PC-{n}", "Windows", version,
                  datetime(2025, 1, 19, tzinfo=UTC), "compliant", "company", "mdm", None,
                  None, None)


def test_patch_records_of_devices_on_one_build_are_those_of_the_update_states(tmp_path):
    catalog = _catalog()
    patches = PatchFacts(catalog)
    collector = IntuneCollector(tenant_id=CONTOSO, client=None, beta=None,  # type: ignore[arg-type]
                                raw=RawRecorder(tmp_path, lambda x: x),
                                observed_at=datetime(2025, 1, 20, tzinfo=UTC))
    records = [collector._records(_device(n, "10.0.22631.4450"), f"raw/dev-{n}.json", catalog,
                                  patches) for n in (1, 2)]
    assert patches.of("10.0.22631.4450") is patches.of("10.0.22631.4450")  # worked out once
    assert patches.of("10.0.19045.1") is None and patches.of(None) is None
    for n, (asset, *found) in zip((1, 2), records, strict=True):
        assert asset.kind == "asset" and asset.facts["patch_assessed_at"] is not None
        expected = [{  # the facts as each record spelled them before PatchFacts
            "update_id": s.revision.kb or s.update.entry_id, "kb": s.revision.kb,
            "severity": s.update.severity, "state": s.state,
            "released_at": s.update.released_at, "classification": "security",
            "title": s.update.title, "cves": list(s.update.cves),
            "build": s.revision.revision_id, "catalog_entry_id": s.update.entry_id,
            "raw_pages": [f"raw/dev-{n}.json", s.update.raw_ref],
        } for s in assess("10.0.22631.4450", catalog) or []]
        assert [dict(p.facts) for p in found] == expected
        assert [list(p.facts) for p in found] == [list(e) for e in expected]  # same key order
        assert [p.facts["state"] for p in found] == ["installed", "missing", "missing"]
    first, second = records[0][1].facts, records[1][1].facts
    assert first["cves"] is not second["cves"]  # each record its own list
    assert first["raw_pages"] is not second["raw_pages"]

"""Map a Windows build to the security quality updates it lacks (Windows Update catalog, beta).

``GET /beta/admin/windows/updates/catalog/entries`` lists quality update catalog entries, each
with its release date, CVE severity and the product revisions (full builds such as
``10.0.22631.4317``, KB article) it produced. Quality updates are cumulative: a device whose
build ``22631`` is at revision ``4317`` has every security update of build 22631 whose revision
is ``<= 4317`` and lacks every one above it. Only ``security`` entries count; feature, driver,
recovery and non-security entries are filtered out on the server and checked again here. The
request and its models are declared in ``catalog_api`` (no beta SDK is installed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kiota_abstractions.request_adapter import RequestAdapter

from clausewatch.collectors.m365.catalog_api import (
    CatalogEntriesRequestBuilder,
    QualityUpdateCatalogEntry,
)
from clausewatch.collectors.m365.graph import GraphReader
from clausewatch.core.clock import require_utc

QUALITY = "microsoft.graph.windowsUpdates.qualityUpdateCatalogEntry"
CATALOG_FILTER = (f"isof('{QUALITY}') and {QUALITY}/qualityUpdateClassification eq 'security'")
#: cveSeverityLevel members (beta); anything else (unknownFutureValue, absent) is "unrated"
SEVERITIES = frozenset({"critical", "important", "moderate"})
_BUILD = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True, slots=True)
class Revision:
    build: int
    ubr: int
    revision_id: str  # the full build string, e.g. 10.0.22631.4317
    kb: str | None
    product: str | None
    version: str | None


@dataclass(frozen=True, slots=True)
class SecurityUpdate:
    """One monthly (or out-of-band) security quality update and the builds it produced."""

    entry_id: str
    title: str
    released_at: datetime | None
    severity: str
    cves: tuple[str, ...]
    revisions: tuple[Revision, ...]
    raw_ref: str

    def revision_for(self, build: int) -> Revision | None:
        return next((r for r in self.revisions if r.build == build), None)


@dataclass(frozen=True, slots=True)
class UpdateState:
    update: SecurityUpdate
    revision: Revision
    state: str  # "missing" | "installed"


def parse_build(os_version: str | None) -> tuple[int, int] | None:
    """``10.0.22631.4317`` -> (22631, 4317); None for anything else."""
    m = _BUILD.match((os_version or "").strip())
    return (int(m.group(3)), int(m.group(4))) if m else None


async def security_updates(beta: RequestAdapter, reader: GraphReader) -> list[SecurityUpdate]:
    """Every security quality update in the catalog, with its product revisions (``beta``: a
    request adapter on Graph's ``/beta``, see ``clients.graph_beta``)."""
    query = CatalogEntriesRequestBuilder.GetQueryParameters(
        filter=CATALOG_FILTER, expand=[f"{QUALITY}/productRevisions"],
        orderby=["releaseDateTime desc"])
    out: list[SecurityUpdate] = []
    builder = CatalogEntriesRequestBuilder(beta)
    async for entry, ref in reader.items(builder, "update-catalog", query):
        if not isinstance(entry, QualityUpdateCatalogEntry) or entry.id is None:
            continue
        if entry.quality_update_classification != "security":
            continue
        info = entry.cve_severity_information
        severity = info.max_severity if info else None
        cves = tuple(c.number for c in (getattr(info, "exploited_cves", None) or []) if c.number)
        revisions = []
        for r in entry.product_revisions or []:
            build = parse_build(r.id)
            if build is None or r.id is None:
                continue
            kb = getattr(r.knowledge_base_article, "id", None)
            revisions.append(Revision(build[0], build[1], r.id, kb, r.product, r.version))
        released = entry.release_date_time
        out.append(SecurityUpdate(
            entry_id=entry.id,
            title=entry.display_name or entry.catalog_name or entry.id,
            released_at=require_utc(released) if released else None,
            severity=severity if severity in SEVERITIES else "unrated",
            cves=cves,
            revisions=tuple(revisions),
            raw_ref=ref,
        ))
    return out


def assess(os_version: str | None, catalog: Sequence[SecurityUpdate]) -> list[UpdateState] | None:
    """Security updates of the device's build, missing or installed; None if the build is
    unknown to the catalog (the device cannot be assessed: no patch data, not "all clear")."""
    parsed = parse_build(os_version)
    if parsed is None:
        return None
    build, ubr = parsed
    states = []
    for update in catalog:
        rev = update.revision_for(build)
        if rev is not None:
            states.append(UpdateState(update, rev, "installed" if rev.ubr <= ubr else "missing"))
    return states or None

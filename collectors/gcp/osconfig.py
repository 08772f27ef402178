"""OS Config (VM Manager) inventories and vulnerability reports as ``patch`` facts.

Read per project and zone, for every VM of the zone at once (``instances/-``):
``projects.locations.instances.inventories.list`` with ``view: FULL`` (the default BASIC view has
no items) and ``projects.locations.instances.vulnerabilityReports.list``
(https://cloud.google.com/compute/docs/osconfig/rest). The agent reports every 10 minutes by
default. A VM without an inventory has no working agent (not installed, disabled by
``enable-osconfig``, or unable to reach the API): it has no patch data, and says why.

**Clocks.** OS Config carries no CVE publication date and no Linux package release date.

* *Release clock*: ``wuaPackage.lastDeploymentChangeTime``, "the last published date of the
  update" (Windows Update), on an available Windows update only; it may move when Microsoft
  re-publishes. It is ``released_at``.
* *Detection clock*: ``Vulnerability.createTime``, when the vulnerability was first detected on
  this VM (for an update without a vulnerability, ``Inventory.Item.createTime``, when the
  available update was first seen). It is ``first_seen_at``; ``patch_lag`` with ``clock:
  release`` falls back to it when there is no release date (every Linux update).
* *Freshness*: ``Inventory.updateTime`` and ``VulnerabilityReport.updateTime``; the older of the
  two is the asset's ``patch_assessed_at`` and the patch records' ``observed_at``, so a stale
  inventory makes the VM ``no_evidence`` under the commitment's ``freshness_days``.

**Records.** One ``patch`` record per available update that fixes a reported vulnerability
(``availableInventoryItemIds``; ``state: missing``, ``severity`` the highest of its CVEs: the
distribution's ``details.severity``, else the CVSS v3 base score banded as NVD does, else
``unspecified``), and one per available Windows update of the "Security Updates" category that no
vulnerability names (``severity: unspecified``: Windows Update gives none, so ``patch_lag``
judges it with ``unrated_as`` or reports ``no_evidence``). A vulnerability without an available
fix has no update to install: counted on the asset (``unfixed_vulnerabilities``), no record.
Other available packages are not security updates by OS Config's account: counted
(``other_available_updates``). Installed updates are not recorded: OS Config keeps no trace of
when a since-fixed vulnerability was first seen, so lateness cannot be measured from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clausewatch.collectors.google.pages import Json
from clausewatch.collectors.google.workspace_user import instant

SECURITY_CATEGORY = "security updates"
PACKAGE_KINDS = ("aptPackage", "yumPackage", "zypperPackage", "googetPackage", "cosPackage")
_RANK = {"critical": 5, "high": 4, "important": 4, "medium": 3, "moderate": 3, "low": 2,
         "minimal": 1, "negligible": 1, "unimportant": 1}


def instance_key(name: str) -> str:
    """``projects/N/locations/Z/instances/ID/inventory`` -> ``ID`` (an id or a name)."""
    parts = name.split("/")
    return parts[5] if len(parts) > 5 and parts[4] == "instances" else name


def cvss_band(score: Any) -> str | None:
    """CVSS v3 qualitative rating (FIRST CVSS v3.1 specification, section 5)."""
    if not isinstance(score, int | float) or score <= 0:
        return None
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    return "medium" if score >= 4.0 else "low"


def severity_of(details: Mapping[str, Any]) -> str:
    given = str(details.get("severity") or "").strip().lower()
    if given and given not in ("unspecified", "severity_unspecified", "unknown", "none"):
        return given
    return cvss_band((details.get("cvssV3") or {}).get("baseScore")) or "unspecified"


def worst(severities: list[str]) -> str:
    return max(severities, key=lambda s: _RANK.get(s, 0), default="unspecified")


def update_id(item: Mapping[str, Any]) -> str:
    """A readable id for an available update: ``openssl 3.0.17-1~deb12u2``, ``KB5046616``."""
    package = item.get("availablePackage") or item.get("installedPackage") or {}
    wua = package.get("wuaPackage")
    if wua:
        kbs = wua.get("kbArticleIds") or []
        return f"KB{kbs[0]}" if kbs else str(wua.get("title") or wua.get("updateId"))
    patch = package.get("zypperPatch")
    if patch:
        return str(patch.get("patchName"))
    for kind in PACKAGE_KINDS:
        if kind in package:
            p = package[kind]
            return f"{p.get('packageName')} {p.get('version')}".strip()
    return str(item.get("id"))


@dataclass(frozen=True, slots=True)
class Inventory:
    instance: str
    os: str | None
    os_version: str | None
    agent_version: str | None
    updated: datetime | None
    items: Mapping[str, Json]
    raw_ref: str


@dataclass(frozen=True, slots=True)
class Report:
    instance: str
    updated: datetime | None
    vulnerabilities: tuple[Json, ...]
    raw_ref: str


def read_inventories(pages: list[tuple[Json, str]]) -> dict[str, Inventory]:
    out = {}
    for body, ref in pages:
        for inv in body.get("inventories", []):
            info = inv.get("osInfo") or {}
            key = instance_key(str(inv.get("name", "")))
            out[key] = Inventory(
                instance=key,
                os=info.get("longName") or info.get("shortName"),
                os_version=info.get("version"),
                agent_version=info.get("osconfigAgentVersion"),
                updated=instant(inv.get("updateTime")),
                items=inv.get("items") or {},
                raw_ref=ref,
            )
    return out


def read_reports(pages: list[tuple[Json, str]]) -> dict[str, Report]:
    out = {}
    for body, ref in pages:
        for rep in body.get("vulnerabilityReports", []):
            key = instance_key(str(rep.get("name", "")))
            out[key] = Report(key, instant(rep.get("updateTime")),
                              tuple(rep.get("vulnerabilities", [])), ref)
    return out


@dataclass
class PatchPicture:
    """What the records of one VM say, and when it was assessed."""

    assessed_at: datetime | None
    records: list[dict[str, Any]] = field(default_factory=list)
    unfixed: int = 0
    other_available: int = 0
    note: str | None = None
    raw_refs: list[str] = field(default_factory=list)


def _available(item_ids: Any, vuln: Mapping[str, Any]) -> list[str]:
    ids = [str(i) for i in item_ids or []]
    ids += [str(x["availableInventoryItemId"]) for x in vuln.get("items", [])
            if x.get("availableInventoryItemId")]
    return list(dict.fromkeys(ids))


def picture(inventory: Inventory | None, report: Report | None, *,
            windows: bool) -> PatchPicture:
    """The patch records of one VM (see the module docstring)."""
    if inventory is None:
        return PatchPicture(None, note="no OS Config inventory: the agent is not installed, "
                                       "not enabled (enable-osconfig) or not reporting")
    if report is None and not windows:
        return PatchPicture(None, note="OS Config has an inventory but no vulnerability "
                                       "report for this VM: no severity for its updates",
                            raw_refs=[inventory.raw_ref])
    stamps = [t for t in (inventory.updated, report.updated if report else None) if t]
    out = PatchPicture(min(stamps) if stamps else None,
                       raw_refs=[inventory.raw_ref, *([report.raw_ref] if report else [])])
    fixes: dict[str, dict[str, Any]] = {}
    for vuln in report.vulnerabilities if report else ():
        details = vuln.get("details") or {}
        available = _available(vuln.get("availableInventoryItemIds"), vuln)
        if not available:
            out.unfixed += 1
            continue
        seen = instant(vuln.get("createTime"))
        for item_id in available:
            entry = fixes.setdefault(item_id, {"cves": set(), "severities": [], "seen": []})
            if details.get("cve"):
                entry["cves"].add(str(details["cve"]))
            entry["severities"].append(severity_of(details))
            if seen:
                entry["seen"].append(seen)
    for item_id, item in sorted(inventory.items.items()):
        if str(item.get("type")) != "AVAILABLE_PACKAGE" and item_id not in fixes:
            continue
        wua = (item.get("availablePackage") or {}).get("wuaPackage") or {}
        categories = [str(c.get("name")) for c in wua.get("categories", [])]
        fix: dict[str, Any] | None = fixes.pop(item_id) if item_id in fixes else None
        if fix is None and not any(c.lower() == SECURITY_CATEGORY for c in categories):
            out.other_available += 1
            continue
        first = min(fix["seen"]) if fix and fix["seen"] else instant(item.get("createTime"))
        out.records.append({
            "update_id": update_id(item),
            "severity": worst(fix["severities"]) if fix else "unspecified",
            "state": "missing",
            "released_at": instant(wua.get("lastDeploymentChangeTime")),
            "first_seen_at": first,
            "installed_at": None,
            "classification": ", ".join(categories) or None,
            "title": wua.get("title") or update_id(item),
            "cves": sorted(fix["cves"]) if fix else [],
            "inventory_item_id": item_id,
        })
    for item_id, rest in sorted(fixes.items()):  # a fix the inventory does not list
        out.records.append({
            "update_id": item_id.removeprefix("availablePackage-"),
            "severity": worst(rest["severities"]), "state": "missing", "released_at": None,
            "first_seen_at": min(rest["seen"]) if rest["seen"] else None, "installed_at": None,
            "classification": None, "title": None, "cves": sorted(rest["cves"]),
            "inventory_item_id": item_id,
        })
    return out

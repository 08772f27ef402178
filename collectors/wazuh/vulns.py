"""Wazuh vulnerabilities as ``patch`` facts (one record per agent x CVE x package).

A vulnerability Wazuh reports is an update not installed: ``state: missing``, with

* ``severity``: the vendor's, lower case (``critical``, ``high``, ``medium``, ``low``); ``-``
  (the scanner's fill for an empty severity, ``FieldAlertHelper::fillEmptyOrNegative``) and
  ``untriaged`` become ``unrated``, so that ``patch_lag`` treats them as it documents
  (``unrated_as``); the vendor's spelling stays in ``wazuh_severity``;
* the **release clock** ``released_at``: the CVE's publication date, ``vulnerability.published_at``
  (>= 4.8) or ``published`` (<= 4.7, a date: midnight UTC). It is when the vulnerability was
  published, which is no later than the fix in most advisories but may precede it: a contract
  on the release clock is judged from publication. ``0000-01-01T00:00:00Z`` (unknown) is None;
* the **detection clock** ``first_seen_at``: ``vulnerability.detected_at`` (>= 4.8: when the
  scanner wrote the finding; a re-scan after a package or feed change may write it again, so
  it can be later than the first detection) or ``detection_time`` (<= 4.7);
* ``update_id`` ``<CVE> <package>``, ``cves``, ``package``, ``package_version``, ``fixed_in``
  (the version of ``Package less than <v>``, the scanner's condition), ``title``.

4.7's ``status``: ``VALID`` (present) and ``PENDING`` (being re-evaluated by a running scan)
are ``missing``, and so is any other or no status (fail closed); ``OBSOLETE`` (the package is
no longer installed, the entry awaits removal: ``wdb_agents_insert_vuln_cves`` in
src/wazuh_db/wdb_agents.c) is ``not_applicable``.
Indexer document fields: src/wazuh_modules/vulnerability_scanner/indexer/template/
index-template.json; 4.7 fields: spec.yaml ``/vulnerability/{agent_id}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from clausewatch.collectors.wazuh.model import text, wazuh_time

UNRATED = frozenset({"", "-", "untriaged", "none", "unknown"})
_FIXED = re.compile(r"^Package less than (\S+)$")


def severity(value: Any) -> str:
    raw = (text(value) or "").strip().lower()
    return "unrated" if raw in UNRATED else raw


def fixed_in(condition: Any) -> str | None:
    match = _FIXED.match((text(condition) or "").strip())
    return match.group(1) if match else None


def _nested(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, Mapping) else {}


def indexer_facts(source: Mapping[str, Any]) -> dict[str, Any] | None:
    """The facts of one ``_source`` of ``wazuh-states-vulnerabilities-*``; None without a CVE."""
    vuln, package = _nested(source, "vulnerability"), _nested(source, "package")
    cve = text(vuln.get("id"))
    if cve is None:
        return None
    scanner = _nested(vuln, "scanner")
    name = text(package.get("name")) or "?"
    return {
        "update_id": f"{cve} {name}",
        "severity": severity(vuln.get("severity")),
        "state": "missing",
        "released_at": wazuh_time(vuln.get("published_at")),
        "first_seen_at": wazuh_time(vuln.get("detected_at")),
        "installed_at": None,
        "classification": text(vuln.get("category")),
        "title": f"{cve} affects {name}",
        "cves": [cve],
        "wazuh_severity": vuln.get("severity"),
        "package": name,
        "package_version": text(package.get("version")),
        "package_architecture": text(package.get("architecture")),
        "fixed_in": fixed_in(scanner.get("condition")),
        "condition": text(scanner.get("condition")),
        "score": _nested(vuln, "score").get("base"),
        "under_evaluation": vuln.get("under_evaluation"),
        "vulnerability_source": "indexer",
    }


def server_api_facts(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The facts of one item of 4.7's ``GET /vulnerability/{agent_id}``; None without a CVE."""
    cve = text(item.get("cve"))
    if cve is None:
        return None
    name = text(item.get("name")) or "?"
    status = (text(item.get("status")) or "").lower()
    return {
        "update_id": f"{cve} {name}",
        "severity": severity(item.get("severity")),
        "state": "not_applicable" if status == "obsolete" else "missing",
        "vendor_state": item.get("status"),
        "released_at": wazuh_time(item.get("published")),
        "first_seen_at": wazuh_time(item.get("detection_time")),
        "installed_at": None,
        "classification": text(item.get("type")),
        "title": text(item.get("title")) or f"{cve} affects {name}",
        "cves": [cve],
        "wazuh_severity": item.get("severity"),
        "package": name,
        "package_version": text(item.get("version")),
        "package_architecture": text(item.get("architecture")),
        "fixed_in": fixed_in(item.get("condition")),
        "condition": text(item.get("condition")),
        "score": item.get("cvss3_score", item.get("cvss2_score")),
        "vulnerability_source": "server_api",
    }

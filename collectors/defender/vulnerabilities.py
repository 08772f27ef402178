"""Rows of the software vulnerabilities export as ``patch`` facts.

``GET /api/machines/SoftwareVulnerabilitiesByMachine`` (https://learn.microsoft.com/
defender-endpoint/api/get-assessment-software-vulnerabilities, §1) returns one row per device,
software vendor, name, version and CVE, with ``firstSeenTimestamp`` ("first time this product
CVE was seen on the device": the detection clock), ``vulnerabilitySeverityLevel``,
``recommendedSecurityUpdateId`` (the KB number, e.g. ``4550961``) and
``securityUpdateAvailable``. It is chosen over ``/api/vulnerabilities/machinesVulnerabilities``
(get-all-vulnerabilities-by-machines), which has no first-seen time. The page documents the
columns in PascalCase and answers in camelCase: keys are read case-insensitively.

* A row without ``cveId`` is installed software with no known vulnerability: it proves the
  device was assessed, and gives no record.
* A row with a CVE is one ``patch`` record, ``state: missing`` (the export is the current
  snapshot: a fixed vulnerability leaves it), or ``not_applicable`` when
  ``securityUpdateAvailable`` is false (no update exists yet to install; ``fix_available:
  false``). ``update_id`` is the fixing KB (``KB4550961``) when the row names one, else the
  CVE id (the fix is a newer version of ``package``).
* ``severity`` is Defender's level in lower case (``critical``, ``high``, ``medium``, ``low``;
  CVSS-based); none is ``unrated``. Contracts name these levels in ``deadlines_days``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clausewatch.collectors.defender.timestamps import parse_time

_KB = re.compile(r"^(?:KB)?(\d{6,8})$", re.IGNORECASE)


_FOLDED: dict[tuple[Any, ...], tuple[str, ...]] = {}


def row(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A row with its keys folded to lower case (``CveId`` and ``cveId`` alike).

    An export's rows share one set of columns: the folded names of a key set are worked out
    once (bounded cache: a key set seen again reuses them), the row is then zipped in C."""
    keys = tuple(raw)
    folded = _FOLDED.get(keys)
    if folded is None:
        folded = tuple(str(k).casefold() for k in keys)
        if len(_FOLDED) < 64:
            _FOLDED[keys] = folded
    return dict(zip(folded, raw.values(), strict=True))


def text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def fixing_kb(r: Mapping[str, Any]) -> str | None:
    """``KB4550961`` from ``recommendedsecurityupdateid`` when it is a KB number."""
    update = text(r.get("recommendedsecurityupdateid"))
    match = _KB.match(update or "")
    return f"KB{match.group(1)}" if match else None


def package(r: Mapping[str, Any]) -> str:
    parts = [text(r.get(k)) for k in ("softwarevendor", "softwarename", "softwareversion")]
    return " ".join(p for p in parts if p) or "unknown software"


def patch_facts(r: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of one vulnerable row (``cveid`` set). Raises ``ValueError`` for an
    unreadable ``firstSeenTimestamp``."""
    cve = str(r["cveid"]).strip()
    kb = fixing_kb(r)
    severity = (text(r.get("vulnerabilityseveritylevel")) or "unrated").casefold()
    available = r.get("securityupdateavailable")
    no_fix = available is False
    first_seen = parse_time(r.get("firstseentimestamp"), f"{cve} firstSeenTimestamp")
    update = text(r.get("recommendedsecurityupdate"))
    software = package(r)
    title = f"{cve} in {software}"
    if kb:
        title += f", fixed by {kb}" + (f" ({update})" if update else "")
    return {
        "update_id": kb or cve,
        "severity": severity,
        "state": "not_applicable" if no_fix else "missing",
        "first_seen_at": first_seen,
        "released_at": None,
        "installed_at": None,
        "title": title,
        "cves": [cve],
        "cve_id": cve,
        "fixing_kb": kb,
        "recommended_update": update,
        "recommended_update_id": text(r.get("recommendedsecurityupdateid")),
        "package": software,
        "fix_available": None if available is None else available is True,
        "vendor_state": "no security update available" if no_fix else "vulnerable",
        "vendor_severity": text(r.get("vulnerabilityseveritylevel")),
        "cvss_score": r.get("cvssscore"),
        "exploitability_level": text(r.get("exploitabilitylevel")),
        "first_seen_raw": r.get("firstseentimestamp"),
        "last_seen_raw": r.get("lastseentimestamp"),
    }


def row_last_seen(r: Mapping[str, Any]) -> datetime | None:
    return parse_time(r.get("lastseentimestamp"), "lastSeenTimestamp")

"""Rows of the software vulnerabilities export as ``patch`` facts.

``GET /api/machines/SoftwareVulnerabilitiesByMachine`` (https://learn.microsoft.com/
defender-endpoint/api/get-assessment-software-vulnerabilities, §1) returns one row per device,
software vendor, name, version and CVE, with ``firstSeenTimestamp`` ("first time this product
CVE was seen on the device": the detection clock), ``vulnerabilitySeverityLevel``,
``recommendedSecurityUpdateId`` (the KB number, e.g. ``4550961``) and
``securityUpdateAvailable``. It is chosen over ``/api/vulnerabilities/machinesVulnerabilities``
(get-all-vulnerabilities-by-machines), which has no first-seen time. The page documents the
columns in PascalCase and answers in camelCase: keys are read case-insensitively.

* A row without ``cveId`` (null or empty) is installed software with no known vulnerability:
  it proves the device was assessed, and gives no record. A ``cveId`` that is neither that nor
  a CVE id (a number, a list, blank text) leaves the row out, reported as a ``patch`` error.
* A row with a CVE is one ``patch`` record, ``state: missing`` (the export is the current
  snapshot: a fixed vulnerability leaves it), or ``not_applicable`` when
  ``securityUpdateAvailable`` is false (no update exists yet to install; ``fix_available:
  false``). ``update_id`` is the fixing KB (``KB4550961``) when the row names one, else the
  CVE id (the fix is a newer version of ``package``).
* Rows are read by column (:class:`Columns`): the export's rows share one set of keys, so the
  keys of the columns read are found once per key set and picked from each row in C, without
  a folded copy of the row; the facts that depend only on what a row reports (CVE, software,
  KB, severity...) are worked out once per distinct combination (:class:`PatchFacts`), each
  record getting its own copy.
* ``severity`` is Defender's level in lower case (``critical``, ``high``, ``medium``, ``low``;
  CVSS-based); none is ``unrated``. Contracts name these levels in ``deadlines_days``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from clausewatch.collectors.defender.timestamps import parse_time

_KB = re.compile(r"^(?:KB)?(\d{6,8})$", re.IGNORECASE)


class Row(NamedTuple):
    """The columns of an export row the collector reads (None when the row lacks one)."""

    id: Any
    deviceid: Any
    devicename: Any
    osplatform: Any
    osversion: Any
    rbacgroupname: Any
    cveid: Any
    softwarevendor: Any
    softwarename: Any
    softwareversion: Any
    vulnerabilityseveritylevel: Any
    recommendedsecurityupdate: Any
    recommendedsecurityupdateid: Any
    securityupdateavailable: Any
    cvssscore: Any
    exploitabilitylevel: Any
    firstseentimestamp: Any
    lastseentimestamp: Any


class Columns:
    """Reads export rows as :class:`Row`, keys compared case-insensitively (the page documents
    the columns in PascalCase and answers in camelCase); when two keys of a row fold to the
    same name, the later one is read (as a folded copy of the row would keep it)."""

    def __init__(self) -> None:
        self._pickers: dict[tuple[Any, ...], tuple[itemgetter[Any], bool]] = {}

    def row(self, raw: Mapping[str, Any]) -> Row:
        keys = tuple(raw)
        picker = self._pickers.get(keys)
        if picker is None:
            picker = self._pickers[keys] = self._picker(keys)
        get, whole = picker
        if whole:
            return Row._make(get(raw))
        return Row._make(get((*raw.values(), None)))

    @staticmethod
    def _picker(keys: tuple[Any, ...]) -> tuple[itemgetter[Any], bool]:
        """An ``itemgetter`` of the row's keys in ``Row`` order (``whole``: every column is
        there), else of positions in the row's values with ``None`` appended."""
        last = {str(k).casefold(): n for n, k in enumerate(keys)}
        positions = [last.get(name, -1) for name in Row._fields]
        if all(p >= 0 for p in positions):
            return itemgetter(*(keys[p] for p in positions)), True
        return itemgetter(*(p if p >= 0 else len(keys) for p in positions)), False


def text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def no_cve(value: Any) -> bool:
    """Whether a row's ``cveId`` says "no known vulnerability": null or empty. The export
    documents ``CveId`` as a string, the CVE id (https://learn.microsoft.com/defender-endpoint/
    api/get-assessment-software-vulnerabilities, §1 "Properties"); any other value (a
    number, a list, blank text) is not read as the absence of a vulnerability, which would
    let the device look clean."""
    return value is None or value == ""


def fixing_kb(r: Row) -> str | None:
    """``KB4550961`` from ``recommendedsecurityupdateid`` when it is a KB number."""
    return kb_number(r.recommendedsecurityupdateid)


def kb_number(update_id: Any) -> str | None:
    """``KB4550961`` from a ``recommendedSecurityUpdateId`` value that is a KB number."""
    match = _KB.match(text(update_id) or "")
    return f"KB{match.group(1)}" if match else None


def package(r: Row) -> str:
    parts = [text(v) for v in (r.softwarevendor, r.softwarename, r.softwareversion)]
    return " ".join(p for p in parts if p) or "unknown software"


def patch_facts(r: Row) -> dict[str, Any]:
    """The facts of one vulnerable row (``cveid`` set). Raises ``ValueError`` for an
    unreadable ``firstSeenTimestamp``."""
    facts = _reported(r)
    facts["first_seen_at"] = parse_time(r.firstseentimestamp,
                                        f"{facts['cve_id']} firstSeenTimestamp")
    facts["first_seen_raw"] = r.firstseentimestamp
    facts["last_seen_raw"] = r.lastseentimestamp
    return facts


def _reported(r: Row) -> dict[str, Any]:
    """The facts that depend only on what the row reports; the row's times are left None."""
    cve = str(r.cveid).strip()
    kb = fixing_kb(r)
    severity = (text(r.vulnerabilityseveritylevel) or "unrated").casefold()
    available = r.securityupdateavailable
    no_fix = available is False
    update = text(r.recommendedsecurityupdate)
    software = package(r)
    title = f"{cve} in {software}"
    if kb:
        title += f", fixed by {kb}" + (f" ({update})" if update else "")
    return {
        "update_id": kb or cve,
        "severity": severity,
        "state": "not_applicable" if no_fix else "missing",
        "first_seen_at": None,
        "released_at": None,
        "installed_at": None,
        "title": title,
        "cves": [cve],
        "cve_id": cve,
        "fixing_kb": kb,
        "recommended_update": update,
        "recommended_update_id": text(r.recommendedsecurityupdateid),
        "package": software,
        "fix_available": None if available is None else available is True,
        "vendor_state": "no security update available" if no_fix else "vulnerable",
        "vendor_severity": text(r.vulnerabilityseveritylevel),
        "cvss_score": r.cvssscore,
        "exploitability_level": text(r.exploitabilitylevel),
        "first_seen_raw": None,
        "last_seen_raw": None,
    }


class PatchFacts:
    """``patch_facts`` for many rows: the reported part worked out once per distinct
    combination of the columns it reads (with the types of those read other than as text:
    ``True``, ``1`` and ``1.0`` are equal keys, not equal facts), the times parsed once per
    distinct text; every call gets its own dict and its own ``cves`` list."""

    def __init__(self) -> None:
        self._reported: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._times: dict[str, datetime | None] = {}

    def __call__(self, r: Row) -> dict[str, Any]:
        key = (r.cveid, type(r.cveid), r.softwarevendor, r.softwarename, r.softwareversion,
               r.vulnerabilityseveritylevel, r.recommendedsecurityupdate,
               r.recommendedsecurityupdateid, r.exploitabilitylevel, r.cvssscore,
               type(r.cvssscore), r.securityupdateavailable, type(r.securityupdateavailable))
        try:
            reported = self._reported.get(key)
        except TypeError:  # an unhashable column value (a list or an object): read it plain
            return patch_facts(r)
        if reported is None:
            reported = self._reported[key] = _reported(r)
        facts = dict(reported)
        facts["cves"] = list(reported["cves"])
        first = r.firstseentimestamp
        if type(first) is str and first in self._times:
            facts["first_seen_at"] = self._times[first]
        else:
            facts["first_seen_at"] = parse_time(first, f"{facts['cve_id']} firstSeenTimestamp")
            if type(first) is str:
                self._times[first] = facts["first_seen_at"]
        facts["first_seen_raw"] = first
        facts["last_seen_raw"] = r.lastseentimestamp
        return facts


def row_last_seen(r: Row) -> datetime | None:
    return parse_time(r.lastseentimestamp, "lastSeenTimestamp")

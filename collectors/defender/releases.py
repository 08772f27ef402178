"""Release dates of Windows KBs from MSRC's CVRF API (the Security Update Guide), for the
release clock of ``patch_lag``.

The API is public, without a key since 2021 (https://github.com/microsoft/
MSRC-Microsoft-Security-Updates-API, docs/swagger.yaml; https://api.msrc.microsoft.com/cvrf/
v3.0/swagger/index):

1. ``GET {base}updates('{CVE}')`` lists the monthly documents that mention a CVE:
   ``{"value": [{"ID": "2024-Oct", "InitialReleaseDate": "2024-10-08T07:00:00Z", ...}]}``
   (the swagger model spells it ``InitialReleaseData``: both are read); a CVE MSRC does not
   know answers 404.
2. ``GET {base}cvrf/{ID}`` (``Accept: application/json``) is the CVRF document:
   ``DocumentTracking.InitialReleaseDate`` and ``Vulnerability[]`` with ``CVE`` and
   ``Remediations[]`` (``Description.Value`` the KB number, ``Type`` 2 = Vendor Fix).

The release date of KB *k* fixing CVE *c* is the ``InitialReleaseDate`` of the earliest document
whose entry for *c* lists *k* as a vendor fix. When it cannot be established (no KB, a CVE MSRC
does not know, documents that do not list the KB, the API unreachable) the date is None and
the note says why; after a transport failure MSRC is not asked again in this run. Documents
are read once per run; what was read is saved raw (for a CVRF document, an extract per CVE a
release was read for: its tracking and its entries for that CVE, the whole document being
several megabytes).

``ahead(cve)`` asks now, one request after another, what ``lookup(cve, ...)`` will read
(``updates('{cve}')``, then each CVRF document it names not read yet), while the caller is
busy elsewhere (the Defender export): the answers are kept, nothing is saved, and ``lookup``
reads each kept answer once, as the first request of its URL (a failure kept fails there as
it did, a second request of that URL is sent then). So what ``lookup`` saves and returns is
what it would without ``ahead``, in the order it is called in. After a transport failure
nothing more is asked ahead. A CVE asked ahead that is never looked up costs its requests
only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from clausewatch.collectors.defender.timestamps import parse_time
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.errors import GaveUp
from clausewatch.collectors.rest.mapper import REST_FAILURES, Redact, collection_error
from clausewatch.collectors.rest.session import RestSession

log = logging.getLogger(__name__)
DEFAULT_MSRC = "https://api.msrc.microsoft.com/cvrf/v3.0/"
VENDOR_FIX = (2, "2", "vendor fix", "vendorfix")


@dataclass(frozen=True, slots=True)
class Release:
    """A KB's release date (None: unknown), where it comes from, and why when unknown."""

    released_at: datetime | None
    source: str | None
    note: str | None
    raw_ref: str | None = None


@dataclass(slots=True)
class MsrcReleases:
    """Release dates looked up in MSRC's CVRF API, cached for the run."""

    session: RestSession
    raw: RawRecorder
    source: str
    origin: str
    redact: Redact
    _docs: dict[str, Mapping[str, Any] | None] = field(default_factory=dict)
    _extracts: dict[tuple[str, str], str] = field(default_factory=dict)
    _updates: dict[str, list[Mapping[str, Any]] | str] = field(default_factory=dict)
    _down: str | None = None
    _early: dict[str, Any] = field(default_factory=dict)  # URL -> answer (or failure) asked
    _early_off: bool = False  # ahead; a transport failure ahead: nothing more asked ahead

    def ahead(self, cve: str) -> None:
        """Ask MSRC now what ``lookup(cve, ...)`` will read, for it to read later (above)."""
        url = f"updates('{cve}')"
        if self._down or self._early_off or cve in self._updates or url in self._early:
            return
        body = self._ask_early(url)
        for doc_id in _document_ids(_updates_of(body)) if body is not None else ():
            if doc_id not in self._docs and f"cvrf/{doc_id}" not in self._early:
                if self._ask_early(f"cvrf/{doc_id}") is None:
                    return

    def _ask_early(self, url: str) -> Any:
        """``url``'s JSON, kept for ``_get``; None if it failed (the failure is kept)."""
        try:
            self._early[url] = body = self.session.get_json(url)
        except REST_FAILURES as exc:
            self._early[url] = exc
            if _transport(exc):
                self._early_off = True
            return None
        return body

    def _get(self, url: str) -> Any:
        """``url``'s JSON: the answer asked ahead (read once; a failure raised), else asked
        now."""
        if url in self._early:
            early = self._early.pop(url)
            if isinstance(early, BaseException):
                raise early
            return early
        return self.session.get_json(url)

    def lookup(self, cve: str, kb: str) -> Release:
        if self._down:
            return Release(None, None, self._down)
        try:
            updates = self._documents(cve)
            if isinstance(updates, str):
                return Release(None, None, updates)
            found: list[tuple[datetime, str]] = []
            for doc_id in updates:
                doc = self._document(doc_id)
                when = _listed(doc, cve, kb) if doc is not None else None
                if when is not None:
                    found.append((when, doc_id))
        except REST_FAILURES as exc:
            error = collection_error(exc, source=self.source, origin=self.origin, kinds=(),
                                     operation="msrc-cvrf", redact=self.redact)
            note = f"no release date: the MSRC CVRF API could not be read ({error.message})"
            log.warning("%s: %s", self.origin, note)
            if _transport(exc):  # unreachable: not asked again in this run
                self._down = note
            return Release(None, None, note)
        if not found:
            listed = ", ".join(updates) or "none"
            return Release(None, None, f"no release date: MSRC's CVRF documents for {cve} "
                           f"({listed}) do not list {kb} as a vendor fix")
        when, doc_id = min(found)
        return Release(when, f"MSRC CVRF {doc_id}", None, self._extract(doc_id, cve))

    def _documents(self, cve: str) -> list[str] | str:
        """The document ids that mention ``cve``, or a note saying why there are none."""
        if cve not in self._updates:
            try:
                body = self._get(f"updates('{cve}')")
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:
                    raise
                self._updates[cve] = (f"no release date: MSRC's Security Update Guide has no "
                                      f"update for {cve}")
                return self._updates[cve]  # type: ignore[return-value]
            self.raw.save(self.source, self.origin, "msrc-updates", body)
            self._updates[cve] = _updates_of(body)
        found = self._updates[cve]
        if isinstance(found, str):
            return found
        return _document_ids(found)

    def _document(self, doc_id: str) -> Mapping[str, Any] | None:
        """The CVRF document ``doc_id`` (None: not an object), read once per run."""
        if doc_id not in self._docs:
            body = self._get(f"cvrf/{doc_id}")
            self._docs[doc_id] = body if isinstance(body, Mapping) else None
        return self._docs[doc_id]

    def _extract(self, doc_id: str, cve: str) -> str:
        """The ``raw_ref`` of what a release read from document ``doc_id`` for ``cve`` rests
        on, saved once per (document, CVE): the document's tracking (its release date) and
        its entries for ``cve`` (the remediations that list the KB). One extract per CVE, so
        that each holds what its records cite, whatever order the CVEs are looked up in."""
        key = (doc_id, cve)
        if key not in self._extracts:
            doc = self._docs[doc_id] or {}
            extract = {"extract_of": f"cvrf/{doc_id}", "cve": cve,
                       "DocumentTracking": doc.get("DocumentTracking"),
                       "Vulnerability": [v for v in _vulns(doc)
                                         if str(v.get("CVE", "")).upper() == cve.upper()]}
            self._extracts[key] = self.raw.save(self.source, self.origin, "msrc-cvrf", extract)
        return self._extracts[key]


def _updates_of(body: Any) -> list[Mapping[str, Any]]:
    """The updates an ``updates('{CVE}')`` answer lists."""
    value = body.get("value") if isinstance(body, Mapping) else None
    return [u for u in value if isinstance(u, Mapping)] if isinstance(value, list) else []


def _document_ids(updates: list[Mapping[str, Any]]) -> list[str]:
    return [str(u["ID"]) for u in updates if isinstance(u.get("ID"), str)]


def _vulns(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    vulns = doc.get("Vulnerability")
    return [v for v in vulns if isinstance(v, Mapping)] if isinstance(vulns, list) else []


def _listed(doc: Mapping[str, Any], cve: str, kb: str) -> datetime | None:
    """The document's initial release date if its entry for ``cve`` lists ``kb`` as a fix."""
    digits = kb.upper().removeprefix("KB")
    for vuln in _vulns(doc):
        if str(vuln.get("CVE", "")).upper() != cve.upper():
            continue
        for rem in vuln.get("Remediations") or []:
            if not isinstance(rem, Mapping):
                continue
            kind = rem.get("Type")
            desc = rem.get("Description")
            value = desc.get("Value") if isinstance(desc, Mapping) else None
            if (str(kind).casefold() in [str(v) for v in VENDOR_FIX] and isinstance(value, str)
                    and value.strip().upper().removeprefix("KB") == digits):
                tracking = doc.get("DocumentTracking")
                when = tracking.get("InitialReleaseDate") if isinstance(tracking, Mapping) \
                    else None
                try:
                    return parse_time(when, "InitialReleaseDate")
                except ValueError:
                    return None
    return None


def _transport(exc: BaseException) -> bool:
    last = exc.last if isinstance(exc, GaveUp) else exc
    return isinstance(last, httpx.TransportError)

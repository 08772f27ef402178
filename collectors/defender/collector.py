"""The Defender for Endpoint collector: one tenant's machines and their vulnerabilities.

Reads, in order (each page saved raw, named in ``raw_ref``): the machine list, the software
vulnerabilities export, then (for rows fixed by a KB) the KBs' release dates from MSRC, one
request at a time. MSRC is asked from a worker thread (``lookups.py``): each CVE fixed by a KB
as soon as a row naming it is read (asked ahead while the export's next pages are received and
its rows read), then the (CVE, KB) pairs in order once the export is read, while the records
are built: a record whose KB's release is known already is built at once, the others (in
their place in the output) once their lookup is done, so MSRC's waits overlap the export, the
CPU of saving its pages (redacted) and that of building 200,000 records.

Failures bear on what they could have covered: no token, an unreachable API or an unreadable
machine list leave both kinds without evidence (``asset``, ``patch``) for the tenant; an
unreadable export leaves ``patch`` without evidence (the machines are still inventoried, their
patch state unknown). An MSRC failure is no collection error: the records say why they carry no
release date (``release_date_note``) and ``patch_lag`` falls back as the contract says
(``release_fallback``). Rows whose times cannot be read, or whose ``cveId`` is neither a CVE id
nor empty, are left out and reported as one ``patch`` error. Origin: ``defender/<name>``;
subjects ``defender:<name>:<machine id>``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from clausewatch.collectors.defender.api import DEFAULT_EXPORT_PAGE, MAX_TOP, DefenderReader
from clausewatch.collectors.defender.lookups import Lookups, Pair
from clausewatch.collectors.defender.machines import machine_facts, onboarded
from clausewatch.collectors.defender.releases import MsrcReleases, Release
from clausewatch.collectors.defender.timestamps import parse_time
from clausewatch.collectors.defender.vulnerabilities import (
    Columns,
    PatchFacts,
    Row,
    kb_number,
    no_cve,
    row_last_seen,
    text,
)
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.mapper import REST_FAILURES, Redact, collection_error
from clausewatch.collectors.rest.paging import Page
from clausewatch.collectors.rest.session import RestSession
from clausewatch.core.evidence import CollectionError, Evidence, Kind, default_evidence_id

SOURCE = "defender"
#: The kinds' names (an enum member's value is a descriptor lookup: read once, not per record).
ASSET, PATCH = Kind.ASSET.value, Kind.PATCH.value
ALL_KINDS = (ASSET, PATCH)
Item = Evidence | CollectionError
#: A patch record waiting for its KB's release: (its place in the output, subject, facts,
#: observed at, export page, id key).
Waiting = tuple[int, str, dict[str, Any], datetime, int, str]


def _let_msrc_in(releases: Lookups) -> None:
    """Release the interpreter lock for a moment (``time.sleep(0)`` does), between two
    machines' records, while the MSRC worker runs: with its answer in, it takes the lock at
    once instead of waiting up to the switch interval (5 ms, https://docs.python.org/3.11/
    library/sys.html#sys.setswitchinterval) at each of a request's blocking reads, which made
    each lookup ~30 ms longer while the records were built. Once the worker has ended (the
    lookups asked ahead during the export usually are done), no sleep: on a loaded machine
    each is a chance for the scheduler to run another process (~0.6 ms each, 5,000 machines)."""
    if releases.running:
        time.sleep(0)


@dataclass(frozen=True, slots=True)
class DefenderCollector:
    """Machines (assets) and software vulnerabilities (patches) of one Defender tenant."""

    name: str
    session: RestSession
    raw: RawRecorder
    observed_at: datetime
    redact: Redact
    _: KW_ONLY
    tags: Mapping[str, str] = field(default_factory=dict)
    machine_filter: str | None = None
    page_size: int = MAX_TOP
    export_page_size: int = DEFAULT_EXPORT_PAGE
    releases: MsrcReleases | None = None
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = ALL_KINDS

    @property
    def origin(self) -> str:
        return f"{SOURCE}/{self.name}"

    def subject(self, machine_id: str) -> str:
        return f"{SOURCE}:{self.name}:{machine_id}"

    def collect(self) -> Iterator[Item]:
        with self.session:
            items = _Collection(self).run()
        if self.releases is not None:
            self.releases.session.close()
        yield from items


class _Collection:
    def __init__(self, c: DefenderCollector) -> None:
        self.c = c
        self.api = DefenderReader(c.session, c.raw, c.source, c.origin)
        self.source, self.origin = c.source, c.origin  # read once, not once a record
        self.machines: list[tuple[Mapping[str, Any], str]] = []
        self.rows: dict[str, list[tuple[Row, int]]] = defaultdict(list)  # (row, its page)
        self.refs: list[str] = []  # the raw_ref of each export page
        self.facts = PatchFacts()
        self.dated: dict[tuple[Any, ...], dict[str, Any]] = {}  # (KB, CVE, package) -> release
        self.out: list[Item | None] = []  # None: a record waiting (self.waiting)
        self.waiting: dict[Pair, list[Waiting]] = defaultdict(list)
        self.unplaced: list[str] = []
        #: Each distinct (``cveId``, ``recommendedSecurityUpdateId``) of the rows kept.
        self.given: set[tuple[Any, Any]] = set()

    def run(self) -> list[Item]:
        try:
            for items, ref in self.api.machines(self.c.page_size, self.c.machine_filter):
                self.machines += [(m, ref) for m in items]
        except REST_FAILURES as exc:
            return [self._error(exc, ALL_KINDS, "machines")]
        export_note = None
        pages: list[Page] = []
        releases = Lookups(self._lookup, self._ahead)
        with ThreadPoolExecutor(1, thread_name_prefix="defender-msrc") as pool:
            asked = pool.submit(releases.run)
            try:
                try:
                    self._read_export(pages, releases)
                except REST_FAILURES as exc:
                    error = self._error(exc, (Kind.PATCH.value,), "software-vulnerabilities")
                    self.out.append(error)
                    self.rows.clear()
                    self.given.clear()
                    export_note = f"the vulnerability export could not be read: {error.message}"
                releases.start(self._wanted())
            finally:
                releases.stop()  # a crash above: the worker ends, never waits
            self.refs = [self.api.keep(page) for page in pages]
            self._records(releases, export_note)
            asked.result()
        if self.unplaced:
            self.out.append(CollectionError(
                source=self.c.source, origin=self.c.origin, kinds=(Kind.PATCH.value,),
                operation="timestamps",
                message=self.c.redact(f"{len(self.unplaced)} record(s) left out: "
                                      f"{self.unplaced[0]}"),
                details={"reasons": [self.c.redact(r) for r in self.unplaced[:20]]}))
        out = [item for item in self.out if item is not None]
        if len(out) != len(self.out):  # a bug: never a silently shorter list
            raise RuntimeError("a patch record was left waiting for its release")
        return out

    def _records(self, releases: Lookups, export_note: str | None) -> None:
        """Every asset and patch record, in order (the machine list's, then the devices only
        the export names); a patch record waiting for its release is placed last."""
        known: set[str] = set()
        for machine, ref in self.machines:
            machine_id = str(machine["id"])
            known.add(machine_id)
            self._machine(machine, ref, export_note)
            if onboarded(machine):
                self._patches(machine_id, machine, releases)
            _let_msrc_in(releases)
        for device, rows in sorted(self.rows.items()):
            if device not in known:
                self._export_only(device, rows, releases)
        self._place_waiting(releases)

    def _read_export(self, pages: list[Page], releases: Lookups) -> None:
        """Every export row, by device, once per row ``id``; ``pages`` gets each page read
        (kept by ``run``, a failed read's earlier pages too); each CVE fixed by a KB is hinted
        to ``releases`` when its first row is read."""
        columns = Columns()
        seen: set[str] = set()
        given = self.given
        for page in self.api.vulnerabilities(self.c.export_page_size):
            number = len(pages)
            pages.append(page)
            for raw_row in page.items:
                r = columns.row(raw_row)
                key = str(r.id or "")
                if key and key in seen:
                    continue
                seen.add(key)
                device = text(r.deviceid)
                if device:
                    self.rows[device].append((r, number))
                    pair = (r.cveid, r.recommendedsecurityupdateid)
                    try:
                        if pair in given:
                            continue
                    except TypeError:  # a list, an object: no CVE, no KB (``_wanted``)
                        continue
                    given.add(pair)
                    cve = text(r.cveid)
                    if cve and kb_number(r.recommendedsecurityupdateid) is not None:
                        releases.hint(cve)

    # -- assets ---------------------------------------------------------------------------
    def _machine(self, machine: Mapping[str, Any], ref: str, export_note: str | None) -> None:
        machine_id = str(machine["id"])
        assessed = bool(self.rows.get(machine_id))
        try:
            facts = machine_facts(machine, self.c.tags, assessed=assessed)
        except ValueError as exc:
            facts = machine_facts({**machine, "lastSeen": None, "firstSeen": None}, self.c.tags,
                                  assessed=False)
            facts["patch_data_note"] = f"unreadable time from Defender: {exc}"
            facts["patch_assessed_at"] = None
        if export_note and onboarded(machine):
            facts["patch_assessed_at"] = None
            facts["patch_data_note"] = export_note
        facts["in_machine_list"] = True
        self.out.append(self._evidence(ASSET, self.c.subject(machine_id), facts,
                                       self.c.observed_at, ref))

    def _export_only(self, device: str, rows: list[tuple[Row, int]], releases: Lookups
                     ) -> None:
        """A device the vulnerability export names but the machine list did not return (its
        retention, a filter, a race): kept in scope from the export's own columns."""
        first, page = rows[0]
        stamps = []
        for r, _ in rows:
            try:
                stamps.append(row_last_seen(r))
            except ValueError as exc:
                self.unplaced.append(str(exc))
        last = max((s for s in stamps if s is not None), default=None)
        machine = {"id": device, "computerDnsName": first.devicename,
                   "osPlatform": first.osplatform, "version": first.osversion,
                   "rbacGroupName": first.rbacgroupname, "onboardingStatus": "Onboarded",
                   "lastSeen": last.isoformat() if last else None}
        facts = machine_facts(machine, self.c.tags, assessed=True)
        facts["in_machine_list"] = False
        facts["onboarding_status"] = None
        facts["tags"].pop("defender_onboarding", None)
        self.out.append(self._evidence(ASSET, self.c.subject(device), facts,
                                       self.c.observed_at, self.refs[page]))
        self._patches(device, machine, releases)

    # -- patches --------------------------------------------------------------------------
    def _patches(self, machine_id: str, machine: Mapping[str, Any], releases: Lookups
                 ) -> None:
        try:
            machine_seen = parse_time(machine.get("lastSeen"), "lastSeen")
        except ValueError:
            return  # the asset already says its patch data is unreadable
        subject = self.c.subject(machine_id)
        for r, page in self.rows.get(machine_id, []):
            if not text(r.cveid):
                if not no_cve(r.cveid):
                    self.unplaced.append(f"row {r.id!r} on {machine_id}: cveId {r.cveid!r} is "
                                         "neither a CVE id nor empty")
                continue
            try:
                facts = self.facts(r)
                observed = machine_seen or row_last_seen(r)
            except ValueError as exc:
                self.unplaced.append(str(exc))
                continue
            if observed is None:
                self.unplaced.append(f"{r.cveid} on {machine_id}: no lastSeen time")
                continue
            key = str(r.id or f"{facts['cve_id']}:{facts['package']}")
            dated = self.dated.get((facts["fixing_kb"], facts["cve_id"], facts["package"]))
            if dated is None:
                kb = facts["fixing_kb"]
                pair = (facts["cve_id"], kb)
                if kb is not None and pair in releases and releases.ready(pair) is None:
                    self.waiting[pair].append((len(self.out), subject, facts, observed, page,
                                               key))
                    self.out.append(None)  # its place, filled by _place_waiting
                    continue
                dated = self._dated(facts, releases)
            self.out.append(self._patch(subject, facts, observed, page, key, dated))

    def _patch(self, subject: str, facts: dict[str, Any], observed: datetime, page: int,
               key: str, dated: Mapping[str, Any]) -> Evidence:
        facts.update(dated)
        return self._evidence(PATCH, subject, facts, observed, self.refs[page], key)

    def _place_waiting(self, releases: Lookups) -> None:
        """The records that waited for a release, in their places, each pair's as soon as it
        is looked up (in the order of the lookups)."""
        for pair in releases.pairs:
            waiting = self.waiting.pop(pair, None)
            if not waiting:
                continue
            releases.wait(pair)
            for n, (place, subject, facts, observed, page, key) in enumerate(waiting):
                dated = self._dated(facts, releases)
                self.out[place] = self._patch(subject, facts, observed, page, key, dated)
                if n % 32 == 31:
                    _let_msrc_in(releases)

    def _dated(self, facts: Mapping[str, Any], releases: Lookups) -> dict[str, Any]:
        """The release facts of (KB, CVE, package), a function of them: worked out once,
        copied into each record by ``update``."""
        triple = (facts["fixing_kb"], facts["cve_id"], facts["package"])
        dated = self.dated.get(triple)
        if dated is None:
            dated = self.dated[triple] = self._release(facts, releases)
        return dated

    def _wanted(self) -> list[Pair]:
        """The (CVE, KB) pairs of every vulnerable row fixed by a KB, sorted: worked out from
        each distinct (``cveId``, ``recommendedSecurityUpdateId``) of the rows kept (a few
        dozen for 100,000 rows), gathered as they were read. A row with a value that is not
        hashable (a list, an object) has no text CVE or no KB number: it adds no pair."""
        return sorted({(cve, kb) for given, update in self.given
                       if (cve := text(given)) and (kb := kb_number(update)) is not None})

    def _lookup(self, cve: str, kb: str) -> Release:
        if self.c.releases is None:
            return Release(None, None, "no release date: release_dates is none for this source")
        return self.c.releases.lookup(cve, kb)

    def _ahead(self, cve: str) -> None:
        if self.c.releases is not None:
            self.c.releases.ahead(cve)

    @staticmethod
    def _release(facts: Mapping[str, Any], releases: Lookups) -> dict[str, Any]:
        kb = facts.get("fixing_kb")
        if kb is None:
            return {"released_at": None, "release_date_source": None,
                    "release_date_note": f"no release date: no KB fixes it (the fix is a newer "
                    f"version of {facts['package']}, whose release date Defender does not give)"}
        pair = (facts["cve_id"], kb)
        found = releases.wait(pair) if pair in releases else None
        if found is None:
            return {"released_at": None, "release_date_source": None,
                    "release_date_note": "no release date looked up"}
        return {"released_at": found.released_at, "release_date_source": found.source,
                "release_date_note": found.note, "release_date_ref": found.raw_ref}

    # -- records --------------------------------------------------------------------------
    def _evidence(self, kind: str, subject: str, facts: dict[str, Any], observed: datetime,
                  ref: str, key: str = "") -> Evidence:
        base = default_evidence_id(kind, self.source, subject, facts)
        return Evidence(id=f"{base}:{key}" if key else base, kind=kind, source=self.source,
                        subject=subject, observed_at=observed, facts=facts,
                        origin=self.origin, raw_ref=ref)

    def _error(self, exc: BaseException, kinds: tuple[str, ...], operation: str
               ) -> CollectionError:
        return collection_error(exc, source=self.c.source, origin=self.c.origin, kinds=kinds,
                                operation=operation, redact=self.c.redact)

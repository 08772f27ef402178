"""One Wazuh server's collection: agents as assets, their inventory, their vulnerabilities.

Steps (docs/wazuh.md):

1. ``GET /`` (API info: ``data.api_version``, for ``vulnerabilities: auto``) and
   ``GET /agents`` (offset/limit pages, ``select``ed fields, sorted by id). A failure here
   (unreachable server, refused login, a page that fails for good) is one ``CollectionError``
   for ``asset`` and ``patch`` at ``wazuh/<server>``: every subject of this server is
   ``no_evidence``, other sources are judged.
2. Wazuh >= 4.8 (``vulnerabilities: indexer``): the indexer's vulnerability-state index, read
   whole (collectors/wazuh/indexer.py). A failure is one error for ``patch`` at
   ``wazuh/<server>``: no agent's patch state is judged on a partial index.
3. Per agent that ever connected: ``GET /syscollector/{id}/packages`` (and ``/hotfixes`` for
   Windows) and, for <= 4.7 (``server_api``), ``GET /vulnerability/{id}`` and
   ``/vulnerability/{id}/last_scan``. A failure is an error for ``patch`` at
   ``wazuh/<server>/agents/<id>``: that agent only.

The assessment clock (``patch_assessed_at``, and the ``observed_at`` of the agent's patch
records) is the agent's last keep-alive, at most the run's instant: the manager holds what the
agent last reported, so a disconnected agent's data is as old as its last keep-alive and
``patch_lag``'s freshness limit applies to it. With ``server_api`` it is the earlier of that and
the end of the agent's last vulnerability scan. It is None, with the reason in
``patch_data_note``, for an agent that never connected, one without any package, hotfix or
vulnerability inventory (nothing was scanned: no vulnerabilities proves nothing), and one the
4.7 detector never scanned.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.mapper import REST_FAILURES, Redact, collection_error
from clausewatch.collectors.rest.session import RestSession
from clausewatch.collectors.wazuh.agents import SELECT, Agent, agent_facts, asset_kind, parse_agent
from clausewatch.collectors.wazuh.api import WazuhReader
from clausewatch.collectors.wazuh.indexer import IndexerReader
from clausewatch.collectors.wazuh.model import api_version, text, wazuh_time
from clausewatch.collectors.wazuh.vulns import indexer_facts, server_api_facts
from clausewatch.core.clock import iso_z
from clausewatch.core.evidence import CollectionError, Evidence, Kind, default_evidence_id

log = logging.getLogger(__name__)
SOURCE = "wazuh"
ALL_KINDS = (Kind.ASSET.value, Kind.PATCH.value)
PATCH_KINDS = (Kind.PATCH.value,)
MODES = ("auto", "indexer", "server_api")
INDEXER_FROM = (4, 8, 0)
PACKAGE_SELECT = "name,version,architecture,format,scan.time"
Item = Evidence | CollectionError


@dataclass(slots=True)
class _Inventory:
    """What was read about one agent."""

    packages: int = 0
    packages_scanned_at: datetime | None = None
    hotfixes: list[str] = field(default_factory=list)
    vulns: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    last_scan: datetime | None = None
    step: str = "packages"  # the step running, named in an error


@dataclass(frozen=True, slots=True)
class WazuhCollector:
    """Agents, syscollector inventory and vulnerabilities of one Wazuh server."""

    name: str
    session: RestSession
    raw: RawRecorder
    observed_at: datetime
    redact: Redact
    _: KW_ONLY
    indexer: RestSession | None = None
    index: str = "wazuh-states-vulnerabilities-*"
    vulnerabilities: str = "auto"
    tags: Mapping[str, str] = field(default_factory=dict)
    include_manager: bool = True
    asset_kind_by_group: Mapping[str, str] = field(default_factory=dict)
    default_asset_kind: str = "server"
    page_limit: int = 500
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = ALL_KINDS

    @property
    def origin(self) -> str:
        return f"{SOURCE}/{self.name}"

    def agent_origin(self, agent_id: str) -> str:
        return f"{self.origin}/agents/{agent_id}"

    def subject(self, agent_id: str) -> str:
        return f"wazuh:{self.name}:agent:{agent_id}"

    def collect(self) -> Iterator[Item]:
        try:
            items = _Collection(self).run()
        finally:
            self.session.close()
            if self.indexer is not None:
                self.indexer.close()
        yield from items

    def error(self, exc: BaseException, kinds: tuple[str, ...], operation: str,
              origin: str | None = None) -> CollectionError:
        return collection_error(exc, source=self.source, origin=origin or self.origin,
                                kinds=kinds, operation=operation, redact=self.redact)


class _Collection:
    """The state of one collection."""

    def __init__(self, c: WazuhCollector) -> None:
        self.c = c
        self.api = WazuhReader(c.session, c.raw, c.source, c.origin, c.page_limit)
        self.agents: list[Agent] = []
        self.errors: list[CollectionError] = []
        self.version: tuple[int, int, int] | None = None
        self.indexed: dict[str, list[tuple[dict[str, Any], str]]] | None = None

    def run(self) -> list[Item]:
        step = "api-info"
        try:
            body, _ = self.api.get(step, "")
            data = body.get("data") if isinstance(body.get("data"), Mapping) else body
            self.version = api_version(data.get("api_version")) if isinstance(
                data, Mapping) else None
            step = "agents"
            for items, ref in self.api.pages(step, "agents", {"select": SELECT, "sort": "+id"}):
                self.agents += [a for a in (parse_agent(i, ref) for i in items) if a is not None]
        except REST_FAILURES as exc:
            return [self.c.error(exc, ALL_KINDS, step)]
        mode = self._mode()
        if mode == "indexer":
            self._read_index()
        out: list[Item] = []
        for agent in self.agents:
            if agent.is_manager and not self.c.include_manager:
                continue
            out += self._agent(agent, mode)
        return [*out, *self.errors]

    def _mode(self) -> str:
        """``indexer`` or ``server_api``: as the entry says, or (``auto``) by API version;
        an unknown version with an indexer configured reads the indexer."""
        if self.c.vulnerabilities != "auto":
            return self.c.vulnerabilities
        if self.version is None:
            log.warning("wazuh %s: API version unknown; vulnerabilities read from the %s",
                        self.c.name, "indexer" if self.c.indexer else "server API")
            return "indexer" if self.c.indexer is not None else "server_api"
        return "indexer" if self.version >= INDEXER_FROM else "server_api"

    def _read_index(self) -> None:
        if self.c.indexer is None:
            self.errors.append(CollectionError(
                source=self.c.source, origin=self.c.origin, kinds=PATCH_KINDS,
                operation="vulnerability-states",
                message="vulnerabilities of Wazuh >= 4.8 are in the indexer, and this entry "
                f"has no indexer (API version {_dotted(self.version)}): add indexer.url"))
            return
        reader = IndexerReader(self.c.indexer, self.c.raw, self.c.source, self.c.origin,
                               self.c.index)
        found: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
        try:
            for sources, ref in reader.hits():
                for doc in sources:
                    agent = doc.get("agent")
                    agent_id = text(agent.get("id")) if isinstance(agent, Mapping) else None
                    facts = indexer_facts(doc)
                    if agent_id is not None and facts is not None:
                        found[agent_id].append((facts, ref))
        except REST_FAILURES as exc:
            self.errors.append(self.c.error(exc, PATCH_KINDS, "vulnerability-states"))
            return
        self.indexed = dict(found)

    # -- one agent ----------------------------------------------------------------------
    def _agent(self, agent: Agent, mode: str) -> list[Item]:
        origin = self.c.agent_origin(agent.id)
        facts = agent_facts(agent, self.c.name, self.c.tags,
                            asset_kind(agent, self.c.asset_kind_by_group,
                                       self.c.default_asset_kind), self.c.observed_at)
        if agent.status == "never_connected":
            since = f" (registered {iso_z(agent.date_add)})" if agent.date_add else ""
            return [self._asset(agent, facts, None, f"agent never connected{since}: Wazuh "
                                "holds no inventory nor vulnerability data for it")]
        seen = agent.seen_at(self.c.observed_at)
        if seen is None:
            return [self._asset(agent, facts, None, f"agent {agent.status or 'of no status'} "
                                "without a last keep-alive")]
        inventory = _Inventory()
        try:
            self._inventory(agent, inventory, mode, origin)
        except REST_FAILURES as exc:
            self.errors.append(self.c.error(exc, PATCH_KINDS, inventory.step, origin))
            return [self._asset(agent, {**facts, **_inventory_facts(inventory)}, None,
                                f"{inventory.step} could not be read (see the collection "
                                "error)")]
        if mode == "indexer" and self.indexed is not None:
            inventory.vulns = self.indexed.get(agent.id, [])
        facts.update(_inventory_facts(inventory))
        assessed, note = self._assessed(agent, inventory, mode, seen)
        if mode == "indexer" and self.indexed is None:
            assessed, note = None, "the vulnerability index could not be read"
        records: list[Item] = [self._asset(agent, facts, assessed, note)]
        if assessed is not None:
            records += self._patches(agent, inventory, assessed)
        return records

    def _inventory(self, agent: Agent, inv: _Inventory, mode: str, origin: str) -> None:
        base = f"syscollector/{agent.id}"
        for items, _ref in self.api.pages("packages", f"{base}/packages",
                                         {"select": PACKAGE_SELECT}, origin=origin):
            inv.packages += len(items)
            for item in items:
                scan = item.get("scan")
                when = wazuh_time(scan.get("time")) if isinstance(scan, Mapping) else None
                if when and (inv.packages_scanned_at is None or when > inv.packages_scanned_at):
                    inv.packages_scanned_at = when
        if agent.family == "windows":
            inv.step = "hotfixes"
            for items, _ref in self.api.pages("hotfixes", f"{base}/hotfixes", origin=origin):
                    inv.hotfixes += [h for h in (text(i.get("hotfix")) for i in items) if h]
        if mode != "server_api":
            return
        inv.step = "vulnerabilities"
        for items, ref in self.api.pages("vulnerabilities", f"vulnerability/{agent.id}",
                                         origin=origin):
            inv.vulns += [(f, ref) for f in (server_api_facts(i) for i in items) if f]
        inv.step = "vulnerability-last-scan"
        body, _ = self.api.get("vulnerability-last-scan", f"vulnerability/{agent.id}/last_scan",
                               origin=origin)
        data = body.get("data")
        listed = data.get("affected_items") if isinstance(data, Mapping) else None
        scans = listed[0] if isinstance(listed, list) and listed and isinstance(
            listed[0], Mapping) else {}
        ends = [t for t in (wazuh_time(scans.get("last_full_scan")),
                            wazuh_time(scans.get("last_partial_scan"))) if t]
        inv.last_scan = max(ends, default=None)

    def _assessed(self, agent: Agent, inv: _Inventory, mode: str, seen: datetime
                  ) -> tuple[datetime | None, str | None]:
        if not (inv.packages or inv.hotfixes or inv.vulns):
            return None, ("no package or hotfix inventory from syscollector (is its packages "
                          "scan enabled?): no vulnerability can have been looked for")
        note = None
        if agent.status == "disconnected":
            note = f"agent disconnected, last keep-alive {iso_z(seen)}"
        if mode == "server_api":
            if inv.last_scan is None:
                return None, "the vulnerability detector has not scanned this agent"
            return min(seen, inv.last_scan), note
        return seen, note

    # -- records ------------------------------------------------------------------------
    def _asset(self, agent: Agent, facts: dict[str, Any], assessed: datetime | None,
               note: str | None) -> Evidence:
        facts = {**facts, "patch_assessed_at": assessed}
        if note:
            facts["patch_data_note"] = note
        subject = self.c.subject(agent.id)
        return Evidence(id=default_evidence_id(Kind.ASSET.value, self.c.source, subject, facts),
                        kind=Kind.ASSET.value, source=self.c.source, subject=subject,
                        observed_at=self.c.observed_at, facts=facts,
                        origin=self.c.agent_origin(agent.id), raw_ref=agent.ref)

    def _patches(self, agent: Agent, inv: _Inventory, assessed: datetime) -> Iterator[Evidence]:
        subject = self.c.subject(agent.id)
        seen: set[str] = set()
        for facts, ref in inv.vulns:
            base = default_evidence_id(Kind.PATCH.value, self.c.source, subject, facts)
            key = base
            n = 1
            while key in seen:  # the same CVE in two versions or architectures of a package
                n += 1
                key = f"{base}:{n}"
            seen.add(key)
            yield Evidence(id=key, kind=Kind.PATCH.value, source=self.c.source,
                           subject=subject, observed_at=assessed, facts=facts,
                           origin=self.c.agent_origin(agent.id), raw_ref=ref)


def _inventory_facts(inv: _Inventory) -> dict[str, Any]:
    return {"packages_count": inv.packages, "packages_scanned_at": inv.packages_scanned_at,
            "hotfixes": sorted(set(inv.hotfixes)), "vulnerabilities_count": len(inv.vulns),
            "vulnerability_scan_at": inv.last_scan}


def _dotted(version: tuple[int, int, int] | None) -> str:
    return ".".join(map(str, version)) if version else "unknown"

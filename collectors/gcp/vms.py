"""The VM collector of one project: every VM an ``asset``, its OS Config data ``patch`` records.

Origins: ``gcp/<root>/<project>`` for the listing, ``gcp/<root>/<project>/<zone>`` for a VM and
its records, so a zone whose inventories cannot be read (or that Compute Engine reports
unreachable) leaves exactly its VMs without evidence. Each VM is an asset (``server``; labels are
its tags, with the entry's ``tags``; project, zone, status and machine type are facts); a VM with
no usable OS Config data keeps ``patch_assessed_at: null`` and says why in
``patch_data_note``, so ``patch_lag`` reports it ``no_evidence`` with that reason.

Every zone's inventories and vulnerability reports are read together (``google.together``),
within the entry's bound on requests in flight (``RetrySettings.gate``); the records come out
in the same order whatever order the pages arrived in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, cast

from clausewatch.collectors.gcp.compute import Vm, read_vms
from clausewatch.collectors.gcp.osconfig import (
    Inventory,
    PatchPicture,
    Report,
    picture,
    read_inventories,
    read_reports,
)
from clausewatch.collectors.google.clients import collection
from clausewatch.collectors.google.errors import GOOGLE_FAILURES, collection_error
from clausewatch.collectors.google.pages import PageSink, discovery_pages
from clausewatch.collectors.google.retry import RetrySettings
from clausewatch.collectors.google.together import together
from clausewatch.core.evidence import CollectionError, Evidence, Kind, default_evidence_id

SOURCE = "gcp.compute"


def vm_asset(vm: Vm, pic: PatchPicture, inventory: Inventory | None, *, origin: str,
             observed_at: datetime, tags: Mapping[str, str] | None = None,
             project_labels: Mapping[str, str] | None = None) -> Evidence:
    """The asset record of one VM (the demo builds its VMs with this same function)."""
    facts: dict[str, Any] = {
        "asset_kind": "server",
        "name": vm.name,
        "tags": {**(tags or {}), **vm.labels},
        "os": inventory.os if inventory else None,
        "os_version": inventory.os_version if inventory else None,
        "last_seen": inventory.updated if inventory else None,
        "patch_assessed_at": pic.assessed_at,
        "gcp_project": vm.project,
        "gcp_zone": vm.zone,
        "gcp_status": vm.status,
        "instance_id": vm.id,
        "machine_type": vm.machine_type,
        "project_labels": dict(project_labels or {}),
        "osconfig_agent": inventory is not None,
        "osconfig_agent_version": inventory.agent_version if inventory else None,
        "osconfig_metadata": vm.osconfig_metadata,
        "unfixed_vulnerabilities": pic.unfixed,
        "other_available_updates": pic.other_available,
        "raw_pages": list(dict.fromkeys([vm.raw_ref, *pic.raw_refs])),
    }
    if pic.note:
        facts["patch_data_note"] = pic.note
    return _evidence(Kind.ASSET, vm.subject, facts, observed_at, origin, vm.raw_ref)


def vm_patches(vm: Vm, pic: PatchPicture, *, origin: str,
               observed_at: datetime) -> list[Evidence]:
    """The patch records of one VM, stamped with when OS Config assessed it."""
    when = pic.assessed_at or observed_at
    ref = pic.raw_refs[-1] if pic.raw_refs else vm.raw_ref
    return [_evidence(Kind.PATCH, vm.subject, dict(r), when, origin, ref) for r in pic.records]


def _evidence(kind: str, subject: str, facts: dict[str, Any], observed_at: datetime,
              origin: str, ref: str | None) -> Evidence:
    return Evidence(id=default_evidence_id(kind, SOURCE, subject, facts), kind=kind,
                    source=SOURCE, subject=subject, observed_at=observed_at, facts=facts,
                    origin=origin, raw_ref=ref)


@dataclass(frozen=True, slots=True)
class VmCollector:
    """VMs and patches of one project."""

    root: str
    project: str
    compute: Any  # Compute Engine v1 discovery client (clients.compute), thread-safe, shared
    osconfig: Any  # OS Config v1 discovery client (clients.os_config), thread-safe, shared
    sink: PageSink
    retry: RetrySettings
    observed_at: datetime
    _: KW_ONLY
    tags: Mapping[str, str] = field(default_factory=dict)
    project_labels: Mapping[str, str] = field(default_factory=dict)
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (Kind.ASSET.value, Kind.PATCH.value)

    @property
    def origin(self) -> str:
        return f"gcp/{self.root}/{self.project}"

    def _error(self, exc: BaseException, origin: str, kinds: tuple[str, ...],
               operation: str) -> CollectionError:
        return collection_error(exc, source=self.source, origin=origin, kinds=kinds,
                                operation=operation, redact=self.sink.raw.redact,
                                asset_kinds=("server",), tags=dict(self.tags))

    def _zone_reads(self, zone: str) -> tuple[Callable[[], dict[str, Inventory]],
                                              Callable[[], dict[str, Report]]]:
        """The two listings of one zone (every VM at once, ``instances/-``): independent page
        chains, read together with the other zones' (the entry's gate bounds the requests)."""
        parent = f"projects/{self.project}/locations/{zone}/instances/-"
        origin = f"{self.origin}/{zone}"
        per_instance = ("projects", "locations", "instances")

        def inventories() -> dict[str, Inventory]:
            return read_inventories(discovery_pages(
                collection(self.osconfig, *per_instance, "inventories"), "list", self.sink,
                self.retry, "inventories", origin, parent=parent, view="FULL", pageSize=100))

        def reports() -> dict[str, Report]:
            return read_reports(discovery_pages(
                collection(self.osconfig, *per_instance, "vulnerabilityReports"), "list",
                self.sink, self.retry, "vulnerability-reports", origin, parent=parent,
                pageSize=100))

        return inventories, reports

    def collect(self) -> Iterator[Evidence | CollectionError]:
        try:
            listing = read_vms(self.project, discovery_pages(
                collection(self.compute, "instances"), "aggregatedList", self.sink, self.retry,
                "instances", project=self.project, maxResults=500))
        except GOOGLE_FAILURES as exc:
            yield self._error(exc, self.origin, self.kinds, "instances.aggregatedList")
            return
        for zone in sorted(listing.unreachable):
            yield CollectionError(
                source=self.source, origin=f"{self.origin}/{zone}", kinds=self.kinds,
                operation="instances.aggregatedList", asset_kinds=("server",),
                tags=dict(self.tags),
                message=f"instances.aggregatedList: zone {zone} of project {self.project} "
                        "was unreachable; its VMs are unknown", retryable=True)
        zones = sorted({vm.zone for vm in listing.vms})
        inventories: dict[str, Inventory] = {}
        reports: dict[str, Report] = {}
        failed: set[str] = set()
        read = together([call for zone in zones for call in self._zone_reads(zone)])
        for n, zone in enumerate(zones):
            got = read[2 * n: 2 * n + 2]  # the zone's inventories, then its reports
            problem = next((r for r in got if isinstance(r, BaseException)), None)
            if problem is None:
                inventories.update(cast(dict[str, Inventory], got[0]))
                reports.update(cast(dict[str, Report], got[1]))
                continue
            if not isinstance(problem, GOOGLE_FAILURES):
                raise problem
            failed.add(zone)
            yield self._error(problem, f"{self.origin}/{zone}", (Kind.PATCH.value,),
                              f"OS Config inventories/vulnerabilityReports {zone}")
        for vm in listing.vms:
            origin = f"{self.origin}/{vm.zone}"
            inventory = inventories.get(vm.id) or inventories.get(vm.name)
            report = reports.get(vm.id) or reports.get(vm.name)
            if vm.zone in failed:
                pic = PatchPicture(None, note="OS Config could not be read in this zone")
            else:
                windows = bool(inventory and (inventory.os or "").lower().startswith(
                    ("windows", "microsoft windows")))
                pic = picture(inventory, report, windows=windows)
            yield vm_asset(vm, pic, inventory, origin=origin, observed_at=self.observed_at,
                           tags=self.tags, project_labels=self.project_labels)
            yield from vm_patches(vm, pic, origin=origin, observed_at=self.observed_at)

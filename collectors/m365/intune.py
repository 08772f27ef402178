"""The Intune collector: managed devices as ``asset`` records, Windows patch state as ``patch``.

Each device is an asset whose subject is its Intune managed device id. ``patch_assessed_at`` is
its last sync (when it last reported its OS build); patch records carry that same instant as
``observed_at``, so a device that stopped syncing goes stale in the ``patch_lag`` check instead
of looking patched. A device whose patch state cannot be read here (not Windows, a build the
catalog does not list, or the catalog unreadable) has no ``patch_assessed_at`` and no patch
records: ``no_evidence``, never "all clear". Phones and tablets are ``mobile`` assets, computers
``workstation``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import msgspec
from kiota_abstractions.request_adapter import RequestAdapter
from msgraph.generated.device_management.managed_devices.managed_devices_request_builder import (  # noqa: E501
    ManagedDevicesRequestBuilder,
)
from msgraph.generated.models.compliance_state import ComplianceState
from msgraph.generated.models.managed_device_owner_type import ManagedDeviceOwnerType
from msgraph.generated.models.management_agent_type import ManagementAgentType
from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365.graph import GraphFailure, GraphReader
from clausewatch.collectors.m365.listing import instant, known, rows
from clausewatch.collectors.m365.windows_updates import SecurityUpdate, assess, security_updates
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.evidence import CollectionError, Evidence, Kind, default_evidence_id

SOURCE = "intune"
DEVICE_FIELDS = ["id", "deviceName", "operatingSystem", "osVersion", "lastSyncDateTime",
                 "enrolledDateTime", "complianceState", "managedDeviceOwnerType",
                 "managementAgent", "userPrincipalName", "serialNumber", "azureADDeviceId",
                 "model", "manufacturer"]
MOBILE = frozenset({"ios", "ipados", "android", "windows mobile"})
#: Intune pages managed devices by 1,000 (the list page,
#: https://learn.microsoft.com/graph/api/intune-devices-manageddevice-list, states no figure;
#: ``$top=1000`` is what integrations send). A smaller page Graph chooses is followed anyway.
DEVICE_PAGE = 1000
NEVER = 2000  # Intune reports "0001-01-01T00:00:00Z" for a device that never synced


class DeviceRow(msgspec.Struct, frozen=True, rename="camel"):
    """The properties of a ``managedDevice`` read here
    (https://learn.microsoft.com/graph/api/resources/intune-devices-manageddevice: ``id``,
    ``deviceName``, ``operatingSystem``, ``osVersion``, ``userPrincipalName``, ``serialNumber``
    and ``azureADDeviceId`` String; ``lastSyncDateTime`` DateTimeOffset; ``complianceState``,
    ``managedDeviceOwnerType`` and ``managementAgent`` enums, read as their wire strings)."""

    id: str
    device_name: str | None = None
    operating_system: str | None = None
    os_version: str | None = None
    last_sync_date_time: str | None = None
    compliance_state: str | None = None
    managed_device_owner_type: str | None = None
    management_agent: str | None = None
    user_principal_name: str | None = None
    serial_number: str | None = None
    azure_a_d_device_id: str | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """A managed device as read: enums kept only when the SDK knows the member."""

    id: str
    name: str | None
    os: str
    os_version: str | None
    synced: datetime | None  # None: never synced (Intune's 0001-01-01) or not reported
    compliance_state: str | None
    ownership: str | None
    management_agent: str | None
    user_principal_name: str | None
    serial_number: str | None
    entra_device_id: str | None

    @property
    def windows(self) -> bool:
        return self.os.lower() == "windows"


_COMPLIANCE = known(ComplianceState)
_OWNERSHIP = known(ManagedDeviceOwnerType)
_AGENT = known(ManagementAgentType)


def _device(d: DeviceRow, ref: str) -> tuple[Device, str]:
    synced = instant(d.last_sync_date_time)
    return Device(
        id=d.id, name=d.device_name, os=d.operating_system or "", os_version=d.os_version,
        synced=synced if synced is not None and synced.year >= NEVER else None,
        compliance_state=_COMPLIANCE(d.compliance_state),
        ownership=_OWNERSHIP(d.managed_device_owner_type),
        management_agent=_AGENT(d.management_agent),
        user_principal_name=d.user_principal_name, serial_number=d.serial_number,
        entra_device_id=d.azure_a_d_device_id), ref


@dataclass(frozen=True, slots=True)
class IntuneCollector:
    """Managed devices of one tenant, and the security updates each Windows device lacks."""

    tenant_id: str
    client: GraphServiceClient
    beta: RequestAdapter | None  # Graph /beta (clients.graph_beta); None: no Windows patch state
    raw: RawRecorder
    observed_at: datetime
    _: KW_ONLY
    tags: Mapping[str, str] = field(default_factory=dict)
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (Kind.ASSET.value, Kind.PATCH.value)

    @property
    def origin(self) -> str:
        return f"intune/{self.tenant_id}"

    def collect(self) -> Iterator[Evidence | CollectionError]:
        reader = GraphReader(self.source, self.origin, self.raw)
        yield from asyncio.run(self._collect(reader))

    @property
    def _covered(self) -> dict[str, Any]:
        """What every error of this collector says of the devices it covers."""
        return {"tags": dict(self.tags), "facts": {"tenant_id": self.tenant_id}}

    async def _collect(self, reader: GraphReader) -> list[Evidence | CollectionError]:
        """Devices, ``$top=1000`` a page; the Windows Update catalog is read alongside, from the
        moment the first Windows device is seen (never for a tenant without one)."""
        query = ManagedDevicesRequestBuilder.ManagedDevicesRequestBuilderGetQueryParameters(
            select=DEVICE_FIELDS, top=DEVICE_PAGE)
        devices: list[tuple[Device, str]] = []
        reading: asyncio.Future[list[SecurityUpdate]] | None = None
        try:
            async for page, _ in rows(reader, self.client.device_management.managed_devices,
                                      "managed-devices", query, DeviceRow, _device):
                devices += page
                if reading is None and self.beta is not None and any(
                        d.windows for d, _ in page):
                    reading = asyncio.ensure_future(security_updates(self.beta, reader))
        except GraphFailure as exc:
            if reading is not None:
                reading.cancel()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await reading
            return [exc.to_error(self.source, self.origin, self.kinds,
                                 prefix=f"Intune tenant {self.tenant_id}: ",
                                 asset_kinds=("workstation", "mobile"), **self._covered)]
        out: list[Evidence | CollectionError] = []
        catalog: list[SecurityUpdate] | None = None
        if reading is not None:
            try:
                catalog = await reading
            except GraphFailure as exc:
                covered = self._covered
                out.append(exc.to_error(
                    self.source, self.origin, (Kind.PATCH.value,),
                    prefix="Windows Update catalog (Graph beta) unreadable, Windows patch state "
                    "unknown: ", tags=covered["tags"],
                    facts={**covered["facts"], "os": "Windows"}))
        patches = PatchFacts(catalog) if catalog is not None else None
        for device, ref in devices:
            out += self._records(device, ref, catalog, patches)
        return out

    def _records(self, d: Device, ref: str, catalog: list[SecurityUpdate] | None,
                 patches: PatchFacts | None) -> list[Evidence]:
        """The device's asset record and, when ``patches`` (of ``catalog``) places its
        build, one patch record per security update of that build."""
        os_name = d.os
        synced = d.synced
        states = None
        if d.windows and patches is not None and synced is not None:
            states = patches.of(d.os_version)
        tags = {**self.tags}
        for key, value in (("ownership", d.ownership), ("compliance_state", d.compliance_state)):
            if value:
                tags[key] = value
        facts: dict[str, Any] = {
            "asset_kind": "mobile" if os_name.lower() in MOBILE else "workstation",
            "name": d.name,
            "tags": tags,
            "os": os_name or None,
            "os_version": d.os_version,
            "last_seen": synced,
            "patch_assessed_at": synced if states is not None else None,
            "compliance_state": d.compliance_state,
            "ownership": d.ownership,
            "management_agent": d.management_agent,
            "user_principal_name": d.user_principal_name,
            "serial_number": d.serial_number,
            "entra_device_id": d.entra_device_id,
            "tenant_id": self.tenant_id,
        }
        if states is None:
            facts["patch_data_note"] = _why_unassessed(os_name, d.os_version, synced, catalog)
        asset = self._evidence(Kind.ASSET, d.id, facts, self.observed_at, ref)
        out = [asset]
        for facts_of_update, cves, update_ref in states or ():
            patch = {**facts_of_update, "cves": list(cves), "raw_pages": [ref, update_ref]}
            out.append(self._evidence(Kind.PATCH, d.id, patch, synced, update_ref))
        return out

    def _evidence(self, kind: Kind, subject: str, facts: dict[str, Any],
                  observed_at: datetime | None, ref: str) -> Evidence:
        return Evidence(
            id=default_evidence_id(kind, self.source, subject, facts),
            kind=kind.value,
            source=self.source,
            subject=subject,
            observed_at=observed_at or self.observed_at,
            facts=facts,
            origin=self.origin,
            raw_ref=ref,
        )


class PatchFacts:
    """The patch facts of each OS version against one catalog, worked out once per version (a
    tenant's thousands of Windows devices run a few hundred builds): for each security update
    of the version's build, the facts every device on that version shares (in the order the
    records write them, ``raw_pages`` last), the update's CVEs and its raw page. None for a
    version ``assess`` cannot place."""

    def __init__(self, catalog: list[SecurityUpdate]) -> None:
        self.catalog = catalog
        self._of: dict[str | None, list[tuple[dict[str, Any], tuple[str, ...], str]] | None] = {}

    def of(self, os_version: str | None
           ) -> list[tuple[dict[str, Any], tuple[str, ...], str]] | None:
        if os_version in self._of:
            return self._of[os_version]
        states = assess(os_version, self.catalog)
        found = None if states is None else [({
            "update_id": s.revision.kb or s.update.entry_id,
            "kb": s.revision.kb,
            "severity": s.update.severity,
            "state": s.state,
            "released_at": s.update.released_at,
            "classification": "security",
            "title": s.update.title,
            "cves": None,  # each record gets its own list
            "build": s.revision.revision_id,
            "catalog_entry_id": s.update.entry_id,
        }, s.update.cves, s.update.raw_ref) for s in states]
        self._of[os_version] = found
        return found


def _why_unassessed(os_name: str, version: str | None, synced: datetime | None,
                    catalog: list[SecurityUpdate] | None) -> str:
    if synced is None:
        return "device never synced"
    if os_name.lower() != "windows":
        return f"patch state of {os_name or 'this OS'} is not collected from Intune"
    if catalog is None:
        return "Windows Update catalog not read"
    return f"build {version} is not in the Windows Update catalog"

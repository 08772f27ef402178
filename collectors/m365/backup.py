"""The Microsoft 365 Backup collector (``solutions/backupRestore``): protected mailboxes, sites
and OneDrives as assets, their latest restore point as ``backup``, completed restore sessions as
``restore_test``.

Subjects: a protected resource is ``<workload>:<mailbox address or site URL>`` (asset kinds
``mailbox``, ``site``, ``onedrive``); restore sessions attach to the workload as a system,
``m365backup:<tenant>:<workload>`` (asset kind ``backup_workload``). Microsoft 365 Backup has
no restore-*testing* feature: a completed restore session is the evidence that restoring works.
A tenant without the service (HTTP 403/404, or the service disabled) yields a
``CollectionError`` naming it, never an empty success.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from msgraph.generated.models.restore_point_preference import RestorePointPreference
from msgraph.generated.models.time_period import TimePeriod
from msgraph.generated.solutions.backup_restore.restore_points.search.search_post_request_body import (  # noqa: E501
    SearchPostRequestBody,
)
from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365.graph import GraphFailure, GraphReader, Item, run_tenant
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.clock import require_utc
from clausewatch.core.evidence import CollectionError, Evidence, Kind, default_evidence_id

SOURCE = "m365.backup"
SERVICE = "Microsoft 365 Backup"
SEARCH_CHUNK = 20  # protection unit ids per restorePoints/search call
#: ``protectionUnitStatus`` (https://learn.microsoft.com/graph/api/resources/protectionunitbase,
#: members protectRequested, protected, unprotectRequested, unprotected, removeRequested,
#: unknownFutureValue, offboardRequested, offboarded, cancelOffboardRequested). Out of scope:
#: units no longer protected or leaving (unprotected, removal or offboarding requested,
#: offboarded).
GONE = frozenset({"unprotected", "removeRequested", "offboardRequested", "offboarded"})
#: Statuses of a unit meant to be protected (being added, protected, or an unprotect request
#: or offboarding cancelled that has not taken effect yet).
KNOWN_STATUSES = frozenset({"protectRequested", "protected", "unprotectRequested",
                            "cancelOffboardRequested"})
#: ``restoreSessionStatus`` members that are not an outcome yet
#: (https://learn.microsoft.com/graph/api/resources/restoresessionbase).
UNFINISHED = frozenset({"draft", "activating", "active"})
WORKLOAD = "backup_workload"
UNIT_ASSET_KINDS = ("mailbox", "site", "onedrive")
UNIT_KINDS = {  # odata type suffix -> (workload, asset kind)
    "mailboxprotectionunit": ("exchange", "mailbox"),
    "siteprotectionunit": ("sharepoint", "site"),
    "driveprotectionunit": ("onedrive", "onedrive"),
}
SESSION_WORKLOADS = {
    "exchangerestoresession": "exchange",
    "sharepointrestoresession": "sharepoint",
    "onedriveforbusinessrestoresession": "onedrive",
}
POLICY_WORKLOADS = {
    "exchangeprotectionpolicy": "exchange",
    "sharepointprotectionpolicy": "sharepoint",
    "onedriveforbusinessprotectionpolicy": "onedrive",
}
RESTORE_OUTCOME = {"completed": "success", "completedWithError": "partial", "failed": "failed"}
WORKLOAD_NAMES = {"exchange": "Exchange Online", "sharepoint": "SharePoint",
                  "onedrive": "OneDrive for Business"}


def _type(obj: Any) -> str:
    return (getattr(obj, "odata_type", "") or "").rsplit(".", 1)[-1].lower()


def _wire(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


@dataclass(frozen=True, slots=True)
class BackupCollector:
    """Microsoft 365 Backup of one tenant."""

    tenant_id: str
    client: GraphServiceClient
    raw: RawRecorder
    observed_at: datetime
    _: KW_ONLY
    lookback_days: int = 35
    tags: Mapping[str, str] = field(default_factory=dict)
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (
        Kind.ASSET.value, Kind.BACKUP.value, Kind.RESTORE_TEST.value)

    @property
    def origin(self) -> str:
        return f"m365backup/{self.tenant_id}"

    def collect(self) -> Iterator[Item]:
        return run_tenant(self.source, self.origin, self.kinds, self.raw,
                          f"{SERVICE}, tenant {self.tenant_id}: ", self._collect, **self._covered)

    @property
    def _covered(self) -> dict[str, Any]:
        """What every error of this collector says of the subjects it covers."""
        return {"tags": dict(self.tags), "facts": {"tenant_id": self.tenant_id}}

    def _error(self, exc: GraphFailure, kinds: tuple[str, ...], asset_kinds: tuple[str, ...],
               subject: str = "") -> CollectionError:
        return exc.to_error(self.source, self.origin, kinds,
                            prefix=f"{SERVICE}, tenant {self.tenant_id}: ",
                            asset_kinds=asset_kinds, subject=subject, **self._covered)

    async def _collect(self, reader: GraphReader) -> list[Item]:
        """The service status first (without it nothing can be read); then policies, protection
        units (with their restore points) and restore sessions, each read on its own: one that
        fails is an error for what it carried, the others are still read."""
        backup = self.client.solutions.backup_restore
        root = await reader.get(backup, "backup-service")
        status = getattr(root.model, "service_status", None)
        state = _wire(getattr(status, "status", None))
        if state not in ("enabled", "protectionChangeLocked", "restoreLocked"):
            reason = _wire(getattr(status, "disable_reason", None))
            return [CollectionError(
                source=self.source, origin=self.origin, kinds=self.kinds,
                message=f"{SERVICE} is not enabled in tenant {self.tenant_id} "
                f"(service status {state or 'absent'}{', ' + reason if reason else ''})",
                operation="backup-service", details={"raw_ref": root.raw_ref}, **self._covered)]
        out: list[Item] = []
        policies: dict[str, Any] = {}
        try:
            async for p, _ in reader.items(backup.protection_policies, "protection-policies"):
                policies[p.id] = p
        except GraphFailure as exc:  # policy names and workloads: every asset is uncertain
            out.append(self._error(exc, (Kind.ASSET.value,), (*UNIT_ASSET_KINDS, WORKLOAD)))
        units: dict[str, str] = {}  # unit id -> asset subject
        try:
            async for u, ref in reader.items(backup.protection_units, "protection-units"):
                for item in self._unit_asset(u, ref, policies):
                    if isinstance(item, Evidence):
                        units[u.id] = item.subject
                    out.append(item)
        except GraphFailure as exc:
            out.append(self._error(exc, (Kind.ASSET.value, Kind.BACKUP.value), UNIT_ASSET_KINDS))
        out += await self._restore_points(reader, units)
        workloads = {w for p in policies.values() if (w := POLICY_WORKLOADS.get(_type(p)))}
        try:
            async for s, ref in reader.items(backup.restore_sessions, "restore-sessions"):
                test = self._restore_test(s, ref)
                if test is not None:
                    workloads.add(SESSION_WORKLOADS[_type(s)])
                    out.append(test)
        except GraphFailure as exc:
            out.append(self._error(exc, (Kind.RESTORE_TEST.value,), (WORKLOAD,)))
        out += [self._workload_asset(w, root.raw_ref) for w in sorted(workloads)]
        return out

    def _unit_asset(self, u: Any, ref: str, policies: Mapping[str, Any]
                    ) -> list[Evidence | CollectionError]:
        """The unit as an asset; nothing for a unit out of scope (``GONE``); for a status this
        client cannot read (``unknownFutureValue`` or absent), the asset and an error on its
        backups: whether it is still meant to be protected is unknown."""
        kind = UNIT_KINDS.get(_type(u))
        status = _wire(u.status)
        if kind is None or status in GONE:
            return []
        workload, asset_kind = kind
        if asset_kind == "site":
            key, name = u.site_web_url or u.site_id or u.id, u.site_name
        else:
            key, name = u.email or u.directory_object_id or u.id, u.display_name
        policy = policies.get(u.policy_id)
        tags = {**self.tags, "workload": workload, "protection_status": status or "unknown"}
        if policy is not None and policy.display_name:
            tags["protection_policy"] = policy.display_name
        facts = {
            "asset_kind": asset_kind,
            "name": name or key,
            "tags": tags,
            "protection_unit_id": u.id,
            "protection_policy_id": u.policy_id,
            "protection_policy_status": _wire(getattr(policy, "status", None)),
            "protection_error": getattr(getattr(u, "error", None), "message", None),
            "tenant_id": self.tenant_id,
        }
        asset = self._evidence(Kind.ASSET, f"{workload}:{key}", facts, ref)
        if status in KNOWN_STATUSES:
            return [asset]
        return [asset, CollectionError(
            source=self.source, origin=self.origin, kinds=(Kind.BACKUP.value,),
            operation="protection-units", subject=asset.subject, asset_kinds=(asset_kind,),
            message=f"{SERVICE}, tenant {self.tenant_id}: protection unit {u.id} has status "
            f"{status or 'absent'} (not a status this client knows): whether it is still "
            "protected cannot be told", details={"raw_ref": ref}, **self._covered)]

    async def _restore_points(self, reader: GraphReader, units: Mapping[str, str]
                              ) -> list[Evidence | CollectionError]:
        """The latest restore point of each protected unit within the look-back window."""
        out: list[Evidence | CollectionError] = []
        ids = sorted(units)
        start = self.observed_at - timedelta(days=self.lookback_days)
        for i in range(0, len(ids), SEARCH_CHUNK):
            body = SearchPostRequestBody(
                protection_unit_ids=ids[i:i + SEARCH_CHUNK],
                protection_time_period=TimePeriod(start_date_time=start,
                                                  end_date_time=self.observed_at),
                restore_point_preference=RestorePointPreference.Latest,
            )
            try:
                page = await reader.post(
                    self.client.solutions.backup_restore.restore_points.search, "restore-points",
                    body)
            except GraphFailure as exc:  # these units' restore points only
                out += [self._error(exc, (Kind.BACKUP.value,), (), subject=units[u])
                        for u in ids[i:i + SEARCH_CHUNK]]
                continue
            for hit in page.model.search_results or []:
                point = hit.restore_point
                unit = getattr(getattr(point, "protection_unit", None), "id", None)
                if (point is None or not isinstance(unit, str) or unit not in units
                        or point.protection_date_time is None):
                    continue
                facts = {
                    "outcome": "success",
                    "completed_at": require_utc(point.protection_date_time),
                    "job_id": point.id,
                    "backup_type": "restore point",
                    "expires_at": point.expiration_date_time,
                    "protection_unit_id": unit,
                }
                out.append(self._evidence(Kind.BACKUP, units[unit], facts, page.raw_ref))
        return out

    def _restore_test(self, s: Any, ref: str) -> Evidence | CollectionError | None:
        workload = SESSION_WORKLOADS.get(_type(s))
        status = _wire(s.status)
        outcome = RESTORE_OUTCOME.get(status or "")
        if workload is not None and outcome is None and status not in UNFINISHED:
            # unknownFutureValue, absent, or newer than this client: a finished session may be
            # a failure (``failed`` comes after the sentinel); never read as a known state
            return CollectionError(
                source=self.source, origin=self.origin, kinds=(Kind.RESTORE_TEST.value,),
                operation="restore-sessions", subject=self._workload_subject(workload),
                asset_kinds=(WORKLOAD,),
                message=f"{SERVICE}, tenant {self.tenant_id}: restore session {s.id} has status "
                f"{status or 'absent'}, which this client cannot read as an outcome",
                details={"raw_ref": ref}, **self._covered)
        if workload is None or outcome is None or s.completed_date_time is None:
            return None  # draft or still running: not a finished test
        done = require_utc(s.completed_date_time)
        began = require_utc(s.created_date_time) if s.created_date_time else None
        counts = s.restore_session_artifact_count
        by = getattr(getattr(getattr(s, "created_by", None), "user", None), "display_name", None)
        facts = {
            "outcome": outcome,
            "completed_at": done,
            "duration_minutes": round((done - began).total_seconds() / 60, 1) if began else None,
            "method": "automated",
            "note": f"{_type(s)} {s.id} by {by or 'unknown'}: "
            f"{getattr(counts, 'completed', '?')}/{getattr(counts, 'total', '?')} artifacts "
            f"restored, {getattr(counts, 'failed', '?')} failed",
            "restore_session_id": s.id,
        }
        return self._evidence(Kind.RESTORE_TEST, self._workload_subject(workload), facts, ref)

    def _workload_subject(self, workload: str) -> str:
        return f"m365backup:{self.tenant_id}:{workload}"

    def _workload_asset(self, workload: str, ref: str) -> Evidence:
        facts = {
            "asset_kind": "backup_workload",
            "name": f"{SERVICE}: {WORKLOAD_NAMES[workload]} ({self.tenant_id})",
            "tags": {**self.tags, "workload": workload},
            "tenant_id": self.tenant_id,
        }
        return self._evidence(Kind.ASSET, self._workload_subject(workload), facts, ref)

    def _evidence(self, kind: Kind, subject: str, facts: dict[str, Any], ref: str) -> Evidence:
        return Evidence(
            id=default_evidence_id(kind, self.source, subject, facts),
            kind=kind.value,
            source=self.source,
            subject=subject,
            observed_at=self.observed_at,
            facts=facts,
            origin=self.origin,
            raw_ref=ref,
        )

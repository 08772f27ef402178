"""Backups and restore tests of one account and region (AWS Backup), with the inventory they cover.

* Assets: every resource of the configured types (``inventory.py``), protected or not, so a
  resource AWS Backup never saw still breaches ``backup_freshness``; protected resources of
  types without an inventory reader (S3, FSx...) are assets too. EC2 instances come from the
  patch collector (same ARN subject).
* Backups: ``ListBackupJobs`` (it only covers the last 30 days); for a protected resource with
  no successful job in that window, its newest recovery point (``ListRecoveryPointsByResource``).
* Restore tests: ``ListRestoreJobs`` since ``restore_lookback_days``; jobs started by a restore
  testing plan (``ListRestoreTestingPlans``) are named after it. A completed restore counts as a
  successful test only with a ``SUCCESSFUL`` validation, unless ``require_validation`` is off;
  without one it is ``partial`` (restored, not validated).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from clausewatch.collectors.aws.errors import AWS_FAILURES, collection_error
from clausewatch.collectors.aws.inventory import BACKUP_TYPE_KINDS, READERS, Resource
from clausewatch.collectors.aws.pagination import PageReader
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.evidence import CollectionError, Evidence, Kind

SOURCE = "aws.backup"
JOBS_WINDOW = timedelta(days=30)  # what ListBackupJobs returns at most
JOB_OUTCOMES = {
    "COMPLETED": "success",
    "FAILED": "failed",
    "ABORTED": "aborted",
    "EXPIRED": "expired",
    "PARTIAL": "partial",
}  # CREATED, PENDING, RUNNING, ABORTING: not finished, not evidence yet
POINT_OK = frozenset({"COMPLETED", "AVAILABLE"})
#: AWS Backup's List* operations take MaxResults 1-1000
#: (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListBackupJobs.html).
PAGE = {"PageSize": 1000}


@dataclass(frozen=True, slots=True)
class BackupCollector:
    """Asset, backup and restore-test evidence for one account and region."""

    account_id: str
    region: str
    client: Callable[[str], Any]  # service name -> boto3 client (assumed role, this region)
    raw: RawRecorder
    observed_at: datetime
    _: KW_ONLY
    resource_types: Sequence[str] = tuple(READERS)
    restore_lookback_days: float = 400
    require_validation: bool = True
    partition: str = "aws"
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (
        Kind.ASSET.value, Kind.BACKUP.value, Kind.RESTORE_TEST.value)

    @property
    def origin(self) -> str:
        return f"aws/{self.account_id}/{self.region}"

    def _error(
        self, exc: BaseException, kinds: Sequence[str], source: str = SOURCE, operation: str = "",
        **covered: Any,
    ) -> CollectionError:
        return collection_error(
            exc, source=source, origin=self.origin, kinds=kinds, operation=operation, **covered
        )

    def collect(self) -> Iterator[Evidence | CollectionError]:
        try:
            backup = PageReader(self.client("backup"), self.raw, SOURCE, self.origin)
        except AWS_FAILURES as exc:
            yield self._error(exc, self.kinds, operation="AssumeRole")
            return
        inventoried: set[str] = set()
        for kind in self.resource_types:
            service, reader = READERS[kind]
            try:
                client = PageReader(self.client(service), self.raw, f"aws.{service}",
                                    self.origin)
                for res in reader(client, self.account_id, self.region, self.partition):
                    inventoried.add(res.arn)
                    yield self._asset(res)
            except AWS_FAILURES as exc:  # covers this resource type's assets, nothing else
                yield self._error(exc, (Kind.ASSET.value,), source=f"aws.{service}",
                                  asset_kinds=(BACKUP_TYPE_KINDS[kind],), resource_types=(kind,))
        yield from self._backups(backup, inventoried)
        yield from self._restores(backup)

    def _backups(
        self, backup: PageReader, inventoried: set[str]
    ) -> Iterator[Evidence | CollectionError]:
        kinds = (Kind.BACKUP.value,)
        protected: dict[str, tuple[dict[str, Any], str]] = {}
        try:
            for page, ref in backup.pages("list_protected_resources", PaginationConfig=PAGE):
                for res in page.get("Results", []):
                    protected[res["ResourceArn"]] = (res, ref)
        except AWS_FAILURES as exc:
            yield self._error(exc, kinds)
        for arn, (res, ref) in sorted(protected.items()):
            rtype = str(res.get("ResourceType", ""))
            if arn in inventoried or rtype == "EC2" or rtype in self.resource_types:
                continue  # inventoried here or by the patch collector (or gone)
            yield self._asset(Resource(
                arn=arn, source=SOURCE, asset_kind=BACKUP_TYPE_KINDS.get(rtype, rtype.lower()),
                name=res.get("ResourceName"), raw_ref=ref, details={"resource_type": rtype},
            ))
        fresh: set[str] = set()
        try:
            since = self.observed_at - JOBS_WINDOW
            for page, ref in backup.pages("list_backup_jobs", ByCreatedAfter=since,
                                              PaginationConfig=PAGE):
                for job in page.get("BackupJobs", []):
                    ev = self._job(job, ref)
                    if ev is not None:
                        if ev.facts["outcome"] == "success":
                            fresh.add(ev.subject)
                        yield ev
        except AWS_FAILURES as exc:
            yield self._error(exc, kinds)
            return
        for arn in sorted(set(protected) - fresh):
            try:
                point = self._newest_point(backup, arn)
            except AWS_FAILURES as exc:  # this resource's recovery points only
                yield self._error(exc, kinds, subject=arn)
                continue
            if point is not None:
                yield point

    def _job(self, job: Mapping[str, Any], ref: str) -> Evidence | None:
        outcome = JOB_OUTCOMES.get(str(job.get("State")))
        completed = job.get("CompletionDate")
        if outcome is None or not isinstance(completed, datetime):
            return None
        facts = {
            "outcome": outcome,
            "completed_at": completed,
            "started_at": job.get("CreationDate"),
            "job_id": job.get("BackupJobId"),
            "backup_type": job.get("BackupType") or job.get("ResourceType"),
            "size_bytes": job.get("BackupSizeInBytes"),
            "status_message": job.get("StatusMessage"),
            "recovery_point": job.get("RecoveryPointArn"),
        }
        return self._evidence(Kind.BACKUP, job["ResourceArn"], f"{job['BackupJobId']}", facts,
                              ref)

    def _newest_point(self, backup: PageReader, arn: str) -> Evidence | None:
        best: tuple[dict[str, Any], str] | None = None
        for page, ref in backup.pages("list_recovery_points_by_resource", ResourceArn=arn,
                                       PaginationConfig=PAGE):
            for point in page.get("RecoveryPoints", []):
                if point.get("Status") not in POINT_OK or not point.get("CreationDate"):
                    continue
                if best is None or point["CreationDate"] > best[0]["CreationDate"]:
                    best = (point, ref)
        if best is None:
            return None
        point, ref = best
        facts = {
            "outcome": "success",
            "completed_at": point["CreationDate"],
            "started_at": None,
            "job_id": None,
            "backup_type": "recovery point",
            "size_bytes": point.get("BackupSizeBytes"),
            "recovery_point": point.get("RecoveryPointArn"),
        }
        return self._evidence(Kind.BACKUP, arn, str(point["RecoveryPointArn"]), facts, ref)

    def _restores(self, backup: PageReader) -> Iterator[Evidence | CollectionError]:
        kinds = (Kind.RESTORE_TEST.value,)
        plans: dict[str, str] = {}
        try:
            for page, _ in backup.pages("list_restore_testing_plans", PaginationConfig=PAGE):
                for plan in page.get("RestoreTestingPlans", []):
                    plans[plan["RestoreTestingPlanArn"]] = plan["RestoreTestingPlanName"]
            since = self.observed_at - timedelta(days=self.restore_lookback_days)
            for page, ref in backup.pages("list_restore_jobs", ByCreatedAfter=since,
                                              PaginationConfig=PAGE):
                for job in page.get("RestoreJobs", []):
                    ev = self._restore(job, ref, plans)
                    if ev is not None:
                        yield ev
        except AWS_FAILURES as exc:
            yield self._error(exc, kinds)

    def _restore(
        self, job: Mapping[str, Any], ref: str, plans: Mapping[str, str]
    ) -> Evidence | None:
        status = job.get("Status")
        completed = job.get("CompletionDate")
        subject = job.get("SourceResourceArn")
        if status not in ("COMPLETED", "FAILED", "ABORTED") or not subject:
            return None
        if not isinstance(completed, datetime):
            return None
        validation = job.get("ValidationStatus")
        if status != "COMPLETED" or validation in ("FAILED", "TIMED_OUT"):
            outcome = "failed"
        elif validation == "SUCCESSFUL":
            outcome = "success"
        elif validation == "VALIDATING":
            return None  # not decided yet
        else:
            outcome = "partial" if self.require_validation else "success"
        plan_arn = (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn")
        origin = f"restore testing plan {plans.get(plan_arn, plan_arn)}" if plan_arn else \
            "restore job"
        started = job.get("CreationDate")
        duration = (completed - started).total_seconds() / 60 if started else None
        note = f"{origin}; status {status}; validation {validation or 'none'}"
        message = job.get("ValidationStatusMessage") or job.get("StatusMessage")
        facts = {
            "outcome": outcome,
            "completed_at": completed,
            "duration_minutes": round(duration, 1) if duration is not None else None,
            "method": "automated",
            "note": f"{note}: {message}" if message else note,
            "job_id": job.get("RestoreJobId"),
            "restore_testing_plan": plan_arn,
            "recovery_point_created_at": job.get("RecoveryPointCreationDate"),
        }
        return self._evidence(Kind.RESTORE_TEST, subject, str(job["RestoreJobId"]), facts, ref)

    def _asset(self, res: Resource) -> Evidence:
        facts: dict[str, Any] = {
            "asset_kind": res.asset_kind,
            "name": res.name,
            "tags": res.tags,
            **res.details,
        }
        return Evidence(
            id=f"{res.source}:asset:{res.arn}",
            kind=Kind.ASSET,
            source=res.source,
            subject=res.arn,
            observed_at=self.observed_at,
            facts=facts,
            origin=self.origin,
            raw_ref=res.raw_ref,
        )

    def _evidence(
        self, kind: str, subject: str, key: str, facts: dict[str, Any], ref: str
    ) -> Evidence:
        return Evidence(
            id=f"{SOURCE}:{kind}:{key}",
            kind=kind,
            source=SOURCE,
            subject=subject,
            observed_at=self.observed_at,
            facts=facts,
            origin=self.origin,
            raw_ref=ref,
        )

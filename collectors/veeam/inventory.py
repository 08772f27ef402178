"""Jobs and their protected objects, as ``asset`` records of one Veeam B&R server.

* A backup job is an asset (``asset_kind: backup_job``, subject ``veeam:<server>:job:<id>``):
  from ``/jobs``, ``/jobs/states`` and the ``jobId`` of ``/backups`` (before 1.3, agent and
  file-share jobs are not in ``/jobs``; a deleted job's backups still name it).
* A protected object is an asset (subject ``veeam:<server>:<object name>``; ``vm``,
  ``server``, ``workstation``, ``file_share``): every object Veeam actually backed up, from
  ``/backups/{id}/objects``, and every machine a job names explicitly in its selection even if
  no backup of it exists yet, so that an object never backed up is in scope and breached, not
  absent. A job's selection may also hold containers (a folder, a tag, a protection group):
  their members are known only once Veeam has backed them up; the rules are listed on the job.
* Tags: the entry's ``tags``, plus ``veeam_server``, ``veeam_job`` (the job's name; an object
  in several jobs gets their names sorted and joined by `` | ``), ``veeam_platform`` and, on a
  job, ``veeam_job_type`` and ``veeam_job_status`` (enums in lower case).

An object in two jobs (or two backups) is one asset: it is protected if either protects it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from clausewatch.collectors.veeam.model import (
    NOT_BACKUP_JOBS,
    ZERO_ID,
    Include,
    includes,
    norm,
    object_kind,
    text,
)

JOB_SEPARATOR = " | "


@dataclass(slots=True)
class Job:
    """One backup job, merged from the listings that name it."""

    id: str
    name: str
    type: str = ""
    status: str = ""  # EJobStatus, lower case ('' when no listing says)
    last_result: str = ""
    last_run: str | None = None
    agent_type: str = ""
    selection: list[Include] = field(default_factory=list)
    listed_in: set[str] = field(default_factory=set)  # jobs, jobs/states, backups
    ref: str = ""


@dataclass(slots=True)
class Protected:
    """One protected object, merged over the backups and job selections that name it."""

    subject: str
    name: str
    kind: str
    jobs: dict[str, str] = field(default_factory=dict)  # job id (or backup id) -> name
    backup_ids: set[str] = field(default_factory=set)
    object_ids: set[str] = field(default_factory=set)
    platform: str = ""
    type: str = ""
    path: str | None = None
    restore_points: int | None = None
    last_run_failed: bool | None = None
    selected: bool = False  # named explicitly in a job's selection
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup chain (``BackupModel``): its job and name (the job's name)."""

    id: str
    job_id: str | None
    name: str


class Inventory:
    """What one server protects: jobs, backups and objects, and name lookups for sessions."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.jobs: dict[str, Job] = {}
        self.backups: dict[str, Backup] = {}
        self.objects: dict[str, Protected] = {}  # casefolded name -> object

    # -- subjects ------------------------------------------------------------------------
    def job_subject(self, job_id: str) -> str:
        return f"veeam:{self.server}:job:{job_id}"

    def object_subject(self, name: str) -> str:
        """The subject of the object named ``name`` (the known spelling when there is one)."""
        known = self.objects.get(name.casefold())
        return known.subject if known else f"veeam:{self.server}:{name}"

    def resolve(self, name: str) -> str:
        """The subject a restore or SureBackup task named ``name`` is about: the object of that
        name (case-insensitive), else the one object whose host name is ``name`` without its
        domain (``fs01`` for ``fs01.corp.example``), else the name's own subject."""
        if name.casefold() in self.objects:
            return self.objects[name.casefold()].subject
        short = _short(name)
        hits = [o for o in self.objects.values() if short and _short(o.name) == short]
        return hits[0].subject if len(hits) == 1 else self.object_subject(name)

    # -- reading -------------------------------------------------------------------------
    def add_job(self, job: Mapping[str, Any], ref: str) -> None:
        """One ``JobModel`` of ``/jobs``: its type, whether disabled, its selection."""
        found = self._job(job, ref, "jobs")
        if found is None:
            return
        if job.get("isDisabled") is True and not found.status:
            found.status = "disabled"
        found.agent_type = norm(job.get("agentType"))
        found.selection = list(includes(job))
        for inc in found.selection:
            if inc.kind is not None:
                obj = self._object(inc.name, inc.kind, ref)
                obj.jobs[found.id] = found.name
                obj.selected = True
                obj.platform = obj.platform or inc.platform

    def add_state(self, state: Mapping[str, Any], ref: str) -> None:
        """One ``JobStateModel`` of ``/jobs/states``: status, last result and run."""
        found = self._job(state, ref, "jobs/states")
        if found is None:
            return
        found.status = norm(state.get("status")) or found.status
        found.last_result = norm(state.get("lastResult"))
        found.last_run = text(state.get("lastRun"))

    def add_backup(self, backup: Mapping[str, Any], ref: str) -> Backup | None:
        """One ``BackupModel`` of ``/backups``; its job is added when no listing had it."""
        backup_id = text(backup.get("id"))
        if backup_id is None:
            return None
        job_id = text(backup.get("jobId"))
        job_id = None if job_id == ZERO_ID else job_id
        name = text(backup.get("name")) or backup_id
        if job_id is not None and norm(backup.get("jobType")) not in NOT_BACKUP_JOBS:
            self._job({"id": job_id, "name": name, "type": backup.get("jobType") or ""},
                      ref, "backups")
        found = self.backups[backup_id] = Backup(backup_id, job_id, name)
        return found

    def add_object(self, backup: Backup, obj: Mapping[str, Any], ref: str) -> None:
        """One ``BackupObjectModel`` of ``/backups/{id}/objects``."""
        name = text(obj.get("name"))
        if name is None:
            return
        job = self.jobs.get(backup.job_id or "")
        found = self._object(name, object_kind(obj, job.agent_type if job else ""), ref)
        found.jobs[job.id if job else backup.id] = job.name if job else backup.name
        found.backup_ids.add(backup.id)
        if text(obj.get("id")):
            found.object_ids.add(str(obj["id"]))
        found.platform = str(obj.get("platformName") or "") or found.platform
        found.type = found.type or str(obj.get("type") or "")
        found.path = found.path or text(obj.get("path"))
        count = obj.get("restorePointsCount")
        if isinstance(count, int) and not isinstance(count, bool):
            found.restore_points = (found.restore_points or 0) + count
        if isinstance(obj.get("lastRunFailed"), bool):
            found.last_run_failed = bool(found.last_run_failed) or obj["lastRunFailed"]

    def add_task_object(self, name: str, job_id: str, platform: str, ref: str) -> None:
        """An object a job's session processed (a member of a folder or tag the job selects,
        which no backup holds when every run of it failed)."""
        job = self.jobs[job_id]
        obj = self._object(name, object_kind({"platformName": platform}, job.agent_type), ref)
        obj.jobs.setdefault(job.id, job.name)
        obj.platform = obj.platform or platform

    def _job(self, job: Mapping[str, Any], ref: str, listing: str) -> Job | None:
        job_id, name = text(job.get("id")), text(job.get("name"))
        kind = str(job.get("type") or "")
        if job_id is None or job_id == ZERO_ID or norm(kind) in NOT_BACKUP_JOBS:
            return None
        found = self.jobs.get(job_id)
        if found is None:
            found = self.jobs[job_id] = Job(job_id, name or job_id, kind, ref=ref)
        if listing != "backups":  # a listing of jobs names it better than a backup does
            found.name = name or found.name
            found.type = kind or found.type
        found.listed_in.add(listing)
        return found

    def _object(self, name: str, kind: str, ref: str) -> Protected:
        key = name.casefold()
        if key not in self.objects:
            self.objects[key] = Protected(f"veeam:{self.server}:{name}", name, kind, ref=ref)
        return self.objects[key]

    # -- records -------------------------------------------------------------------------
    def job_assets(self, tags: Mapping[str, str]) -> Iterator[tuple[str, dict[str, Any], str]]:
        """``(subject, facts, raw_ref)`` of each job."""
        for job in sorted(self.jobs.values(), key=lambda j: (j.name, j.id)):
            rules = [f"{i.type} {i.name}" for i in job.selection if i.kind is None]
            facts: dict[str, Any] = {
                "asset_kind": "backup_job",
                "name": job.name,
                "tags": {**tags, "veeam_server": self.server, "veeam_job": job.name,
                         "veeam_job_type": norm(job.type), "veeam_job_status": job.status},
                "job_id": job.id,
                "job_type": job.type,
                "status": job.status or None,
                "last_result": job.last_result or None,
                "last_run": job.last_run,
                "selection": [f"{i.type} {i.name}" for i in job.selection],
                "selection_rules": rules,
                "listed_in": sorted(job.listed_in),
            }
            yield self.job_subject(job.id), facts, job.ref

    def object_assets(self, tags: Mapping[str, str]
                      ) -> Iterator[tuple[str, dict[str, Any], str]]:
        """``(subject, facts, raw_ref)`` of each protected object."""
        for obj in sorted(self.objects.values(), key=lambda o: o.subject):
            facts: dict[str, Any] = {
                "asset_kind": obj.kind,
                "name": obj.name,
                "tags": {**tags, "veeam_server": self.server,
                         "veeam_job": JOB_SEPARATOR.join(sorted(set(obj.jobs.values()))),
                         "veeam_platform": norm(obj.platform)},
                "jobs": sorted(set(obj.jobs.values())),
                "job_ids": sorted(obj.jobs),
                "backup_ids": sorted(obj.backup_ids),
                "veeam_object_ids": sorted(obj.object_ids),
                "platform": obj.platform or None,
                "veeam_type": obj.type or None,
                "path": obj.path,
                "restore_points_count": obj.restore_points,
                "last_run_failed": obj.last_run_failed,
                "selected_in_job": obj.selected,
                "in_backups": bool(obj.backup_ids),
            }
            yield obj.subject, facts, obj.ref


def _short(name: str) -> str:
    """A host name without its domain, '' for paths (file shares) and empty names."""
    if not name or "\\" in name or "/" in name:
        return ""
    return name.split(".", 1)[0].casefold()

"""The Veeam Backup & Replication collector: one server, its assets, backups and restore tests.

Reads, in order (each page saved raw, named in ``raw_ref``):

1. ``GET /api/v1/serverTime`` (needs no role): the server's time zone, for offset-less times;
2. the inventory: ``/jobs``, ``/jobs/states``, ``/backups`` and ``/backups/{id}/objects``;
3. ``/sessions`` created within ``lookback_days``, with the task sessions of each backup
   session that did not succeed and of each SureBackup session;
4. the restore points created within ``lookback_days``.

Failures bear on what they could have covered: the server unreachable, the login refused or the
inventory unreadable leave every kind without evidence (``asset``, ``backup``,
``restore_test``); the sessions ``backup`` and ``restore_test``; task sessions of a backup
session or the restore points ``backup``; task sessions of a SureBackup session
``restore_test``. Records whose times cannot be placed (no offset, no server time zone) are
left out and reported as one error per kind. Origin: ``veeam/<name>``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.errors import GaveUp
from clausewatch.collectors.rest.mapper import REST_FAILURES, Redact, collection_error
from clausewatch.collectors.rest.session import Params, RestSession
from clausewatch.collectors.veeam.api import DEFAULT_API_VERSION, VeeamReader
from clausewatch.collectors.veeam.auth import VeeamAuth
from clausewatch.collectors.veeam.inventory import Inventory
from clausewatch.collectors.veeam.model import RESTORE_TASK, norm, text
from clausewatch.collectors.veeam.records import (
    Run,
    backup_facts,
    category,
    finished,
    point_facts,
    restore_facts,
)
from clausewatch.collectors.veeam.timestamps import ServerZone
from clausewatch.core.clock import iso_z
from clausewatch.core.evidence import CollectionError, Evidence, Kind, default_evidence_id

log = logging.getLogger(__name__)
SOURCE = "veeam"
ALL_KINDS = (Kind.ASSET.value, Kind.BACKUP.value, Kind.RESTORE_TEST.value)
SESSION_KINDS = {"backup": Kind.BACKUP.value, "restore": Kind.RESTORE_TEST.value,
                 "surebackup": Kind.RESTORE_TEST.value}
Item = Evidence | CollectionError


@dataclass(frozen=True, slots=True)
class VeeamCollector:
    """Jobs, protected objects, backups and restore tests of one Veeam B&R server."""

    name: str
    session: RestSession
    raw: RawRecorder
    observed_at: datetime
    redact: Redact
    _: KW_ONLY
    api_version: str = DEFAULT_API_VERSION
    tags: Mapping[str, str] = field(default_factory=dict)
    lookback_days: int = 100
    server_timezone: str | None = None
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = ALL_KINDS

    @property
    def origin(self) -> str:
        return f"{SOURCE}/{self.name}"

    def collect(self) -> Iterator[Item]:
        with self.session:
            items = _Collection(self).run()
            self._logout()
        yield from items

    def _logout(self) -> None:
        """``POST /api/oauth2/logout`` (the tokens become invalid); a failure is only logged:
        no evidence depends on it."""
        auth = self.session.client.auth
        if not isinstance(auth, VeeamAuth) or auth.token is None:
            return
        try:
            self.session.client.post("oauth2/logout")
        except httpx.HTTPError as exc:
            log.warning("veeam %s: logout failed: %s", self.name, self.redact(str(exc)))


class _Collection:
    """The state of one collection: what has been read so far, and what could not be."""

    def __init__(self, c: VeeamCollector) -> None:
        self.c = c
        self.api = VeeamReader(c.session, c.raw, c.source, c.origin, c.api_version)
        self.inventory = Inventory(c.name)
        self.zone = ServerZone(None, "serverTime not read yet")
        self.records: list[Evidence] = []
        self.errors: list[CollectionError] = []
        self.unplaced: dict[str, list[str]] = defaultdict(list)  # kind -> reasons
        self.runs: dict[str, Run] = {}  # backup session id -> run
        self.by_job: dict[str, list[Run]] = defaultdict(list)
        self.by_point: dict[str, Run] = {}  # restore point id -> the task that made it
        self.since = iso_z(c.observed_at - timedelta(days=c.lookback_days))
        self.step = "login"  # the step running, named in a fatal error

    def run(self) -> list[Item]:
        try:
            self._server_time()
            self._inventory()
        except REST_FAILURES as exc:
            return [*self.records, self._error(exc, ALL_KINDS, self.step)]
        sessions_read = self._step("sessions", (Kind.BACKUP.value, Kind.RESTORE_TEST.value),
                                   self._sessions)
        if sessions_read:
            self._step("restore-points", (Kind.BACKUP.value,), self._restore_points)
        else:
            self.errors.append(CollectionError(
                source=self.c.source, origin=self.c.origin, kinds=(Kind.BACKUP.value,),
                tags=dict(self.c.tags), operation="restore-points",
                message="restore points not read: their outcome depends on the sessions, which "
                "could not be read"))
        return [*self._assets(), *self.records, *self._unplaced(), *self.errors]

    # -- steps --------------------------------------------------------------------------
    def _step(self, operation: str, kinds: tuple[str, ...], read: Callable[..., None],
              *args: Any) -> bool:
        try:
            read(*args)
            return True
        except REST_FAILURES as exc:
            self.errors.append(self._error(exc, kinds, operation))
            return False

    def _server_time(self) -> None:
        """The zone from ``serverTime``. An HTTP error leaves it unknown (said in the reason);
        an unreachable server or a refused login ends the collection."""
        self.step = "server-time"
        try:
            body, _ = self.api.get("server-time", "v1/serverTime")
        except REST_FAILURES as exc:
            last = exc.last if isinstance(exc, GaveUp) else exc
            if not isinstance(last, httpx.HTTPStatusError):
                raise
            reason = self._error(exc, (), "server-time").message
            self.zone = ServerZone.establish(None, self.c.server_timezone, reason)
            return
        self.zone = ServerZone.establish(body if isinstance(body, Mapping) else None,
                                         self.c.server_timezone)

    def _inventory(self) -> None:
        inv, api = self.inventory, self.api
        order: Params = {"orderColumn": "Name", "orderAsc": True}
        self.step = "jobs"
        for items, ref in api.pages("jobs", "v1/jobs", order):
            for job in items:
                inv.add_job(job, ref)
        self.step = "jobs-states"
        for items, ref in api.pages("jobs-states", "v1/jobs/states", order):
            for state in items:
                inv.add_state(state, ref)
        self.step = "backups"
        backups = []
        for items, ref in api.pages("backups", "v1/backups", order):
            backups += [b for b in (inv.add_backup(x, ref) for x in items) if b is not None]
        self.step = "backup-objects"
        for backup in backups:
            for items, ref in api.pages("backup-objects", f"v1/backups/{backup.id}/objects"):
                for obj in items:
                    inv.add_object(backup, obj, ref)

    def _sessions(self) -> None:
        params: Params = {"createdAfterFilter": self.since, "orderColumn": "CreationTime",
                          "orderAsc": True}
        later: list[tuple[Run, str]] = []
        for items, ref in self.api.pages("sessions", "v1/sessions", params):
            for session in items:
                kind = category(session)
                if not kind:
                    continue
                run = self._finished(session, SESSION_KINDS[kind], "session")
                if run is None:
                    continue
                if kind == "backup":
                    self._backup_run(run, ref)
                    if run.outcome(backup=True) != "success":
                        later.append((run, kind))
                elif kind == "restore":
                    self._record(Kind.RESTORE_TEST, self.inventory.resolve(run.name),
                                 restore_facts(run), ref, run.id)
                else:
                    later.append((run, kind))
        if not self.api.has_task_sessions:
            return
        for run, kind in later:
            self._step("task-sessions", (SESSION_KINDS[kind],), self._tasks, run, kind)

    def _backup_run(self, run: Run, ref: str) -> None:
        self.runs[run.id] = run
        if run.job_id is None:
            return
        self.by_job[run.job_id].append(run)
        self._record(Kind.BACKUP, self.inventory.job_subject(run.job_id), backup_facts(run),
                     ref, run.id)

    def _tasks(self, run: Run, kind: str) -> None:
        """The object tasks of a backup session that did not succeed (each object's own
        outcome), or the ``Restore`` tasks of a SureBackup session (one test per object)."""
        path = f"v1/sessions/{run.id}/taskSessions"
        order: Params = {"orderColumn": "Name", "orderAsc": True}
        for items, ref in self.api.pages("task-sessions", path, order):
            for item in items:
                task_type = norm(item.get("type"))
                if kind == "surebackup" and task_type == RESTORE_TASK:
                    task = self._finished(item, Kind.RESTORE_TEST.value, "task session",
                                          kind_key="type")
                    if task is not None:
                        self._record(Kind.RESTORE_TEST, self.inventory.resolve(task.name),
                                     restore_facts(run, test=task), ref, task.id)
                elif kind == "backup" and task_type == "backup":
                    self._backup_task(run, item, ref)

    def _backup_task(self, run: Run, item: Mapping[str, Any], ref: str) -> None:
        task = self._finished(item, Kind.BACKUP.value, "task session", kind_key="type")
        name = text(item.get("name"))
        if task is None or name is None:
            return
        if run.job_id in self.inventory.jobs:  # an object of a container, seen by its task
            self.inventory.add_task_object(name, run.job_id, str(item.get("platformType") or ""),
                                           ref)
        if task.restore_point_id is not None:
            self.by_point[task.restore_point_id] = task
            return
        facts = {**backup_facts(task), "job_id": run.job_id, "session_id": run.id,
                 "task_id": task.id, "job_name": run.name, "backup_type": run.type}
        self._record(Kind.BACKUP, self.inventory.object_subject(name), facts, ref, task.id)

    def _restore_points(self) -> None:
        params: Params = {"createdAfterFilter": self.since, "orderColumn": "CreationTime",
                          "orderAsc": True}
        for items, ref in self.api.pages("restore-points", self.api.restore_points_path,
                                         params):
            for point in items:
                name = text(point.get("name"))
                try:
                    created = self.zone.parse(point.get("creationTime"),
                                              "restore point creationTime")
                except ValueError as exc:
                    self.unplaced[Kind.BACKUP.value].append(str(exc))
                    continue
                if name is None or created is None:
                    self.unplaced[Kind.BACKUP.value].append(
                        f"restore point {point.get('id')!r} has no name or creationTime")
                    continue
                backup = self.inventory.backups.get(str(point.get("backupId")))
                job = backup.job_id if backup else None
                made_by = self._made_by(point, created, job)
                self._record(Kind.BACKUP, self.inventory.object_subject(name),
                             point_facts(point, created, job, made_by), ref,
                             str(point.get("id")))

    def _made_by(self, point: Mapping[str, Any], created: datetime, job: str | None
                 ) -> Run | None:
        """The run whose outcome a restore point takes: the object's task, else the session
        named by ``sessionId``, else the job's session whose run spans the point."""
        task = self.by_point.get(str(point.get("id")))
        if task is not None:
            return task
        session = self.runs.get(str(point.get("sessionId")))
        if session is not None:
            return session
        spans = [r for r in self.by_job.get(job or "", ())
                 if r.started is not None and r.started <= created <= r.ended]
        return spans[-1] if spans else None

    # -- records ------------------------------------------------------------------------
    def _finished(self, record: Mapping[str, Any], kind: str, what: str, *,
                  kind_key: str = "sessionType") -> Run | None:
        try:
            return finished(record, self.zone, f"{what} {record.get('id')!r}",
                            kind_key=kind_key)
        except ValueError as exc:  # an unreadable or unplaceable time
            self.unplaced[kind].append(str(exc))
            return None

    def _record(self, kind: Kind, subject: str, facts: dict[str, Any], ref: str,
                key: str) -> None:
        self.records.append(self._evidence(kind, subject, facts, ref, key))

    def _evidence(self, kind: Kind, subject: str, facts: dict[str, Any], ref: str,
                  key: str = "") -> Evidence:
        base = default_evidence_id(kind.value, self.c.source, subject, facts)
        return Evidence(id=f"{base}:{key}" if key else base, kind=kind.value,
                        source=self.c.source, subject=subject, observed_at=self.c.observed_at,
                        facts=facts, origin=self.c.origin, raw_ref=ref)

    def _assets(self) -> Iterator[Evidence]:
        tags = dict(self.c.tags)
        for subject, facts, ref in [*self.inventory.job_assets(tags),
                                    *self.inventory.object_assets(tags)]:
            yield self._evidence(Kind.ASSET, subject, facts, ref)

    def _unplaced(self) -> Iterator[CollectionError]:
        for kind, reasons in sorted(self.unplaced.items()):
            yield CollectionError(
                source=self.c.source, origin=self.c.origin, kinds=(kind,),
                operation="timestamps", tags=dict(self.c.tags),
                message=self.c.redact(f"{len(reasons)} record(s) left out: {reasons[0]}"),
                details={"reasons": [self.c.redact(r) for r in reasons[:20]]})

    def _error(self, exc: BaseException, kinds: tuple[str, ...], operation: str
               ) -> CollectionError:
        error = collection_error(exc, source=self.c.source, origin=self.c.origin, kinds=kinds,
                                 operation=operation, redact=self.c.redact,
                                 tags=dict(self.c.tags))
        if "NotImplemented" in error.message and "HTTP 400" in error.message:
            return dataclasses.replace(error, message=f"{error.message} (x-api-version "
                                       f"{self.c.api_version}: set api_version to a revision "
                                       "this server supports)")
        return error

"""Veeam sessions, task sessions and restore points as ``backup`` and ``restore_test`` facts.

* A finished backup session (``BackupJob``, ``Job`` in 1.1, agent/copy/log backups in 1.3) is
  a ``backup`` of its job. ``Success`` is ``success``, ``Warning`` is ``partial`` (a run that
  completed with warnings; ``backup_freshness`` counts it only with ``accept_warning``),
  ``Failed`` is ``failed``, a canceled run ``aborted``, and a finished session without a result
  ``failed``. The Veeam result and message are kept in ``veeam_result``/``veeam_message``.
* A restore point is a ``backup`` of its object, completed at its ``creationTime``. Its outcome
  is that of the object's own task in the session that created it when the session did not
  succeed (``/sessions/{id}/taskSessions``, ``type: Backup``, ``restorePointId``), else that of
  the session (``sessionId``, or the job's session whose run spans the point); a point no
  session accounts for is ``success`` (it exists) with ``veeam_result: null``. A failed object
  task that left no point is a ``failed`` backup of the object.
* A finished restore session (``RestoreVm``, ``InstantRecovery``, ``FileLevelRestore``...) and
  each ``Restore`` task of a finished ``SureBackup`` session is a ``restore_test`` of the object
  it names, with ``duration_minutes`` = ``endTime - creationTime`` of the session (the whole
  SureBackup run, lab start included: the conservative figure for an RTO).
A session is finished when ``state`` is ``Stopped`` (ESessionState); a finished one without
``endTime`` is left out and reported, like a time that cannot be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clausewatch.collectors.veeam.model import (
    BACKUP_SESSIONS,
    FINISHED,
    OUTCOMES,
    RESTORE_SESSIONS,
    SUREBACKUP,
    norm,
    session_job,
    session_result,
    text,
)
from clausewatch.collectors.veeam.timestamps import ServerZone


@dataclass(frozen=True, slots=True)
class Run:
    """A finished session or task session."""

    id: str
    job_id: str | None
    type: str  # sessionType (sessions) or type (task sessions), as Veeam spells it
    name: str
    result: str  # ESessionResult as given ('' when absent)
    message: str
    canceled: bool
    started: datetime | None
    ended: datetime
    restore_point_id: str | None = None

    def outcome(self, *, backup: bool) -> str:
        """The evidence outcome: ``success``, ``partial``, ``failed`` (or ``aborted``, for a
        canceled backup; a canceled restore test is ``failed``)."""
        if self.canceled:
            return "aborted" if backup else "failed"
        return OUTCOMES.get(norm(self.result), "failed")

    def minutes(self) -> float | None:
        if self.started is None:
            return None
        return round(max(0.0, (self.ended - self.started).total_seconds() / 60), 1)


def category(session: Mapping[str, Any]) -> str:
    """The category of a session before its times are read (see :attr:`Run.category`)."""
    kind = norm(session.get("sessionType"))
    if kind in BACKUP_SESSIONS:
        return "backup"
    if kind in RESTORE_SESSIONS:
        return "restore"
    return "surebackup" if kind == SUREBACKUP else ""


def finished(record: Mapping[str, Any], zone: ServerZone, what: str, *,
             kind_key: str = "sessionType") -> Run | None:
    """The run of a session (``kind_key`` ``sessionType``) or task session (``type``), None
    while it is not finished. Raises ``ValueError`` (``NoServerZone`` included) when a time it
    needs cannot be read, and when a ``Stopped`` record has no ``endTime`` (null or
    ``0001-01-01T00:00:00``): ``Stopped`` is the finished state of a session, whose
    ``EndTime`` is "the date and time of session end" (nullable for the states before it:
    https://helpcenter.veeam.com/archive/backup/95/powershell/vbrsession.html; the REST
    ``SessionModel`` as in notes/veeam.md §5-§8). Dropped silently, such a failed session
    would leave the restore points it made with no run accounting for them: ``success``."""
    if norm(record.get("state")) != FINISHED:
        return None
    ended = zone.parse(record.get("endTime"), f"{what} endTime")
    if ended is None:
        raise ValueError(f"{what} is Stopped but has no endTime ({record.get('endTime')!r}): "
                         "when it finished, and so what it accounts for, is unknown")
    started = zone.parse(record.get("creationTime"), f"{what} creationTime")
    _, message, canceled = session_result(record)
    result = record.get("result")
    given = result.get("result") if isinstance(result, Mapping) else None
    return Run(
        id=str(record.get("id") or ""),
        job_id=session_job(record),
        type=str(record.get(kind_key) or ""),
        name=str(record.get("name") or ""),
        result=given if isinstance(given, str) else "",
        message=message,
        canceled=canceled,
        started=started,
        ended=ended,
        restore_point_id=text(record.get("restorePointId")),
    )


def session_facts(run: Run, *, backup: bool) -> dict[str, Any]:
    """The facts every record derived from one run carries."""
    return {
        "outcome": run.outcome(backup=backup),
        "completed_at": run.ended,
        "veeam_result": run.result or None,
        "veeam_message": run.message or None,
        "canceled": run.canceled,
        "session_id": run.id,
        "session_type": run.type,
    }


def backup_facts(run: Run) -> dict[str, Any]:
    """A backup session of a job."""
    return {**session_facts(run, backup=True), "started_at": run.started,
            "job_id": run.job_id, "backup_type": run.type, "job_name": run.name}


def restore_facts(run: Run, *, test: Run | None = None) -> dict[str, Any]:
    """A restore session, or (``test``) a SureBackup ``Restore`` task in session ``run``."""
    own = test or run
    facts = {**session_facts(own, backup=False), "duration_minutes": run.minutes(),
             "method": "automated", "session_type": run.type, "session_id": run.id,
             "note": f"Veeam {run.type} session {run.name!r}"
                     + (f", task {own.name!r}" if test else "")
                     + f": {own.result or 'no result'}"
                     + (f" ({own.message})" if own.message else "")}
    if test is not None:
        facts["task_id"] = test.id
        facts["task_duration_minutes"] = test.minutes()
    return facts


def point_facts(point: Mapping[str, Any], created: datetime, backup_job: str | None,
                source: Run | None) -> dict[str, Any]:
    """A restore point; ``source`` is the run its outcome is taken from (None: unknown)."""
    return {
        "outcome": source.outcome(backup=True) if source else "success",
        "completed_at": created,
        "job_id": backup_job,
        "backup_type": f"restore point ({point.get('type') or 'unknown type'})",
        "restore_point_id": point.get("id"),
        "backup_id": point.get("backupId"),
        "session_id": source.id if source else text(point.get("sessionId")),
        "veeam_result": (source.result or None) if source else None,
        "veeam_message": (source.message or None) if source else None,
        "malware_status": point.get("malwareStatus"),
    }

"""What Veeam's enums and shapes mean, across API revisions 1.1-rev0 to 1.3-rev2.

Enums are compared case-insensitively: ``status`` and ``workload`` are lower case up to
1.3-rev0 and capitalised from 1.3-rev1 (``inactive`` / ``Inactive``), the grant type enum is
capitalised in 1.3-rev1+, and Veeam's own examples print values outside the enum (``VmWare``).
Unknown values are data, never errors. Sources: Veeam's OpenAPI documents of each revision as
summarised in notes/veeam.md §5-§7 (ESessionType, ESessionResult, ESessionState, EJobType,
EPlatformType, the include shapes of ``JobModel``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: ``ESessionResult`` -> evidence outcome. ``None`` (running or never ran) has no outcome.
OUTCOMES = {"success": "success", "warning": "partial", "failed": "failed"}

#: Session types that are backup runs: ``Job`` (1.1-rev0) was renamed ``BackupJob`` (1.2);
#: agent, copy, log and endpoint backups came with 1.3.
BACKUP_SESSIONS = frozenset({
    "job", "backupjob", "agentbackup", "backupcopyjob", "endpointbackup", "sqllogbackup",
    "oraclelogbackup", "postgresqllogbackup",
})
#: Session types that are real restores (a restore that worked shows that restoring works).
RESTORE_SESSIONS = frozenset({
    "restorevm", "instantrecovery", "filelevelrestore", "linuxfilelevelrestore",
    "firstclassdiskinstantrestore", "clouddirectorvmrestore", "clouddirectorvapprestore",
    "entraidrestore", "entraidrestorefromcopy", "nasrestore", "azureinstantrecovery",
    "fileinstantrecovery", "applicationlevelrestore", "endpointrestore",
    "restoreagentvolumes", "diskrestore", "instantdiskrecovery",
})
#: SureBackup (1.2+): recoverability tests in a virtual lab. Only ``SureBackup`` sessions, and
#: in them only ``Restore`` task sessions, are restore tests: ``SureBackupContentScan`` and the
#: ``Antivirus`` tasks are malware/content scans of a restore point, not a restore.
SUREBACKUP = "surebackup"
RESTORE_TASK = "restore"
#: A finished session is ``Stopped`` (ESessionState).
FINISHED = "stopped"
#: Job types that are not backups of protected objects (replicas, content scans).
NOT_BACKUP_JOBS = frozenset({"surebackupcontentscan", "vspherereplica"})
#: Include types that name one machine; any other include (Folder, Tag, Cluster, a protection
#: group, an AD container...) is a selection rule whose members Veeam resolves at run time.
MACHINE_INCLUDES = {"virtualmachine": "vm", "windowscomputer": "server",
                    "linuxcomputer": "server", "fileservershare": "file_share"}
ZERO_ID = "00000000-0000-0000-0000-000000000000"


def norm(value: Any) -> str:
    """An enum value compared across revisions: lower case, '' for null or non-strings."""
    return value.casefold() if isinstance(value, str) else ""


def text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def session_job(session: Mapping[str, Any]) -> str | None:
    """The job (or activity) a session belongs to: ``jobId`` (1.2+) or ``activityId`` (1.1)."""
    job = text(session.get("jobId")) or text(session.get("activityId"))
    return None if job == ZERO_ID else job


def session_result(record: Mapping[str, Any]) -> tuple[str, str, bool]:
    """``(ESessionResult lower-cased, message, canceled)`` of a session or task session;
    ``result`` may be null (a starting session) or ``{"result": "None"}`` (running)."""
    result = record.get("result")
    if not isinstance(result, Mapping):
        return "", "", False
    message = result.get("message")
    return (norm(result.get("result")), message if isinstance(message, str) else "",
            result.get("isCanceled") is True)


def object_kind(obj: Mapping[str, Any], agent_type: str = "") -> str:
    """The asset kind of a backup object (``BackupObjectModel``): ``vm``, ``server``,
    ``workstation``, ``file_share``, or the object's own type in lower case."""
    kind, platform = norm(obj.get("type")), norm(obj.get("platformName"))
    if kind in ("vm", "template", "virtualmachine"):
        return "vm"
    if kind in ("server", "workstation"):
        return kind
    if kind == "fileshare" or platform in ("unstructureddata", "nasbackup"):
        return "file_share"
    if platform in ("windowsphysical", "linuxphysical", "linuxphysicalppc"):
        return "workstation" if agent_type == "workstation" else "server"
    if platform in ("vmware", "hyperv", "vcd", "clouddirector", "nutanix", "proxmox",
                    "awsec2", "azurecompute", "gce"):
        return "vm"
    return kind or "backup_object"


@dataclass(frozen=True, slots=True)
class Include:
    """One entry of a job's selection: a machine (``kind`` set) or a container rule."""

    name: str
    type: str  # as Veeam spells it
    kind: str | None  # asset kind of a machine; None for a container (Folder, Tag...)
    platform: str = ""


def includes(job: Mapping[str, Any]) -> Iterator[Include]:
    """The selection of a job, in its three shapes: ``virtualMachines.includes`` (1.1 wraps
    each in ``inventoryObject``; 1.2+ is flat), ``computers`` (1.3 agent jobs) and
    ``objects`` (1.3 file share jobs, named by ``path``)."""
    vms = job.get("virtualMachines")
    vm_includes = vms.get("includes") if isinstance(vms, Mapping) else None
    agent = norm(job.get("agentType"))
    for item in vm_includes if isinstance(vm_includes, list) else []:
        if not isinstance(item, Mapping):
            continue
        obj = item.get("inventoryObject", item)
        if isinstance(obj, Mapping) and text(obj.get("name")):
            yield _include(obj, str(obj["name"]), agent)
    for key, name_key in (("computers", "name"), ("objects", "path")):
        items = job.get(key)
        for obj in items if isinstance(items, list) else []:
            if isinstance(obj, Mapping) and text(obj.get(name_key)):
                yield _include(obj, str(obj[name_key]), agent)


def _include(obj: Mapping[str, Any], name: str, agent: str) -> Include:
    kind = MACHINE_INCLUDES.get(norm(obj.get("type")))
    if kind == "server" and agent == "workstation":
        kind = "workstation"
    return Include(name, str(obj.get("type") or ""), kind, str(obj.get("platform") or ""))

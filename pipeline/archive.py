"""Evidence packs in write-once storage: S3 (or any S3-compatible store) with Object Lock.

After a run has published its outputs, ``archive_pack`` uploads the night's
``evidence-pack.zip`` to ``s3://<bucket>/<prefix><contract id>/<as_of day>/<run id>.zip`` with
an Object Lock retention (mode ``COMPLIANCE`` or ``GOVERNANCE``) until ``as_of`` plus the
retention. The retention is the contract's ``evidence_retention_days`` when it declares one
(DORA record keeping: five years, 1827 days), else the archive's ``retention_days``; an archive
asking less than the contract is refused.

The upload never replaces anything: ``IfNoneMatch: *`` makes S3 refuse a key that exists, and
the key names the run, so a second run of the same night is a second object. The bucket must
have Object Lock enabled (which implies versioning); the upload reads the bucket's lock
configuration first and fails, with the reason, rather than store a pack that is not locked.
``fetch_pack`` reads one back for ``clausewatch verify s3://...``.

AWS documentation: PutObject (``ObjectLockMode``, ``ObjectLockRetainUntilDate``, ``IfNoneMatch``,
``ChecksumAlgorithm``; an Object Lock put needs a checksum, which ``ChecksumAlgorithm=SHA256``
provides), GetObjectLockConfiguration, and "Locking objects with Object Lock"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # boto3 is loaded only when a pack is archived or fetched (start-up time)
    from botocore.exceptions import ClientError

MODES = ("COMPLIANCE", "GOVERNANCE")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["bucket"],
    "description": "upload each night's evidence pack to S3 with Object Lock",
    "properties": {
        "bucket": {"type": "string", "minLength": 3, "maxLength": 63},
        "prefix": {"type": "string", "maxLength": 512},
        "mode": {"enum": list(MODES)},
        "retention_days": {"type": "integer", "minimum": 1, "maximum": 36500},
        "region": {"type": "string", "pattern": "^[a-z0-9-]{2,32}$"},
        "profile": {"type": "string", "minLength": 1},
        "endpoint_url": {"type": "string", "pattern": "^https?://"},
    },
}


class ArchiveError(Exception):
    """The pack could not be archived (or read back); the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Archive:
    bucket: str
    prefix: str = ""
    mode: str = "COMPLIANCE"
    retention_days: int | None = None
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Archive:
        return cls(**{k: data[k] for k in SCHEMA["properties"] if k in data})

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        session = boto3.Session(profile_name=self.profile, region_name=self.region)
        config = Config(retries={"mode": "standard", "max_attempts": 5})
        return session.client("s3", endpoint_url=self.endpoint_url, config=config)


@dataclass(frozen=True, slots=True, kw_only=True)
class Archived:
    url: str
    version_id: str | None
    retain_until: datetime
    mode: str
    sha256: str


def retention(archive: Archive, contract_days: int | None) -> int:
    """Days to keep: the contract's, unless the archive asks more; never less."""
    if contract_days is None and archive.retention_days is None:
        raise ArchiveError("no retention: set evidence_retention_days in the contract or "
                           "retention_days in the archive")
    if contract_days is not None and archive.retention_days is not None \
            and archive.retention_days < contract_days:
        raise ArchiveError(f"the archive keeps packs {archive.retention_days} days, the "
                           f"contract requires {contract_days}")
    return max(d for d in (contract_days, archive.retention_days) if d is not None)


def pack_key(archive: Archive, contract_id: str, as_of: datetime, run_id: str) -> str:
    return f"{archive.prefix}{contract_id}/{as_of:%Y-%m-%d}/{run_id}.zip"


def archive_pack(
    archive: Archive,
    pack: Path,
    *,
    contract_id: str,
    run_id: str,
    as_of: datetime,
    contract_retention_days: int | None,
    client: Any = None,
) -> Archived:
    """Upload ``pack`` under Object Lock; ``ArchiveError`` if it cannot be locked or stored."""
    from botocore.exceptions import BotoCoreError, ClientError

    days = retention(archive, contract_retention_days)
    s3 = client or archive.client()
    key = pack_key(archive, contract_id, as_of, run_id)
    until = as_of + timedelta(days=days)
    body = pack.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    try:
        _require_lock(s3, archive.bucket)
        answer = s3.put_object(
            Bucket=archive.bucket, Key=key, Body=body, IfNoneMatch="*",
            ObjectLockMode=archive.mode, ObjectLockRetainUntilDate=until,
            ChecksumAlgorithm="SHA256", ContentType="application/zip",
            Metadata={"clausewatch-sha256": digest, "clausewatch-run": run_id},
        )
    except ClientError as exc:
        raise ArchiveError(f"s3://{archive.bucket}/{key}: {_said(exc)}") from exc
    except BotoCoreError as exc:
        raise ArchiveError(f"s3://{archive.bucket}/{key}: {exc}") from exc
    return Archived(url=f"s3://{archive.bucket}/{key}", version_id=answer.get("VersionId"),
                    retain_until=until, mode=archive.mode, sha256=digest)


def _require_lock(s3: Any, bucket: str) -> None:
    from botocore.exceptions import ClientError

    try:
        conf = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ObjectLockConfigurationNotFoundError":
            raise ArchiveError(f"bucket {bucket} has no Object Lock: packs would not be "
                               "write-once; create it with Object Lock enabled") from exc
        raise
    if conf.get("ObjectLockEnabled") != "Enabled":
        raise ArchiveError(f"bucket {bucket}: Object Lock is not enabled")


def _said(exc: ClientError) -> str:
    err = exc.response.get("Error", {})
    code, message = err.get("Code", "?"), err.get("Message", "")
    if code in ("PreconditionFailed", "ConditionalRequestConflict"):
        return f"{code}: a pack is already stored under this key; nothing was replaced"
    return f"{code}: {message}".rstrip(": ")


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    if not url.startswith("s3://") or "/" not in url[5:]:
        raise ArchiveError(f"{url}: expected s3://bucket/key")
    bucket, _, key = url[5:].partition("/")
    if not bucket or not key:
        raise ArchiveError(f"{url}: expected s3://bucket/key")
    return bucket, key


def fetch_pack(url: str, dest: Path, *, client: Any = None,
               endpoint_url: str | None = None) -> Path:
    """Download the pack at ``url`` into ``dest`` (a folder); the local zip's path."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = parse_url(url)
    s3 = client or boto3.client("s3", endpoint_url=endpoint_url)
    target = dest / Path(key).name
    try:
        s3.download_file(bucket, key, str(target))
    except ClientError as exc:
        raise ArchiveError(f"{url}: {_said(exc)}") from exc
    except BotoCoreError as exc:
        raise ArchiveError(f"{url}: {exc}") from exc
    return target

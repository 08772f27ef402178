"""The attestation store: a folder holding ``attestations.jsonl`` and the signed reports.

    <store>/attestations.jsonl                    one attestation a line (``FORMAT``)
    <store>/reports/<attestation id>/<file name>  the signed report, copied byte for byte

``clausewatch attest`` appends to it (``record``); the ``attestations`` source reads it
(``read``). A line is rewritten never: the file is replaced whole, under a lock, so a crash or a
full disk leaves the store as it was, and two ``attest`` at once do not lose a record. The
report is copied into the store, so the store is self-contained: the nightly run re-hashes that
copy, and a copy that went missing or changed is reported, never counted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema

from clausewatch.core.clock import iso_z, parse_utc

FORMAT = "clausewatch-attestation/1"
FILE = "attestations.jsonl"
REPORTS = "reports"
LOCK = ".attestations.lock"
#: What the person attests, as ``attest --outcome`` says it -> the restore test's outcome.
OUTCOMES: Mapping[str, str] = {"success": "success", "failure": "failed", "partial": "partial"}
#: What was exercised: a restore test, or a disaster-recovery (PRA) exercise.
EXERCISES = ("restore_test", "dr_exercise")
#: The largest report accepted (it is copied into every evidence pack).
MAX_REPORT_BYTES = 256 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")

RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "One attestation of a restore test or disaster-recovery exercise",
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "id", "system", "exercise", "completed_at", "outcome",
                 "attested_by", "report", "recorded_at"],
    "properties": {
        "format": {"const": FORMAT},
        "id": {"type": "string", "pattern": "^att-[0-9a-f]{16}$"},
        "system": {"type": "string", "minLength": 1, "maxLength": 512},
        "name": {"type": "string", "maxLength": 512},
        "exercise": {"enum": list(EXERCISES)},
        "completed_at": {"type": "string", "minLength": 1},
        "outcome": {"enum": list(OUTCOMES)},
        "duration_minutes": {"type": ["number", "null"], "minimum": 0, "maximum": 5256000},
        "attested_by": {
            "type": "object", "additionalProperties": False, "required": ["name", "role"],
            "properties": {"name": {"type": "string", "minLength": 1},
                           "role": {"type": "string", "minLength": 1}},
        },
        "report": {
            "type": "object", "additionalProperties": False,
            "required": ["path", "sha256", "size", "original_name"],
            "properties": {"path": {"type": "string", "minLength": 1},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                           "size": {"type": "integer", "minimum": 1},
                           "original_name": {"type": "string", "minLength": 1}},
        },
        "reference": {"type": "string"},
        "note": {"type": "string"},
        "recorded_at": {"type": "string", "minLength": 1},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(RECORD_SCHEMA)


class StoreError(Exception):
    """The store cannot be written as asked (a duplicate, a path it cannot use)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attestation:
    """One attested restore test or disaster-recovery exercise, as stored."""

    id: str
    system: str
    exercise: str
    completed_at: datetime
    outcome: str  # a key of OUTCOMES
    attested_name: str
    attested_role: str
    report_path: str  # relative to the store, POSIX
    report_sha256: str
    report_size: int
    report_name: str  # the file's name when it was attested
    recorded_at: datetime
    duration_minutes: float | None = None
    name: str = ""
    reference: str = ""
    note: str = ""

    @property
    def attested_by(self) -> str:
        return f"{self.attested_name} ({self.attested_role})"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": FORMAT,
            "id": self.id,
            "system": self.system,
            "name": self.name,
            "exercise": self.exercise,
            "completed_at": iso_z(self.completed_at),
            "outcome": self.outcome,
            "duration_minutes": self.duration_minutes,
            "attested_by": {"name": self.attested_name, "role": self.attested_role},
            "report": {"path": self.report_path, "sha256": self.report_sha256,
                       "size": self.report_size, "original_name": self.report_name},
            "reference": self.reference,
            "note": self.note,
            "recorded_at": iso_z(self.recorded_at),
        }
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> Attestation:
        """The attestation of one stored line; ``ValueError`` naming what is wrong."""
        errors = sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "record"
            raise ValueError(f"{where}: {errors[0].message}")
        report = doc["report"]
        path = PurePosixPath(report["path"])
        if path.is_absolute() or ".." in path.parts or path.parts[:1] != (REPORTS,):
            raise ValueError(f"report/path: {report['path']!r} is not under {REPORTS}/")
        return cls(
            id=doc["id"],
            system=doc["system"],
            name=doc.get("name", ""),
            exercise=doc["exercise"],
            completed_at=parse_utc(doc["completed_at"], "completed_at"),
            outcome=doc["outcome"],
            duration_minutes=doc.get("duration_minutes"),
            attested_name=doc["attested_by"]["name"],
            attested_role=doc["attested_by"]["role"],
            report_path=report["path"],
            report_sha256=report["sha256"],
            report_size=report["size"],
            report_name=report["original_name"],
            reference=doc.get("reference", ""),
            note=doc.get("note", ""),
            recorded_at=parse_utc(doc["recorded_at"], "recorded_at"),
        )


def attestation_id(system: str, completed_at: datetime, report_sha256: str) -> str:
    """A stable id: the same system, instant and report are the same attestation."""
    key = f"{system}\n{iso_z(completed_at)}\n{report_sha256}".encode()
    return "att-" + hashlib.sha256(key).hexdigest()[:16]


def safe_name(name: str) -> str:
    """A report's file name as kept in the store (letters, digits, ``.``, ``_``, ``-``)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "report"
    return cleaned[:120]


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in blocks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def read(store: Path) -> Iterator[tuple[int, Attestation | str, str | None]]:
    """Each line of the store: (line number, its attestation or what is wrong with it, the
    system the line names if it can be read that far).

    ``OSError`` if the store's file exists but cannot be read; no file: no attestation yet.
    """
    path = store / FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for n, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            yield n, f"not a JSON object ({exc})", None
            continue
        system = doc.get("system") if isinstance(doc, dict) else None
        named = system if isinstance(system, str) and system else None
        try:
            yield n, Attestation.from_json(doc), named
        except ValueError as exc:
            yield n, str(exc), named


@contextmanager
def _locked(store: Path) -> Iterator[None]:
    with open(store / LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record(store: Path, attestation: Attestation, report: Path) -> Attestation:
    """Copy ``report`` into the store and append ``attestation``; all or nothing.

    The copy is hashed as it is written and must match ``attestation.report_sha256`` (the file
    changed since it was hashed: ``StoreError``). ``OSError`` for what the disk refuses; the
    store is then as it was.
    """
    store.mkdir(parents=True, exist_ok=True)
    with _locked(store):
        existing = (store / FILE).read_bytes() if (store / FILE).is_file() else b""
        for _, known, _system in read(store):
            if isinstance(known, Attestation) and known.id == attestation.id:
                raise StoreError(f"already recorded as {known.id} on "
                                 f"{iso_z(known.recorded_at)} ({store / FILE})")
        target = store / attestation.report_path
        if target.exists():
            raise StoreError(f"{target} already exists in the store")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            _copy_verified(report, target, attestation.report_sha256)
            line = json.dumps(attestation.to_json(), ensure_ascii=False, sort_keys=True)
            if existing and not existing.endswith(b"\n"):
                existing += b"\n"
            _replace(store / FILE, existing + line.encode("utf-8") + b"\n")
        except BaseException:
            target.unlink(missing_ok=True)
            shutil.rmtree(target.parent, ignore_errors=True)
            raise
    return attestation


def _copy_verified(source: Path, target: Path, sha256: str) -> None:
    h = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=".report.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != sha256:
            raise StoreError(f"{source} changed while it was copied (SHA-256 differs)")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _replace(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_sha256(text: str) -> bool:
    return bool(_SHA256.fullmatch(text))

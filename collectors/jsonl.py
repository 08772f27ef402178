"""The JSON Lines evidence interchange format: one record per line, read and written here.

Each line is a JSON object valid against ``collectors/schema/evidence.schema.json``: an
evidence record (``identity``, ``asset``, ``patch``, ``backup``, ``restore_test``) or a
``collection_error``. Reading validates every line with jsonschema-rs (the Rust validator: a
million patch records must load in seconds) and reports each invalid line by number; nothing is
dropped silently.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any

import jsonschema_rs
import orjson

from clausewatch.collectors.evidence import (
    CollectionError,
    Evidence,
    default_evidence_id,
    parse_utc,
    require_utc,
)
from clausewatch.policies.yaml_source import InputError, Problem

#: Per kind, the facts that hold timestamps and those whose values repeat across records (one
#: shared object each keeps a million records' memory flat).
DATETIME_KEYS: dict[str, tuple[str, ...]] = {
    "identity": ("created_at",),
    "asset": ("last_seen", "patch_assessed_at"),
    "patch": ("released_at", "first_seen_at", "installed_at"),
    "backup": ("completed_at", "started_at"),
    "restore_test": ("completed_at",),
}
SHARED_KEYS: dict[str, tuple[str, ...]] = {
    "identity": ("account_type",),
    "asset": ("asset_kind", "os", "os_version"),
    "patch": ("severity", "state", "update_id", "cves", "classification"),
    "backup": ("outcome", "backup_type"),
    "restore_test": ("outcome", "method"),
}
MAX_CACHED_INSTANTS = 500_000
MAX_REPORTED = 200


def evidence_schema() -> dict[str, Any]:
    """The JSON Schema of one line, shipped as package data."""
    text = resources.files("clausewatch.collectors.schema").joinpath("evidence.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class EvidenceBatch:
    """What a file (or a collection) holds: evidence records and collection errors."""

    evidence: list[Evidence]
    errors: list[CollectionError]


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name
        self.validator = jsonschema_rs.validator_for(evidence_schema(), validate_formats=True)
        self.problems: list[Problem] = []
        self.invalid = 0
        self.last_line = 0
        self.ids: dict[str, int] = {}
        self.strings: dict[str, str] = {}
        self.lists: dict[tuple[Any, ...], list[Any]] = {}
        self.instants: dict[str, datetime] = {}

    def fail(self, line: int, path: str, message: str) -> None:
        """Record one problem of an invalid record (a record may have several)."""
        if self.last_line != line:
            self.invalid += 1
            self.last_line = line
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(Problem(self.name, line, 1, path, message))

    def intern(self, text: str) -> str:
        """Share repeated strings (sources, severities, subjects) across a million records."""
        return self.strings.setdefault(text, text)

    def record(self, line_no: int, line: bytes) -> Evidence | CollectionError | None:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            self.fail(line_no, "", f"not valid JSON: {exc.msg} at column {exc.colno}")
            return None
        if not self.validator.is_valid(obj):
            for err in self.validator.iter_errors(obj):
                path = ".".join(str(p) for p in err.instance_path)
                self.fail(line_no, path, err.message)
            return None
        try:
            return self._build(obj)
        except ValueError as exc:
            self.fail(line_no, "", str(exc))
            return None

    def _build(self, obj: dict[str, Any]) -> Evidence | CollectionError:
        strings = self.strings
        kind = strings.setdefault(obj["kind"], obj["kind"])
        source = strings.setdefault(obj["source"], obj["source"])
        if kind == "collection_error":
            occurred = obj.get("occurred_at")
            return CollectionError(
                source=source,
                origin=obj["origin"],
                kinds=tuple(obj["kinds"]),
                message=obj["message"],
                operation=obj.get("operation", ""),
                occurred_at=parse_utc(occurred, "occurred_at") if occurred else None,
                retryable=obj.get("retryable", False),
                details=obj.get("details", {}),
            )
        facts = obj["facts"]
        for key in DATETIME_KEYS[kind]:
            value = facts.get(key)
            if value is not None:
                facts[key] = self.instant(value, key)
        for key in SHARED_KEYS[kind]:
            value = facts.get(key)
            if value.__class__ is str:
                facts[key] = strings.setdefault(value, value)
            elif value.__class__ is list:  # read-only by convention: equal lists are shared
                facts[key] = self.lists.setdefault(tuple(value), value)
        subject = strings.setdefault(obj["subject"], obj["subject"])
        return Evidence(
            id=obj.get("id") or default_evidence_id(kind, source, subject, facts),
            kind=kind,
            source=source,
            subject=subject,
            observed_at=self.instant(obj["observed_at"], "observed_at"),
            facts=facts,
            origin=strings.setdefault(origin := obj.get("origin", ""), origin),
            raw_ref=obj.get("raw_ref"),
        )

    def instant(self, text: str, key: str) -> datetime:
        """Parse a timestamp once per distinct text: files repeat the same instants a lot."""
        value = self.instants.get(text)
        if value is None:
            value = datetime.fromisoformat(text)
            if value.tzinfo is not UTC:
                value = require_utc(value, key if key == "observed_at" else f"facts.{key}")
            if len(self.instants) < MAX_CACHED_INSTANTS:
                self.instants[text] = value
        return value


def read_evidence(path: Path | str) -> EvidenceBatch:
    """Read a JSON Lines evidence file; raise ``InputError`` listing every invalid line."""
    name = str(path)
    reader = _Reader(name)
    evidence: list[Evidence] = []
    errors: list[CollectionError] = []
    try:
        handle = sys.stdin.buffer if name == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError([Problem(name, 0, 0, "", f"cannot read: {exc.strerror}")]) from exc
    # A million records are a million container objects that live to the end: the cyclic
    # collector would rescan them over and over while they load, for nothing to collect.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            item = reader.record(line_no, line)
            if isinstance(item, Evidence):
                first = reader.ids.setdefault(item.id, line_no)
                if first != line_no:
                    reader.fail(line_no, "id", f"duplicate evidence id {item.id!r} (line {first})")
                    continue
                evidence.append(item)
            elif isinstance(item, CollectionError):
                errors.append(item)
    finally:
        if collecting:
            gc.enable()
        if handle is not sys.stdin.buffer:
            handle.close()
    if reader.invalid:
        problems = reader.problems
        reported = len({p.line for p in problems})
        if reader.invalid > reported:
            more = reader.invalid - reported
            problems.append(
                Problem(name, reader.last_line, 1, "", f"... and {more} more invalid record(s)")
            )
        raise InputError(problems)
    return EvidenceBatch(evidence, errors)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(item: Evidence | CollectionError) -> dict[str, Any]:
    """The interchange form of one record."""
    if isinstance(item, CollectionError):
        out: dict[str, Any] = {
            "kind": "collection_error",
            "source": item.source,
            "origin": item.origin,
            "kinds": list(item.kinds),
            "message": item.message,
            "operation": item.operation,
            "retryable": item.retryable,
        }
        if item.occurred_at is not None:
            out["occurred_at"] = item.occurred_at
        if item.details:
            out["details"] = dict(item.details)
        return out
    out = {
        "id": item.id,
        "kind": item.kind,
        "source": item.source,
        "subject": item.subject,
        "observed_at": item.observed_at,
        "origin": item.origin,
        "facts": dict(item.facts),
    }
    if item.raw_ref:
        out["raw_ref"] = item.raw_ref
    return out


def dumps(item: Evidence | CollectionError) -> str:
    """One line of JSON, keys sorted so files diff cleanly."""
    return json.dumps(to_json(item), default=_json_default, sort_keys=True, ensure_ascii=False)


def write_evidence(items: Iterable[Evidence | CollectionError], out: IO[str]) -> int:
    """Write records as JSON Lines; return how many."""
    n = 0
    for item in items:
        out.write(dumps(item))
        out.write("\n")
        n += 1
    return n

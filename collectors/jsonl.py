"""The JSON Lines evidence interchange format: one record per line, read and written here.

Each line is a JSON object valid against the evidence schema (:func:`evidence_schema`, derived
from the kinds declared in ``clausewatch.core.kinds``): an evidence record of a registered kind
or a ``collection_error``. A million patch records must load in seconds: each line is first
decoded by msgspec against stricter types (``fast_lines.py``: parsing and checking in one C
pass); a line they refuse is validated against the schema with jsonschema-rs (the Rust
validator), which accepts what the schema allows and words the error. Each invalid line is
reported by number; nothing is dropped silently.

Timestamps: the timestamp facts a kind declares are read as UTC datetimes on both paths; any
other fact keeps its JSON value (an undeclared timestamp stays text). A live collector's
``Evidence`` follows the same rule (``clausewatch.core.evidence``), so a record written by
:func:`write_evidence` and read back equals the record the collector built.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import jsonschema_rs
import msgspec
from msgspec import UNSET, to_builtins

from clausewatch.collectors import fast_lines, strict_json
from clausewatch.collectors.schema import evidence as schema
from clausewatch.core.clock import iso_z, require_utc
from clausewatch.core.evidence import CollectionError, Evidence, RunWarning
from clausewatch.core.kinds import KINDS, KindRegistry
from clausewatch.core.kinds.spec import IdRule
from clausewatch.core.limits import YEAR_MAX, YEAR_MIN, instant_problem
from clausewatch.core.problems import InputError, Problem


@dataclass(frozen=True, slots=True)
class KindTable:
    """What the reader needs of one kind, derived from its declaration."""

    name: str
    timestamps: tuple[str, ...]  #: facts read as datetimes
    shared: tuple[str, ...]  #: facts whose values repeat (one shared object per value)
    evidence_id: IdRule  #: the id of a record that brings none


@dataclass(frozen=True, slots=True)
class Tables:
    """The reader's tables for a registry: per kind name, and per fast-path line type."""

    by_name: dict[str, KindTable]
    by_line: dict[type[fast_lines.FastLine], KindTable]
    validator: jsonschema_rs.Validator


@lru_cache(maxsize=8)
def tables(kinds: KindRegistry = KINDS) -> Tables:
    """The reader's tables for ``kinds`` (built once per registry, which is immutable)."""
    by_name = {
        k.name: KindTable(k.name, k.timestamp_facts, k.shared_facts, k.evidence_id) for k in kinds
    }
    by_line = {t: by_name[k.name] for t, k in fast_lines.line_types(kinds).items()}
    validator = jsonschema_rs.validator_for(evidence_schema(kinds), validate_formats=True)
    return Tables(by_name, by_line, validator)


MAX_CACHED_INSTANTS = 500_000
MAX_CACHED_PER_FIELD = 1 << 16
MAX_REPORTED = 200
_canonical = fast_lines.CANONICAL_INSTANT.fullmatch
YEAR_FIRST, YEAR_LAST = f"{YEAR_MIN:04d}", f"{YEAR_MAX:04d}"
#: Evidence's fields, in order, and their slot setters: :func:`_new_evidence` fills them.
_EVIDENCE_FIELDS = ("id", "kind", "source", "subject", "observed_at", "facts", "origin", "raw_ref")
if tuple(f.name for f in fields(Evidence)) != _EVIDENCE_FIELDS:
    raise RuntimeError("Evidence's fields changed: update _new_evidence")
_ID, _KIND, _SOURCE, _SUBJECT, _OBSERVED_AT, _FACTS, _ORIGIN, _RAW_REF = (
    getattr(Evidence, name).__set__ for name in _EVIDENCE_FIELDS
)


def _new_evidence(
    id_: str,
    kind: str,
    source: str,
    subject: str,
    observed_at: datetime,
    facts: dict[str, Any],
    origin: str,
    raw_ref: str | None,
) -> Evidence:
    """The Evidence ``Evidence(...)`` makes, from values already checked (UTC ``observed_at``).

    It sets the slots directly, without keyword parsing and ``__post_init__``: that halves the
    cost of building a record, which a million-line file pays a million times.
    """
    ev: Evidence = object.__new__(Evidence)
    _ID(ev, id_)
    _KIND(ev, kind)
    _SOURCE(ev, source)
    _SUBJECT(ev, subject)
    _OBSERVED_AT(ev, observed_at)
    _FACTS(ev, facts)
    _ORIGIN(ev, origin)
    _RAW_REF(ev, raw_ref)
    return ev


def canonical_instant(text: str, cache: dict[str, datetime]) -> datetime | None:
    """Parse a timestamp of the strict form and documented range (``core.limits``) and share
    it through ``cache``; None otherwise (the schema path then words what is wrong)."""
    if _canonical(text) is None or not YEAR_FIRST <= text[:4] <= YEAR_LAST:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if instant_problem(value) is not None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)  # the strict form always has an offset
    if len(cache) < MAX_CACHED_PER_FIELD:
        cache[text] = value
    return value


def evidence_schema(kinds: KindRegistry = KINDS) -> dict[str, Any]:
    """The JSON Schema of one line, derived from the registered kinds (a fresh copy)."""
    return schema.evidence_schema(kinds)


@dataclass(frozen=True, slots=True)
class EvidenceBatch:
    """What a file (or a collection) holds: evidence records and collection errors."""

    evidence: list[Evidence]
    errors: list[CollectionError]
    warnings: list[RunWarning] = field(default_factory=list)  # from live collectors only


class _Reader:
    def __init__(self, name: str, kinds: KindRegistry = KINDS) -> None:
        self.name = name
        derived = tables(kinds)
        self.kinds = derived.by_name
        self.line_kinds = derived.by_line
        self.validator = derived.validator
        self.problems: list[Problem] = []
        self.invalid = 0
        self.last_line = 0
        self.ids: dict[str, int] = {}
        self.strings: dict[str, str] = {}
        self.lists: dict[tuple[Any, ...], list[Any]] = {}
        self.instants: dict[str, datetime] = {}
        self.fast = fast_lines.decoder(kinds)
        self.encode = msgspec.json.Encoder().encode
        #: The fast path's timestamps, one cache per field: most fields repeat a few hundred
        #: instants (a small table stays in the CPU cache) while one may be unique per record.
        self.fast_instants: dict[str, dict[str, datetime]] = {
            key: {} for k in self.kinds.values() for key in (*k.timestamps, "observed_at")
        }

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
            fast = self.fast.decode(line)
        except (msgspec.DecodeError, RecursionError):
            pass  # not of the strict form: the schema path decides and words any error
        else:
            # msgspec keeps the last of two equal names: take the line only with proof of none.
            if strict_json.keys_intact(line, self.encode(fast)):
                built = self._build_fast(fast)
                if built is not None:
                    return built
        try:
            obj = strict_json.loads(line)
        except strict_json.StrictJSONError as exc:
            self.fail(line_no, exc.path, str(exc))
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
                occurred_at=self.instant(occurred, "occurred_at") if occurred else None,
                retryable=obj.get("retryable", False),
                details=obj.get("details", {}),
                asset_kinds=tuple(obj.get("asset_kinds", ())),
                resource_types=tuple(obj.get("resource_types", ())),
                subject=obj.get("subject", ""),
                tags=obj.get("tags", {}),
                facts=obj.get("facts", {}),
            )
        table = self.kinds[kind]  # the schema admits registered kinds only
        facts = obj["facts"]
        for key in table.timestamps:
            value = facts.get(key)
            if value is not None:
                facts[key] = self.instant(value, key)
        for key in table.shared:
            value = facts.get(key)
            if value.__class__ is str:
                facts[key] = strings.setdefault(value, value)
            elif value.__class__ is list:  # read-only by convention: equal lists are shared
                facts[key] = self.lists.setdefault(tuple(value), value)
        subject = strings.setdefault(obj["subject"], obj["subject"])
        # The facts hold datetimes in declared timestamp facts only, and observed_at is UTC:
        # what Evidence's own checks would ensure (and they would know only KINDS).
        return _new_evidence(
            obj.get("id") or table.evidence_id(source, subject, facts),
            kind,
            source,
            subject,
            self.instant(obj["observed_at"], "observed_at"),
            facts,
            strings.setdefault(origin := obj.get("origin", ""), origin),
            obj.get("raw_ref"),
        )

    def _build_fast(self, line: fast_lines.FastLine) -> Evidence | None:
        """Build a record decoded by the fast path; None if a timestamp is not canonical."""
        strings = self.strings
        table = self.line_kinds[line.__class__]
        source = strings.setdefault(line.source, line.source)
        facts: dict[str, Any] = to_builtins(line.facts)  # in C; absent facts stay absent
        caches = self.fast_instants
        for key in table.timestamps:
            value = facts.get(key)
            if value is not None:
                cache = caches[key]
                stamp = cache.get(value)
                if stamp is None and (stamp := canonical_instant(value, cache)) is None:
                    return None
                facts[key] = stamp
        for key in table.shared:
            value = facts.get(key)
            if value.__class__ is str:
                facts[key] = strings.setdefault(value, value)
            elif value.__class__ is list:  # read-only by convention: equal lists are shared
                facts[key] = self.lists.setdefault(tuple(value), value)
        cache = caches["observed_at"]
        observed = cache.get(line.observed_at)
        if observed is None and (observed := canonical_instant(line.observed_at, cache)) is None:
            return None
        subject = strings.setdefault(line.subject, line.subject)
        origin = "" if line.origin is UNSET else line.origin
        return _new_evidence(
            line.id or table.evidence_id(source, subject, facts),
            table.name,
            source,
            subject,
            observed,
            facts,
            strings.setdefault(origin, origin),
            None if line.raw_ref is UNSET else line.raw_ref,
        )

    def instant(self, text: str, key: str) -> datetime:
        """Parse a timestamp once per distinct text: files repeat the same instants a lot."""
        value = self.instants.get(text)
        if value is None:
            what = key if key in ("observed_at", "occurred_at") else f"facts.{key}"
            try:
                value = datetime.fromisoformat(text)
            except ValueError as exc:  # the schema's date-time allows what Python cannot read
                raise ValueError(f"{what}: not a readable timestamp ({exc})") from exc
            if value.tzinfo is None:
                require_utc(value, what)  # raises, saying so
            if problem := instant_problem(value):
                raise ValueError(f"{what}: {text}: {problem}")
            if value.tzinfo is not UTC:
                value = require_utc(value, what)
            if len(self.instants) < MAX_CACHED_INSTANTS:
                self.instants[text] = value
        return value


def read_evidence(path: Path | str, kinds: KindRegistry = KINDS) -> EvidenceBatch:
    """Read a JSON Lines evidence file; raise ``InputError`` listing every invalid line."""
    name = str(path)
    reader = _Reader(name, kinds)
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
            # What was allocated meanwhile waits in the youngest generation: the first collection
            # would scan it all, then the records would be rescanned on every full collection.
            # They live to the end of the run: set them aside (refcounting still frees them).
            gc.freeze()
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
        return iso_z(value)
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
        for name in ("asset_kinds", "resource_types", "subject", "tags", "facts"):
            value = getattr(item, name)
            if value:
                out[name] = list(value) if isinstance(value, tuple) else (
                    dict(value) if isinstance(value, Mapping) else value)
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

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

import heapq
import json
import re
import sys
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from itertools import compress, islice, repeat
from operator import attrgetter, is_, is_not
from pathlib import Path
from typing import IO, Any, cast

import jsonschema_rs
import msgspec
import msgspec.inspect as mi
from msgspec import UNSET

from clausewatch.collectors import fast_lines, strict_json
from clausewatch.collectors.schema import evidence as schema
from clausewatch.core.clock import iso_z, require_utc
from clausewatch.core.evidence import CollectionError, Evidence, RunWarning
from clausewatch.core.gc_policy import paused
from clausewatch.core.kinds import KINDS, EvidenceKind, FactType, KindRegistry
from clausewatch.core.kinds.spec import IdRule, id_part
from clausewatch.core.limits import (
    INSTANT_MAX,
    INSTANT_MIN,
    YEAR_MAX,
    YEAR_MIN,
    instant_problem,
)
from clausewatch.core.problems import InputError, Problem


@dataclass(frozen=True, slots=True)
class KindTable:
    """What the reader needs of one kind, derived from its declaration."""

    name: str
    timestamps: tuple[str, ...]  #: facts read as datetimes
    shared: tuple[str, ...]  #: facts whose values repeat (one shared object per value)
    evidence_id: IdRule  #: the id of a record that brings none
    #: The fast path's share of ``shared``: text facts and list facts (a choice is already one
    #: shared object per value as msgspec decodes it).
    shared_texts: tuple[str, ...] = ()
    shared_lists: tuple[str, ...] = ()
    #: The one fact the id rule names, when it names exactly one (the fast path inlines it).
    id_fact: str | None = None
    id_facts: tuple[str, ...] = ()
    #: Text facts every line of the fast path carries as a string (required, never null:
    #: ``fast_lines.fact_type``), whose columns need no look at their values' types.
    texts: frozenset[str] = frozenset()


def _table(kind: EvidenceKind) -> KindTable:
    shared = [kind.fact(name) for name in kind.shared_facts]
    return KindTable(
        kind.name, kind.timestamp_facts, kind.shared_facts, kind.evidence_id,
        tuple(f.name for f in shared if f.type in (FactType.TEXT, FactType.STRING)),
        tuple(f.name for f in shared if f.type is FactType.STRINGS),
        kind.id_facts[0] if len(kind.id_facts) == 1 else None,
        kind.id_facts,
        frozenset(f.name for f in kind.facts if f.required and not f.nullable
                  and f.type in (FactType.TEXT, FactType.STRING)),
    )


@dataclass(frozen=True, slots=True)
class Tables:
    """The reader's tables for a registry: per kind name, and per fast-path line type."""

    by_name: dict[str, KindTable]
    by_line: dict[type[fast_lines.FastLine], KindTable]
    validator: jsonschema_rs.Validator


@lru_cache(maxsize=8)
def tables(kinds: KindRegistry = KINDS) -> Tables:
    """The reader's tables for ``kinds`` (built once per registry, which is immutable)."""
    by_name = {k.name: _table(k) for k in kinds}
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
    facts: Mapping[str, Any],
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


_FACTS_OF = attrgetter("facts")
_OBSERVED = attrgetter("observed_at")
_SOURCE_OF = attrgetter("source")
_SUBJECT_OF = attrgetter("subject")
_ORIGIN_OF = attrgetter("origin")
_RAW_REF_OF = attrgetter("raw_ref")
_ID_OF = attrgetter("id")
_LINE_OF = attrgetter("line")
_NONE_IF_UNSET: dict[Any, Any] = {UNSET: None}
#: Runs an iterator to its end, keeping nothing.
_consume: Callable[[Iterable[Any]], None] = deque(maxlen=0).extend


def _shared(values: list[Any], share: Callable[[Any, Any], Any]) -> list[Any]:
    """``share(v, v)`` of each value (the one object kept for it), asked once when all are
    equal: a block's records mostly come from one source, without origin or raw page."""
    first = values[0]
    if values.count(first) == len(values):
        return [share(first, first)] * len(values)
    return list(map(share, values, values))


def canonical_instant(text: str, cache: dict[str, datetime]) -> datetime | None:
    """Parse a timestamp of the strict form and documented range (``core.limits``) and share
    it through ``cache``; None otherwise (the schema path then words what is wrong)."""
    if _canonical(text) is None or not YEAR_FIRST <= text[:4] <= YEAR_LAST:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not UTC or text[-1] != "Z":
        # With an offset, the UTC instant may leave the range the year text is within.
        if instant_problem(value) is not None:
            return None
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)  # the strict form always has an offset
    # else: a UTC instant whose year is within YEAR_MIN..YEAR_MAX lies within the range.
    if len(cache) < MAX_CACHED_PER_FIELD:
        cache[text] = value
    return value


#: Many instants of the canonical UTC form (``...Z``) within the range, one per line: texts
#: that :func:`canonical_instant` reads as ``datetime.fromisoformat`` does, without offset.
_UTC_LINES = re.compile(
    r"(?:(?:19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:\.[0-9]{1,6})?Z\n)*"
)
_INSTANTS = msgspec.json.Decoder(list[datetime])
_WRITE = msgspec.json.Encoder().encode


def canonical_instants(texts: Sequence[str]) -> list[datetime] | None:
    """:func:`canonical_instant` of each text (none cached), parsed in one call when all are of
    the canonical UTC form; None if any is not canonical (the schema path then decides).

    msgspec parses RFC 3339 in C; its result is taken when msgspec writes back exactly the
    texts it read, every one in UTC (so each is of the strict ``...Z`` form, for which it and
    ``datetime.fromisoformat`` agree: ``tests/collectors/test_block_reading.py``) and all lie
    within the documented range; else when each is of that form by a regular expression
    (``.5Z``, which msgspec writes ``.500000Z``). A date that does not exist (``2026-02-30``)
    makes msgspec refuse the lot: each is then read alone.
    """
    if not texts:
        return []
    data = ('["' + '","'.join(texts) + '"]').encode()
    try:
        parsed = _INSTANTS.decode(data)
    except msgspec.DecodeError:
        parsed = None
    # msgspec writes back an offset (``+01:00``) or no zone as it read them, and ``Z`` for UTC
    # (``timezone.utc``, what it gives for ``Z``): written back as read, each text ends in
    # ``Z"`` exactly when it is in UTC. Only those are taken; the rest goes to the per-text path.
    if parsed is not None and len(parsed) == len(texts) and _WRITE(parsed) == data \
            and data.count(b'Z"') == len(texts) \
            and INSTANT_MIN <= min(parsed) and max(parsed) <= INSTANT_MAX:
        return parsed
    if parsed is not None and _UTC_LINES.fullmatch("\n".join(texts) + "\n"):
        return parsed
    scratch: dict[str, datetime] = {}
    out = []
    for text in texts:
        value = canonical_instant(text, scratch)
        if value is None:
            return None
        out.append(value)
    return out


_INSTANT_COLUMN = msgspec.json.Decoder(list[datetime | None])


def canonical_column(values: list[Any]) -> list[Any] | None:
    """A column of timestamp texts and nulls read in one call: each text's
    :func:`canonical_instant`, each null kept, in place; None if one value is neither (absent:
    ``UNSET``) or one text is not of the canonical UTC form msgspec writes back, within the
    range (the caller then reads the texts as :func:`canonical_instants` does).

    The column is written by msgspec as JSON (texts and nulls as they are) and parsed back as
    instants and nulls; it is taken on the proofs of :func:`canonical_instants`: written back,
    the instants give the very same bytes, every one of them in UTC (one ``Z"`` each).
    """
    try:
        data = _WRITE(values)
        parsed = _INSTANT_COLUMN.decode(data)
    except (TypeError, msgspec.DecodeError):
        return None
    # no null without a None given (a text is never read as null)
    instants = [v for v in parsed if v is not None] if None in values \
        else cast(list[datetime], parsed)
    if not instants or len(parsed) != len(values) or _WRITE(parsed) != data \
            or data.count(b'Z"') != len(instants) \
            or not INSTANT_MIN <= min(instants) or not max(instants) <= INSTANT_MAX:
        return None
    return parsed


def evidence_schema(kinds: KindRegistry = KINDS) -> dict[str, Any]:
    """The JSON Schema of one line, derived from the registered kinds (a fresh copy)."""
    return schema.evidence_schema(kinds)


#: How a field's value shows in JSON, for :class:`QuotePlan`: a text (or null), a value without
#: quotes (a number, a boolean, null), a list of texts (or null).
TEXT, PLAIN, TEXTS = "text", "plain", "texts"


@dataclass(frozen=True, slots=True)
class QuotePlan:
    """How many ``"`` msgspec writes for lines of one type, told from their columns.

    The block proof (:func:`_read_block`) compares the quotes of a block without a backslash
    with the quotes of its decoding written back: a duplicate name drops at least that name.
    Writing back costs a pass over the block; the count is told instead from what the lines
    hold: ``fixed`` quotes per line (the ``kind`` tag and its value; each required field that
    is never null: 2 for its name, 2 more for a text), then 2 per field present (not ``UNSET``)
    of ``top`` and ``facts``, 2 per text in it (not null) and 2 per text of a list of texts.
    Each text of a line without a backslash holds no ``"`` and is written as one ``"...."``,
    so this is the count msgspec writes (``tests/collectors/test_block_reading.py`` checks it
    against writing back, on every kind).
    """

    fixed: int
    top: tuple[tuple[str, str], ...]
    facts: tuple[tuple[str, str], ...]


def _shape(kind: Any) -> tuple[str, bool] | None:
    """The category of a msgspec type (``TEXT``, ``PLAIN``, ``TEXTS``) and whether it admits
    null; None for any other type (no plan: the lines are written back instead)."""
    members = kind.types if isinstance(kind, mi.UnionType) else (kind,)
    nullable = any(isinstance(m, mi.NoneType) for m in members)
    rest = [m for m in members if not isinstance(m, mi.NoneType)]
    if rest and all(isinstance(m, mi.StrType) or (isinstance(m, mi.LiteralType) and all(
            v.__class__ is str for v in m.values)) for m in rest):
        return TEXT, nullable
    if all(isinstance(m, mi.BoolType | mi.IntType | mi.FloatType) for m in rest):
        return PLAIN, nullable
    if len(rest) == 1 and isinstance(rest[0], mi.ListType) \
            and isinstance(rest[0].item_type, mi.StrType):
        return TEXTS, nullable
    return None


def _plan_fields(cls: type, fields: Sequence[mi.Field],
                 fixed: int) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """``fixed`` plus the quotes the required, never null fields of a struct always give, and
    its other fields with their category; None if a field is of another type, or an optional
    one defaults to anything but ``UNSET`` (msgspec would write it though the line has not)."""
    if any(d is not UNSET for d in getattr(cls, "__struct_defaults__", (None,))):
        return None
    planned: list[tuple[str, str]] = []
    for f in fields:
        shape = _shape(f.type)
        if shape is None:
            return None
        category, nullable = shape
        if f.required and category is PLAIN:
            fixed += 2
        elif f.required and category is TEXT and not nullable:
            fixed += 4
        else:
            planned.append((f.name, category))
    return fixed, tuple(planned)


@lru_cache(maxsize=64)
def quote_plan(line: type) -> QuotePlan | None:
    """The :class:`QuotePlan` of a fast-path line type (``fast_lines.FastLine``): its top fields
    and its ``facts`` struct; None if one of them is of a type the plan does not know."""
    info = mi.type_info(line)
    if not isinstance(info, mi.StructType) or info.array_like or info.tag_field is None \
            or info.tag.__class__ is not str:
        return None
    facts = [f for f in info.fields if f.name == "facts"]
    if len(facts) != 1 or not facts[0].required or not isinstance(facts[0].type, mi.StructType) \
            or facts[0].type.array_like:
        return None
    inner_type = facts[0].type
    # the tag and its value, the name "facts"
    top = _plan_fields(line, [f for f in info.fields if f.name != "facts"], 4 + 2)
    inner = _plan_fields(inner_type.cls, inner_type.fields, 0)
    if top is None or inner is None:
        return None
    return QuotePlan(top[0] + inner[0], top[1], inner[1])


def _is_list(value: Any) -> bool:
    return value.__class__ is list


def planned_quotes(plan: QuotePlan, run: Sequence[Any], facts: Sequence[Any],
                   top: Mapping[str, list[Any]], inner: Mapping[str, list[Any]]) -> int:
    """The ``"`` msgspec writes for ``run`` (lines of one type, ``facts`` theirs), told by
    ``plan`` from columns: those given in ``top`` and ``inner`` (by field name; a column may
    hold the field's values as built, as long as ``UNSET``, None and lists stay as read),
    the others read here."""
    n = len(run)
    total = plan.fixed * n
    for planned, given, items in ((plan.top, top, run), (plan.facts, inner, facts)):
        for name, category in planned:
            column = given.get(name)
            if column is None:
                column = list(map(attrgetter(name), items))
            present = n - column.count(UNSET)
            total += 2 * present
            if category is TEXT:
                total += 2 * (present - column.count(None))
            elif category is TEXTS:
                lists = column if present == n and None not in column \
                    else filter(_is_list, column)
                total += 2 * sum(map(len, lists))
    return total


@dataclass(frozen=True, slots=True)
class EvidenceBatch:
    """What a file (or a collection) holds: evidence records and collection errors."""

    evidence: list[Evidence]
    errors: list[CollectionError]
    warnings: list[RunWarning] = field(default_factory=list)  # from live collectors only


class _Instants(dict[Any, Any]):
    """One field's instants by text (None and UNSET, absent, stand for themselves).

    A text it does not hold reads as itself, and ``missed`` says one was asked:
    ``_Reader.stamps`` reads a column through it in one pass, and looks for new texts only
    then.
    """

    __slots__ = ("missed",)

    def __init__(self) -> None:
        super().__init__({None: None, UNSET: UNSET})
        self.missed = False

    def __missing__(self, key: Any) -> Any:
        self.missed = True
        return key


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
        #: The line of each record built, in order (its id is claimed after: ``_claim_ids``).
        self.lines = array("L")
        self.strings: dict[str, str] = {}
        self.origins: dict[Any, str] = {UNSET: ""}  # shared origins; UNSET (absent): ""
        self.lists: dict[tuple[Any, ...], list[Any]] = {}
        self.instants: dict[str, datetime] = {}
        self.fast = fast_lines.decoder(kinds)
        self.encode = msgspec.json.Encoder().encode
        #: The fast path's timestamps, one cache per field: most fields repeat a few hundred
        #: instants (a small table stays in the CPU cache) while one may be unique per record.
        self.fast_instants: dict[str, _Instants] = {
            key: _Instants() for k in self.kinds.values()
            for key in (*k.timestamps, "observed_at")
        }
        #: Fields whose instants are nearly all distinct (their cache full, and missing):
        #: ``stamps`` parses their texts without asking the cache.
        self.unique_instants: set[str] = set()

    def fail(self, line: int, path: str, message: str) -> None:
        """Record one problem of an invalid record (a record may have several)."""
        if self.last_line != line:
            self.invalid += 1
            self.last_line = line
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(Problem(self.name, line, 1, path, message))

    def refuse(self, refused: list[Problem]) -> None:
        """Add the problems of lines refused once read (one each, in line order), among the
        others in line order: what :meth:`fail` would have kept had it met them in turn."""
        merged = heapq.merge(self.problems, refused[:MAX_REPORTED], key=_LINE_OF)
        self.problems = list(islice(merged, MAX_REPORTED))
        self.invalid += len(refused)
        self.last_line = max(self.last_line, refused[-1].line)

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
        return self.slow(line_no, line)

    def slow(self, line_no: int, line: bytes) -> Evidence | CollectionError | None:
        """The schema path: strict parsing, the schema's verdict and words, then the record."""
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
        """Build a record decoded by the fast path; None if a timestamp is not canonical.

        The decoded facts become the record's facts (a ``fast_lines.Facts``), their timestamps
        parsed and their shared values shared in place: no dict is built per record.
        """
        table = self.line_kinds[line.__class__]
        facts = line.facts
        caches = self.fast_instants
        for key in table.timestamps:
            value = getattr(facts, key)
            if value.__class__ is str:  # else None or UNSET (absent)
                cache = caches[key]
                stamp = cache.get(value)
                if stamp is None and (stamp := canonical_instant(value, cache)) is None:
                    return None
                setattr(facts, key, stamp)
        strings = self.strings
        for key in table.shared_texts:
            value = getattr(facts, key)
            if value.__class__ is str:
                setattr(facts, key, strings.setdefault(value, value))
        for key in table.shared_lists:
            value = getattr(facts, key)
            if value.__class__ is list:  # read-only by convention: equal lists are shared
                setattr(facts, key, self.lists.setdefault(tuple(value), value))
        cache = caches["observed_at"]
        observed = cache.get(line.observed_at)
        if observed is None and (observed := canonical_instant(line.observed_at, cache)) is None:
            return None
        source = strings.setdefault(line.source, line.source)
        subject = strings.setdefault(line.subject, line.subject)
        origin = line.origin
        origin = "" if origin is UNSET else strings.setdefault(origin, origin)
        id_ = line.id
        if id_ is UNSET:
            if (name := table.id_fact) is not None:  # the kind's id rule, inlined
                part = getattr(facts, name)
                if part.__class__ is not str:
                    part = "" if part is UNSET else id_part(part)
                id_ = f"{source}:{table.name}:{subject}:{part}"
            elif not table.id_facts:
                id_ = f"{source}:{table.name}:{subject}"
            else:
                id_ = table.evidence_id(source, subject, cast(Mapping[str, Any], facts))
        return _new_evidence(
            id_,
            table.name,
            source,
            subject,
            observed,
            cast(Mapping[str, Any], facts),  # a Mapping, registered as one
            origin,
            None if line.raw_ref is UNSET else line.raw_ref,
        )

    def stamps(self, key: str, get: Callable[[Any], Any], items: list[Any]) -> list[Any] | None:
        """What ``get`` reads of each of ``items`` (a text, None or UNSET), each text read as
        :func:`canonical_instant` reads it, through the cache of ``key``; None if one is not
        canonical."""
        cache = self.fast_instants[key]
        texts: list[str]
        if key in self.unique_instants:  # a full cache that no longer finds: not asked
            out = list(map(get, items))
            if (column := canonical_column(out)) is not None:  # in one call, in place
                return column
            texts = list(compress(out, map(isinstance, out, repeat(str))))  # nearly all new
        else:
            cache.missed = False
            out = list(map(cache.__getitem__, map(get, items)))  # known texts: their instant
            if not cache.missed:  # every text known: the column read in one pass
                return out
            texts = list(dict.fromkeys(compress(out, map(isinstance, out, repeat(str)))))
        if not texts:
            return out
        parsed = canonical_instants(texts)
        if parsed is None:
            return None
        found = dict(zip(texts, parsed, strict=True))  # a text twice: either instant of it
        if (room := MAX_CACHED_PER_FIELD - len(cache)) > 0:
            cache.update(islice(found.items(), room))
        elif len(texts) * 2 > len(out):  # most texts new, and no room: instants unique
            self.unique_instants.add(key)
        return list(map(found.get, out, out))

    def build_run(self, run: list[fast_lines.FastLine]) -> tuple[list[Evidence], int] | None:
        """:meth:`_build_fast` of each line of a run of one kind, column by column (one call
        per field for the whole run rather than a few per line), and the ``"`` msgspec would
        write for the run as decoded (:class:`QuotePlan`, from the columns read to build it);
        None if a timestamp of the run is not canonical (each line is then built alone, and
        the run is left as decoded)."""
        table = self.line_kinds[run[0].__class__]
        plan = quote_plan(run[0].__class__)
        written = self.encode(run).count(b'"') if plan is None else 0  # before any change
        facts = list(map(_FACTS_OF, run))
        #: the columns read, for the plan: UNSET, None and lists stay as decoded in each
        inner: dict[str, list[Any]] = {}
        for key in table.timestamps:
            values = self.stamps(key, attrgetter(key), facts)
            if values is None:
                return None
            inner[key] = values
        observed = self.stamps("observed_at", _OBSERVED, run)
        if observed is None:
            return None
        n = len(run)
        for key in table.timestamps:
            _consume(map(setattr, facts, repeat(key, n), inner[key]))
        strings = self.strings
        share = strings.setdefault
        for key in table.shared_texts:  # text, None or UNSET: each is its own shared value
            values = inner[key] = list(map(attrgetter(key), facts))
            if key in table.texts:  # a string in every line: shared, kept for the ids
                values = inner[key] = list(map(share, values, values))
                _consume(map(setattr, facts, repeat(key, n), values))
            elif str in set(map(type, values)):  # else all absent or null: nothing to share
                _consume(map(setattr, facts, repeat(key, n), map(share, values, values)))
        for key in table.shared_lists:
            values = inner[key] = list(map(attrgetter(key), facts))
            shared: Iterable[Any]
            if set(map(type, values)) <= {list}:
                shared = map(self.lists.setdefault, map(tuple, values), values)
            else:  # a nullable or absent list here and there
                shared = (self.lists.setdefault(tuple(v), v) if v.__class__ is list else v
                          for v in values)
            _consume(map(setattr, facts, repeat(key, n), shared))
        sources = _shared(list(map(_SOURCE_OF, run)), share)
        subjects = list(map(_SUBJECT_OF, run))
        subjects = list(map(share, subjects, subjects))
        top = {"origin": list(map(_ORIGIN_OF, run)), "raw_ref": list(map(_RAW_REF_OF, run)),
               "id": list(map(_ID_OF, run))}
        origins = _shared(top["origin"], self.origins.setdefault)  # UNSET: ""
        raw_refs = _shared(top["raw_ref"], _NONE_IF_UNSET.get)  # UNSET: None
        ids = top["id"]
        if ids.count(UNSET) == n:  # no line brings its id (by identity: fast)
            ids = self._ids(table, sources, subjects, facts, inner)
        elif UNSET in ids:
            derived = self._ids(table, sources, subjects, facts, inner)
            ids = [d if i is UNSET else i for i, d in zip(ids, derived, strict=True)]
        if plan is not None:
            written = planned_quotes(plan, run, facts, top, inner)
        out: list[Evidence] = list(map(object.__new__, repeat(Evidence, n)))
        _consume(map(_ID, out, ids))
        _consume(map(_KIND, out, repeat(table.name, n)))
        _consume(map(_SOURCE, out, sources))
        _consume(map(_SUBJECT, out, subjects))
        _consume(map(_OBSERVED_AT, out, observed))
        _consume(map(_FACTS, out, facts))
        _consume(map(_ORIGIN, out, origins))
        _consume(map(_RAW_REF, out, raw_refs))
        return out, written

    @staticmethod
    def _ids(table: KindTable, sources: list[str], subjects: list[str],
             facts: list[fast_lines.Facts], columns: Mapping[str, list[Any]]) -> list[str]:
        """The id the kind's rule gives each record (``spec._id_rule``, by columns; a fact
        every line carries as text is read from ``columns``, its shared values)."""
        kind = table.name
        key = table.id_fact
        if key is not None:
            if key in table.texts and key in columns:
                parts = columns[key]
            else:
                parts = list(map(attrgetter(key), facts))
                if not set(map(type, parts)) <= {str}:
                    parts = [p if p.__class__ is str else "" if p is UNSET else id_part(p)
                             for p in parts]
            # f"{s}:{kind}:{u}:{p}" of each (all texts), joined in C
            return list(map(":".join, zip(sources, repeat(kind), subjects, parts, strict=False)))
        if not table.id_facts:
            return list(map(":".join, zip(sources, repeat(kind), subjects, strict=False)))
        rule = table.evidence_id
        return list(map(rule, sources, subjects, cast(list[Mapping[str, Any]], facts)))

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


#: The reader takes a file in blocks of whole lines of about this many bytes.
BLOCK_BYTES = 1 << 16


def _blocks(handle: IO[bytes]) -> Iterator[bytes]:
    """The file as blocks of whole lines (each but perhaps the last ends with a newline)."""
    rest = b""
    while chunk := handle.read(BLOCK_BYTES):
        end = chunk.rfind(b"\n")
        if end < 0:
            rest += chunk
            continue
        yield rest + chunk[: end + 1]
        rest = chunk[end + 1 :]
    if rest:
        yield rest


def _read_block(
    reader: _Reader, block: bytes, first_line: int, evidence: list[Evidence],
    errors: list[CollectionError],
) -> int:
    """Read one block whose first line is ``first_line``; return the number of its lines.

    Its lines are decoded one by one by the fast path, built, and proved free of duplicate
    names in one count: the quotes of the block against those msgspec would write for its
    decoding (``strict_json.keys_intact`` over the whole block: each line's count can only
    fall short, so the sums are equal exactly when every line's are), told by each run's
    :class:`QuotePlan` (``_by_kind``). A block that cannot be taken whole (a line the fast
    path refuses, a blank line, an escape, a name twice) is read line by line
    (``_Reader.record``, from its bytes: what was built of it is dropped); either way each
    line gets the record, or the problems, it would get alone.
    """
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    items: list[Any] | None = None
    if b"\\" not in block:
        try:
            items = list(map(reader.fast.decode, lines))
        except (msgspec.DecodeError, RecursionError):
            items = None
    if items is not None:
        records, written, whole = _by_kind(reader, items)
        if written != block.count(b'"'):
            items = None
    if items is None:
        line_no = first_line
        for line in lines:
            if line.strip():
                item = reader.record(line_no, line)
                if isinstance(item, Evidence):
                    _keep(reader, item, line_no, evidence)
                elif isinstance(item, CollectionError):
                    errors.append(item)
            line_no += 1
        return len(lines)
    if whole:  # every line built with its kind's columns
        _keep_run(reader, records, first_line, evidence)
        return len(lines)
    line_no = first_line
    for item in records:  # in line order, so that problems come in line order too
        if item.__class__ is not Evidence:  # its kind's columns could not take it: alone
            item = reader._build_fast(item)
            if item is None:  # a timestamp not of the canonical form: the schema path decides
                slow = reader.slow(line_no, lines[line_no - first_line])
                if isinstance(slow, CollectionError):  # pragma: no cover - a kind decoded it
                    errors.append(slow)
                else:
                    item = slow
        if item is not None:
            _keep(reader, item, line_no, evidence)
        line_no += 1
    return len(lines)


def _by_kind(reader: _Reader, items: list[Any]) -> tuple[list[Any], int, bool]:
    """The records of a block's decoded lines, in line order, the ``"`` msgspec would write
    for the lines as decoded, and whether all were built: each kind's lines built together by
    :meth:`_Reader.build_run` (one call per field for all of them), which tells its quotes.
    The lines of a kind it cannot take (too few, or a timestamp not canonical) are left as
    decoded, to be built alone, and their quotes counted as msgspec writes them.

    A block mostly holds one kind (an asset's line, then its patches): the lines of the other
    kinds are taken out by their places and put back into the records of that kind at them
    (``_put_back``); when they are many, every kind is taken out and merged back instead.
    """
    kinds = list(map(type, items))
    order = list(dict.fromkeys(kinds))  # in order of first appearance
    if len(order) == 1:
        records, written, whole = _built(reader, items)
        return records, written, whole
    counts = list(map(kinds.count, order))
    most = max(counts)
    major = order[counts.index(most)]
    runs: dict[type, list[Any]] = {}
    places: list[int] = []
    if (len(items) - most) * FEW_OTHERS <= len(items):
        places = list(compress(range(len(items)), map(is_not, kinds, repeat(major))))
        runs = {kind: [] for kind in order}
        for place in places:  # the other kinds' lines: a few
            runs[kinds[place]].append(items[place])
        runs[major] = _without(items, places)
    else:
        runs = {kind: list(compress(items, map(is_, kinds, repeat(kind)))) for kind in order}
    built: dict[type, list[Any]] = {}
    written = 0
    whole = True
    for kind in order:
        built[kind], quotes, all_built = _built(reader, runs[kind])
        written += quotes
        whole = whole and all_built
    if places:
        return _put_back(built[major], places, kinds, built), written, whole
    # merged back into line order
    lines = {kind: iter(records) for kind, records in built.items()}
    return list(map(next, map(lines.__getitem__, kinds))), written, whole


#: The other kinds' lines of a block are put back by their places when they are at most one in
#: this many (each is one list insertion); more, and every kind's lines are merged back.
FEW_OTHERS = 8


def _built(reader: _Reader, run: list[Any]) -> tuple[list[Any], int, bool]:
    """The records of a run of one kind (:meth:`_Reader.build_run`), its quotes, and True; or
    the lines as decoded, the quotes msgspec writes for them, and False."""
    made = reader.build_run(run) if len(run) >= MIN_RUN else None
    if made is None:
        return run, reader.encode(run).count(b'"'), False
    return made[0], made[1], True


def _without(items: list[Any], places: list[int]) -> list[Any]:
    """``items`` but those at ``places`` (in increasing order)."""
    out: list[Any] = []
    start = 0
    for place in places:
        out += items[start:place]
        start = place + 1
    out += items[start:]
    return out


def _put_back(records: list[Any], places: list[int], kinds: list[type],
              built: Mapping[type, list[Any]]) -> list[Any]:
    """``records`` (of the block's major kind, in line order) with the records of the other
    kinds put back at their lines' ``places`` (increasing): each insertion lands at its line,
    those before it being in place already."""
    out = list(records)
    others = {kind: iter(run) for kind, run in built.items()}
    for place in places:
        out.insert(place, next(others[kinds[place]]))
    return out


#: Runs of one kind shorter than this are built line by line (columns cost a call per field).
MIN_RUN = 4


def _keep(reader: _Reader, item: Evidence, line_no: int, evidence: list[Evidence]) -> None:
    """Keep a record built from line ``line_no`` (its id is claimed once all are read)."""
    evidence.append(item)
    reader.lines.append(line_no)


def _keep_run(reader: _Reader, run: list[Evidence], first_line: int,
              evidence: list[Evidence]) -> None:
    """:func:`_keep` of each record of a run of consecutive lines."""
    evidence.extend(run)
    reader.lines.extend(range(first_line, first_line + len(run)))


def _claim_ids(reader: _Reader, evidence: list[Evidence]) -> list[Evidence]:
    """The records that keep their id: each id goes to the first line that has it, and a later
    record with the same id is refused by its number (``reader.refuse``), as if claimed line
    by line. Told in one step when no id repeats (a set of them all: the common case)."""
    if len(set(map(_ID_OF, evidence))) == len(evidence):
        return evidence
    ids = list(map(_ID_OF, evidence))
    lines = reader.lines
    first: dict[str, int] = {}
    kept: list[Evidence] = []
    refused: list[Problem] = []
    for i, (id_, item) in enumerate(zip(ids, evidence, strict=True)):
        j = first.setdefault(id_, i)
        if j == i:
            kept.append(item)
        else:
            refused.append(Problem(reader.name, lines[i], 1, "id",
                                   f"duplicate evidence id {id_!r} (line {lines[j]})"))
    reader.refuse(refused)
    return kept


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
    # collector would rescan them over and over while they load, for nothing to collect. On
    # the way out they are set aside (``then_freeze``): what was allocated meanwhile would
    # otherwise be scanned by the first collection, then on every full one.
    try:
        with paused(then_freeze=True):
            line_no = 1
            for block in _blocks(handle):
                line_no += _read_block(reader, block, line_no, evidence, errors)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    evidence = _claim_ids(reader, evidence)
    del reader.lines[:]
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

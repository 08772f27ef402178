"""Normalised evidence records: what every collector produces and every check reads.

Types only, no I/O. Datetimes are timezone-aware UTC; naive ones are rejected at the boundary.

Timestamps in facts follow one rule on every path: the timestamp facts a kind declares
(``clausewatch.core.kinds``) are datetimes, every other fact is what JSON can carry. Building an
``Evidence`` applies it, so a record built by a live collector equals the same record written
as JSON Lines and read back: a declared timestamp fact given as RFC 3339 text is parsed, and a
datetime in an undeclared fact becomes its RFC 3339 text in UTC (``2026-11-30T03:00:00Z``),
as the JSON Lines writer would write it. Naive datetimes are refused in either case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clausewatch.core.clock import iso_z, parse_utc, require_utc
from clausewatch.core.kinds import KINDS, Kind

__all__ = [
    "CollectionError",
    "Evidence",
    "Kind",
    "RunWarning",
    "canonical_origin",
    "default_evidence_id",
    "origin_covers",
    "subject_under",
]

#: Per registered kind, its timestamp facts.
_TIMESTAMPS: dict[str, frozenset[str]] = {k.name: frozenset(k.timestamp_facts) for k in KINDS}
_NONE: frozenset[str] = frozenset()


def canonical_origin(origin: str) -> str:
    """An origin in the one form origins are compared in: case-folded, without trailing ``/``.

    ``AWS/111111111111/EU-WEST-1/`` and ``aws/111111111111/eu-west-1`` name the same place:
    account ids, regions, tenant ids (GUIDs) and project ids are case-insensitive names, and a
    trailing slash adds no segment. See docs/errors.md.
    """
    return origin.rstrip("/").casefold()


def origin_covers(error_origin: str, evidence_origin: str) -> bool:
    """True if ``evidence_origin`` lies under ``error_origin`` (path segments split by ``/``).

    Both are compared in canonical form (``canonical_origin``: case-insensitive, a trailing
    slash ignored). ``aws/111111111111`` covers ``aws/111111111111/eu-west-1`` and
    ``AWS/111111111111/``; ``aws/1111`` does not cover ``aws/11112``. An empty error origin
    covers everything from its source.
    """
    error, evidence = canonical_origin(error_origin), canonical_origin(evidence_origin)
    if not error:
        return True
    return evidence == error or evidence.startswith(error + "/")


def subject_under(error_origin: str, evidence_origin: str, subject: str) -> bool:
    """Whether ``error_origin`` names ``subject`` as one segment below ``evidence_origin``.

    A collector that failed on one instance may say so with the origin
    ``aws/<account>/<region>/<instance id>`` (the older form of ``CollectionError.subject``):
    that error covers the asset at ``aws/<account>/<region>`` whose subject is, or ends in
    ``/<instance id>`` or ``:<instance id>`` (``arn:...:instance/i-0abc``), and nothing else.
    """
    error, evidence = canonical_origin(error_origin), canonical_origin(evidence_origin)
    prefix = evidence + "/" if evidence else ""
    if not error.startswith(prefix):
        return False
    tail = error[len(prefix):]
    if not tail or "/" in tail:
        return False
    name = subject.casefold()
    return name == tail or name.endswith("/" + tail) or name.endswith(":" + tail)


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """One observed fact about one subject, with its provenance.

    ``subject`` is the stable id of what the fact is about (ARN, UPN, device id). ``origin``
    says where it was collected (``aws/<account>/<region>``, ``entra/<tenant>``) so that a
    collection failure there can be matched to the subjects it leaves uncertain. ``raw_ref``
    names the raw API page the record was derived from.
    """

    id: str
    kind: str
    source: str
    subject: str
    observed_at: datetime
    facts: Mapping[str, Any]
    origin: str = ""
    raw_ref: str | None = None

    def __post_init__(self) -> None:
        require_utc(self.observed_at, "observed_at")
        facts = _normalised_facts(self.kind, self.facts)
        if facts is not self.facts:
            object.__setattr__(self, "facts", facts)


#: Exact types never changed by ``_normalised_facts`` (no datetime, no str).
_PASSED = frozenset({int, float, bool, type(None), list, dict, tuple})


def _normalised_facts(kind: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
    """``facts`` under the timestamp rule of the module docstring (a copy only if it changes).
    Values of the exact types the rule leaves alone are passed over first (a str only under a
    key that is not a timestamp): a collection of 100,000 records reads millions of facts."""
    stamps = _TIMESTAMPS.get(kind, _NONE)
    if _left_alone(stamps, facts):
        return facts
    changed: dict[str, Any] | None = None
    for key, value in facts.items():
        kind_of = type(value)
        if kind_of in _PASSED or (kind_of is str and key not in stamps):
            continue
        if isinstance(value, datetime):
            if key in stamps:
                require_utc(value, f"facts.{key}")
                continue
            new: Any = iso_z(require_utc(value, f"facts.{key}"))
        elif key in stamps and isinstance(value, str):
            try:
                new = parse_utc(value, f"facts.{key}")
            except ValueError as exc:
                raise ValueError(f"facts.{key}: not a readable timestamp ({exc})") from exc
        else:
            continue
        if changed is None:
            changed = dict(facts)
        changed[key] = new
    return facts if changed is None else changed


#: The exact types ``_left_alone`` reads: the passed ones, text and datetimes.
_READ = _PASSED | {str, datetime}


def _left_alone(stamps: frozenset[str], facts: Mapping[str, Any]) -> bool:
    """True when the rule provably leaves ``facts`` as they are (``_normalised_facts`` then
    walks none of them in Python): every value of an exact type of ``_READ``, no text under a
    timestamp fact, a datetime in UTC (``tzinfo`` ``UTC``) under each timestamp fact that holds
    one and under no other fact (as many datetimes in all as under the timestamp facts). The
    types are read in C; only the few timestamp facts a kind declares are looked up. False
    says nothing: the walk decides (and raises as it does)."""
    kinds = list(map(type, facts.values()))
    if not _READ.issuperset(kinds):
        return False
    stamped = 0
    for key in stamps:
        value = facts.get(key)
        if type(value) is datetime:
            if value.tzinfo is not UTC:
                return False
            stamped += 1
        elif type(value) is str:
            return False
    return kinds.count(datetime) == stamped


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionError:
    """A collector could not see something. Data, never swallowed.

    It says what it covered, so that the engine makes ``no_evidence`` of exactly the subjects
    it leaves uncertain and of nothing else (docs/errors.md):

    * ``source``, ``origin`` (an account, a region, a tenant, a project; empty: everything from
      the source) and ``kinds``, the evidence kinds it should have produced there;
    * ``asset_kinds``: the kinds of asset it would have reported or informed (``database``
      for an RDS listing); empty means any;
    * ``resource_types``: the vendor's names for what it read (``RDS``, ``EFS``), for people;
    * ``subject``: set when the failure concerns one subject only (one instance's patches);
    * ``tags`` and ``facts``: what the source puts on every subject it reports there (the
      tags of a sources-file entry, ``tenant_id``), so a commitment scoped elsewhere is spared.

    ``operation`` names the call that failed. All but the first four have defaults: an error
    built as before these fields existed covers what it covered then.
    """

    source: str
    origin: str
    kinds: tuple[str, ...]
    message: str
    operation: str = ""
    occurred_at: datetime | None = None
    retryable: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)
    asset_kinds: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    subject: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("kinds", "asset_kinds", "resource_types"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(str(v) for v in value))

    @property
    def id(self) -> str:
        """Names the error by what it covered (two errors may share it: a second call that
        failed the same way; the engine keeps its placeholders apart anyway)."""
        narrow = f"[{'+'.join(self.asset_kinds)}]" if self.asset_kinds else ""
        one = f"@{self.subject}" if self.subject else ""
        kinds = "+".join(self.kinds)
        return f"error:{self.source}:{self.origin}:{kinds}{narrow}:{self.operation}{one}"

    @property
    def what(self) -> str:
        """What it could not collect, in words: ``asset (database) in aws/1/eu-west-3``."""
        kinds = "/".join(self.kinds)
        if self.asset_kinds:
            kinds += f" ({', '.join(self.asset_kinds)})"
        where = f"{self.subject} in {self.origin}" if self.subject else self.origin or "any origin"
        return f"{kinds} in {where}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunWarning:
    """Something a collector worked around and people should know about, that takes no
    evidence away (a Conditional Access policy naming a group that no longer exists).

    Collectors may yield it beside evidence and errors; the run logs it and lists it under the
    run's ``warnings`` input, which reaches results.json and the reports.
    """

    source: str
    origin: str
    message: str
    operation: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return f"{self.source} {self.origin}: {self.message}"


def default_evidence_id(kind: str, source: str, subject: str, facts: Mapping[str, Any]) -> str:
    """A stable id for a record that did not bring one: the id rule its kind declares.

    Patch records are one per asset x update; backups and restore tests one per event. A kind
    that is not registered gets ``<source>:<kind>:<subject>``.
    """
    declared = KINDS.get(kind)
    if declared is None:
        return f"{source}:{kind}:{subject}"
    return declared.evidence_id(source, subject, facts)

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
from datetime import datetime
from typing import Any

from clausewatch.core.clock import iso_z, parse_utc, require_utc
from clausewatch.core.kinds import KINDS, Kind

__all__ = ["CollectionError", "Evidence", "Kind", "default_evidence_id", "origin_covers"]

#: Per registered kind, its timestamp facts.
_TIMESTAMPS: dict[str, frozenset[str]] = {k.name: frozenset(k.timestamp_facts) for k in KINDS}
_NONE: frozenset[str] = frozenset()


def origin_covers(error_origin: str, evidence_origin: str) -> bool:
    """True if ``evidence_origin`` lies under ``error_origin`` (path segments split by ``/``).

    ``aws/111111111111`` covers ``aws/111111111111/eu-west-1``; ``aws/1111`` does not cover
    ``aws/11112``.
    """
    if not error_origin:
        return True
    return evidence_origin == error_origin or evidence_origin.startswith(error_origin + "/")


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


def _normalised_facts(kind: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
    """``facts`` under the timestamp rule of the module docstring (a copy only if it changes)."""
    stamps = _TIMESTAMPS.get(kind, _NONE)
    changed: dict[str, Any] | None = None
    for key, value in facts.items():
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


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionError:
    """A collector could not see something. Data, never swallowed.

    It names the source, the origin it could not read (an account, a region, a tenant), and
    the evidence kinds it should have produced there; the engine turns it into ``no_evidence``
    for exactly the subjects it leaves uncertain.
    """

    source: str
    origin: str
    kinds: tuple[str, ...]
    message: str
    operation: str = ""
    occurred_at: datetime | None = None
    retryable: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"error:{self.source}:{self.origin}:{'+'.join(self.kinds)}:{self.operation}"


def default_evidence_id(kind: str, source: str, subject: str, facts: Mapping[str, Any]) -> str:
    """A stable id for a record that did not bring one: the id rule its kind declares.

    Patch records are one per asset x update; backups and restore tests one per event. A kind
    that is not registered gets ``<source>:<kind>:<subject>``.
    """
    declared = KINDS.get(kind)
    if declared is None:
        return f"{source}:{kind}:{subject}"
    return declared.evidence_id(source, subject, facts)

"""Normalised evidence records: what every collector produces and every check reads.

Types only, no I/O. Datetimes are timezone-aware UTC; naive ones are rejected at the boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from clausewatch.core.clock import require_utc


class Kind(StrEnum):
    """The evidence kinds the checks read."""

    IDENTITY = "identity"
    ASSET = "asset"
    PATCH = "patch"
    BACKUP = "backup"
    RESTORE_TEST = "restore_test"


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
    """A stable id for a record that did not bring one.

    Patch records are one per asset x update; backups and restore tests one per event.
    """
    base = f"{source}:{kind}:{subject}"
    if kind == Kind.PATCH:
        return f"{base}:{facts.get('update_id', '')}"
    if kind in (Kind.BACKUP, Kind.RESTORE_TEST):
        completed = facts.get("completed_at")
        stamp = completed.isoformat() if isinstance(completed, datetime) else str(completed)
        return f"{base}:{stamp}"
    return base

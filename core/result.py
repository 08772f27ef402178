"""Statuses, per-subject results and per-commitment verdicts. Types only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """How a subject (or a whole commitment) stands against the contract."""

    COMPLIANT = "compliant"
    AT_RISK = "at_risk"  # compliant today, falls due within the warning window
    BREACHED = "breached"
    WAIVED = "waived"  # an accepted risk in force
    NO_EVIDENCE = "no_evidence"  # missing, stale or unreadable evidence: never compliant


#: Statuses that count towards a commitment's measured share: waived subjects leave the count.
COUNTED: frozenset[Status] = frozenset(s for s in Status if s is not Status.WAIVED)
#: Statuses that meet the commitment today (at risk: compliant now, falls due soon).
MEETING: frozenset[Status] = frozenset({Status.COMPLIANT, Status.AT_RISK})


def is_offender(status: Status | str) -> bool:
    """Whether a subject is listed as an offender: every subject not compliant (at risk,
    waived and without evidence included), whatever its commitment's verdict."""
    return status != Status.COMPLIANT


def counted(counts: Mapping[Status, int] | Mapping[str, int]) -> int:
    """How many subjects count towards the measured share, from counts by status."""
    return sum(n for s, n in counts.items() if s in COUNTED)


#: Order used to sort offenders, worst first.
SEVERITY_ORDER: Mapping[Status, int] = {
    Status.BREACHED: 0,
    Status.NO_EVIDENCE: 1,
    Status.AT_RISK: 2,
    Status.WAIVED: 3,
    Status.COMPLIANT: 4,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """One commitment x subject: the status, why, and the evidence it rests on."""

    commitment_id: str
    subject: str
    status: Status
    reason: str  # one human sentence, used verbatim in reports and alerts
    measured: Mapping[str, Any] = field(default_factory=dict)
    expected: Mapping[str, Any] = field(default_factory=dict)
    evidence_ids: tuple[str, ...] = ()
    due: datetime | None = None  # when it falls (or fell) due, for deadline commitments
    waiver: Mapping[str, Any] | None = None
    label: str = ""  # a human name for the subject (display name, hostname)
    reason_id: str = ""  # the reason's message id (core/messages.py), for other languages
    reason_params: Mapping[str, Any] = field(default_factory=dict)  # its placeholders (JSON)


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """One per commitment: the measured share of compliant subjects against the target."""

    commitment_id: str
    status: Status
    measured: float | None  # share compliant among counted subjects; None when nothing counted
    target: float
    counts: Mapping[str, int]
    reason: str
    due: datetime | None = None  # earliest due date among subjects at risk


def message(key: str, text: str, **params: Any) -> dict[str, Any]:
    """A message nested in a reason's parameters: its id, parameters and English text (shown
    as is where the id is unknown)."""
    return {"id": key, "params": params, "text": text}

"""Breach intervals: how one run moves each (commitment, subject) episode on. Pure, no I/O.

An interval opens when a subject is first seen at risk or breached and closes when it is seen
compliant again (``cured``), waived (``waived``) or no longer in scope on a complete run
(``gone``). ``breached_at`` is the first run that saw it breached; an interval cured without one
was cured inside the deadline. A run that could not see the subject (``no_evidence``, or a
partial run that lost it) never closes an interval: a collection failure is not a cure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from clausewatch.checks.engine import bears_on
from clausewatch.checks.registry import CHECKS, Registry
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.result import Status

VERDICT = ""  # the subject under which a commitment's own verdict is tracked

Key = tuple[str, str]  # (commitment id, subject)


class Observation(NamedTuple):
    """What one run saw of one (commitment, subject): a tuple, made for every result of every
    run (a third of the cost of a frozen dataclass: the demo's back-fill makes 67,000)."""

    commitment_id: str
    subject: str
    label: str
    status: Status
    due: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """One episode out of compliance; ``closed_at`` None while it lasts."""

    commitment_id: str
    subject: str
    label: str
    opened_at: datetime
    breached_at: datetime | None
    due: datetime | None
    last_seen_at: datetime
    last_status: Status
    closed_at: datetime | None = None
    end_reason: str | None = None
    id: int | None = None  # the store's row id, once stored

    @property
    def key(self) -> Key:
        return (self.commitment_id, self.subject)

    @property
    def cured_within_deadline(self) -> bool | None:
        """True: cured before breaching; False: cured late; None: open, waived or gone."""
        if self.end_reason != "cured":
            return None
        return self.breached_at is None


@dataclass(frozen=True, slots=True)
class Step:
    """The intervals a run opened, updated (still open) and closed."""

    opened: tuple[Interval, ...]
    updated: tuple[Interval, ...]
    closed: tuple[Interval, ...]


def observations(ev: Evaluation) -> list[Observation]:
    """Every result of the run, plus each commitment's verdict under subject ``VERDICT``."""
    out = []
    for o in ev.outcomes:
        out.append(
            Observation(
                commitment_id=o.commitment.id,
                subject=VERDICT,
                label=o.commitment.title,
                status=o.verdict.status,
                due=o.verdict.due,
            )
        )
        out += [  # positional: commitment_id, subject, label, status, due
            Observation(r.commitment_id, r.subject, r.label or r.subject, r.status, r.due)
            for r in o.results
        ]
    return out


def uncertain_commitments(ev: Evaluation, registry: Registry = CHECKS) -> set[str]:
    """Commitments on which this run may have missed subjects (collection errors)."""
    out = set()
    for o in ev.outcomes:
        kinds = registry[o.commitment.check].evidence_kinds
        hit = any(bears_on(e, o.commitment, kinds) for e in ev.errors)
        if hit or any(r.status is Status.NO_EVIDENCE for r in o.results):
            out.add(o.commitment.id)
    return out


def advance(
    open_intervals: Mapping[Key, Interval],
    seen: Iterable[Observation],
    as_of: datetime,
    uncertain: set[str],
) -> Step:
    """Move the open intervals on by one run at ``as_of``.

    ``uncertain`` names the commitments where a subject missing from ``seen`` may simply not
    have been collected: their intervals stay open.
    """
    opened: list[Interval] = []
    updated: list[Interval] = []
    closed: list[Interval] = []
    visited: set[Key] = set()
    for obs in seen:
        key = (obs.commitment_id, obs.subject)
        visited.add(key)
        current = open_intervals.get(key)
        status = obs.status
        if status in (Status.AT_RISK, Status.BREACHED):
            if current is not None and current.breached_at is not None and (
                status is Status.AT_RISK
            ):
                # the breach was cured; what is left is a new item falling due
                closed.append(_close(current, as_of, "cured"))
                current = None
            if current is None:
                opened.append(
                    Interval(
                        commitment_id=obs.commitment_id,
                        subject=obs.subject,
                        label=obs.label,
                        opened_at=as_of,
                        breached_at=as_of if status is Status.BREACHED else None,
                        due=obs.due,
                        last_seen_at=as_of,
                        last_status=status,
                    )
                )
            else:
                updated.append(
                    dataclasses.replace(
                        current,
                        label=obs.label,
                        breached_at=current.breached_at
                        or (as_of if status is Status.BREACHED else None),
                        due=_earliest(current.due, obs.due),
                        last_seen_at=as_of,
                        last_status=status,
                    )
                )
        elif current is None:
            continue
        elif status is Status.COMPLIANT:
            closed.append(_close(current, as_of, "cured"))
        elif status is Status.WAIVED:
            closed.append(_close(current, as_of, "waived"))
        else:  # no_evidence: we do not know, so the episode goes on
            updated.append(dataclasses.replace(current, last_status=status))
    for key, current in open_intervals.items():
        if key in visited:
            continue
        if current.commitment_id in uncertain:
            continue
        closed.append(_close(current, as_of, "gone"))
    return Step(tuple(opened), tuple(updated), tuple(closed))


def _close(interval: Interval, as_of: datetime, reason: str) -> Interval:
    return dataclasses.replace(interval, closed_at=as_of, end_reason=reason)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)

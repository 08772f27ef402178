"""Which events a run raises, from its results and what the history knew before. Pure.

A key is stable per (contract, commitment, subject). Events fire on transitions only: newly
breached, newly at risk (with the due date), cured (compliant again, waived, or gone from a
complete run), evidence gone missing, a waiver entering its warning window, and a reminder
every ``reminder_days`` while a breach lasts. ``no_evidence`` never cures a breach: the breach
stays open (and keeps its reminders) until evidence shows it cured.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from clausewatch.core.contract import Commitment
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.result import Result, Status
from clausewatch.history.intervals import Interval, Key, uncertain_commitments
from clausewatch.history.store import Prior


class EventKind(StrEnum):
    BREACHED = "breached"
    REMINDER = "reminder"
    AT_RISK = "at_risk"
    EVIDENCE_MISSING = "evidence_missing"
    WAIVER_EXPIRING = "waiver_expiring"
    CURED = "cured"
    TEST = "test"


#: Order in which a message lists its events.
ORDER = tuple(EventKind)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    reminder_days: float = 7.0  # 0: no reminders
    waiver_warning_days: float = 14.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    kind: EventKind
    key: str
    commitment_id: str
    clause: str
    title: str
    subject: str
    label: str
    status: str
    reason: str
    reason_id: str = ""  # the reason's message id and parameters (core/messages.py)
    reason_params: Mapping[str, Any] = field(default_factory=dict)
    due: datetime | None = None
    since: datetime | None = None  # when the breach began (first run that saw it)
    how: str = ""  # for cured: "compliant", "waived" or "gone"
    expires: str = ""  # for waiver_expiring: the expiry date


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """The events of one run, and the breaches still open once it is recorded."""

    events: tuple[Event, ...]
    open_breaches: tuple[Key, ...] = field(default=())


def alert_key(contract_id: str, commitment_id: str, subject: str) -> str:
    """Stable and opaque (no customer names in a pager): sha256 of the three, 32 hex digits."""
    raw = f"{contract_id}\x1f{commitment_id}\x1f{subject}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def detect(prior: Prior, ev: Evaluation, rules: Rules) -> Detection:
    contract = ev.contract
    as_of = ev.as_of
    events: list[Event] = []
    still_open: list[Key] = []
    seen: set[Key] = set()
    for o in ev.outcomes:
        c = o.commitment
        for r in o.results:
            k = (c.id, r.subject)
            seen.add(k)
            interval = prior.open.get(k)
            in_breach = interval is not None and interval.breached_at is not None

            def event(
                kind: EventKind, how: str = "", since: datetime | None = None, r: Result = r,
                c: Commitment = c, interval: Interval | None = interval,
            ) -> Event:
                return Event(
                    kind=kind,
                    key=alert_key(contract.id, c.id, r.subject),
                    commitment_id=c.id,
                    clause=c.clause,
                    title=c.title,
                    subject=r.subject,
                    label=r.label or r.subject,
                    status=str(r.status),
                    reason=r.reason,
                    reason_id=r.reason_id,
                    reason_params=r.reason_params,
                    due=r.due,
                    since=since or (interval.breached_at if interval is not None else None),
                    how=how,
                )

            status = r.status
            if status is Status.BREACHED:
                still_open.append(k)
                if not in_breach:
                    events.append(event(EventKind.BREACHED, since=as_of))
                elif (
                    interval is not None and interval.breached_at is not None
                    and _reminder_due(interval.breached_at, prior.as_of, as_of, rules)
                ):
                    events.append(event(EventKind.REMINDER))
            elif status is Status.AT_RISK:
                if in_breach:
                    events.append(event(EventKind.CURED, "compliant"))
                if interval is None or in_breach:
                    events.append(event(EventKind.AT_RISK))
            elif status is Status.COMPLIANT:
                if in_breach:
                    events.append(event(EventKind.CURED, "compliant"))
            elif status is Status.WAIVED:
                if in_breach:
                    events.append(event(EventKind.CURED, "waived"))
            elif status is Status.NO_EVIDENCE:
                if prior.statuses.get(k) is not Status.NO_EVIDENCE:
                    events.append(event(EventKind.EVIDENCE_MISSING))
                if in_breach:
                    still_open.append(k)
    uncertain = uncertain_commitments(ev)
    titles = {o.commitment.id: o.commitment for o in ev.outcomes}
    for k, interval in prior.open.items():
        if k in seen or interval.breached_at is None or k[1] == "":
            continue
        if k[0] in uncertain or k[0] not in titles:
            still_open.append(k)
            continue
        c = titles[k[0]]
        events.append(
            Event(
                kind=EventKind.CURED,
                key=alert_key(contract.id, k[0], k[1]),
                commitment_id=k[0],
                clause=c.clause,
                title=c.title,
                subject=k[1],
                label=interval.label,
                status="gone",
                reason="No longer in the commitment's scope (a complete run no longer sees it).",
                reason_id="alert.gone",
                since=interval.breached_at,
                how="gone",
            )
        )
    events += _waivers(ev, prior, rules)
    events.sort(key=lambda e: (ORDER.index(e.kind), e.commitment_id, e.label, e.subject))
    return Detection(events=tuple(events), open_breaches=tuple(still_open))


def _reminder_due(
    since: datetime, previous: datetime | None, as_of: datetime, rules: Rules
) -> bool:
    """True when a multiple of ``reminder_days`` since the breach began is in (previous, as_of]."""
    if rules.reminder_days <= 0 or previous is None:
        return False
    step = rules.reminder_days * 86400
    now = math.floor((as_of - since).total_seconds() / step)
    before = math.floor((previous - since).total_seconds() / step)
    return now > before and now >= 1


def _waivers(ev: Evaluation, prior: Prior, rules: Rules) -> list[Event]:
    out = []
    tz = ev.contract.timezone
    for state in ev.waivers:
        if state.status != "in_force":
            continue
        w = state.waiver
        warn_from = w.end(tz) - timedelta(days=rules.waiver_warning_days)
        if not (ev.as_of >= warn_from and (prior.as_of is None or prior.as_of < warn_from)):
            continue
        try:
            c = ev.contract.commitment(w.commitment)
        except KeyError:
            continue
        subjects = ", ".join(w.subjects)
        out.append(
            Event(
                kind=EventKind.WAIVER_EXPIRING,
                key=alert_key(ev.contract.id, w.commitment, "waiver:" + "|".join(w.subjects)),
                commitment_id=w.commitment,
                clause=c.clause,
                title=c.title,
                subject=subjects,
                label=subjects,
                status="waived",
                reason=f"Waiver {w.reference or ''} approved by {w.approver} expires "
                f"{w.expires.isoformat()}: {w.reason}".replace("Waiver  ", "Waiver "),
                reason_id="alert.waiver_expiring",
                reason_params={"reference": w.reference or "", "approver": w.approver,
                               "expires": w.expires.isoformat(), "reason": w.reason},
                expires=w.expires.isoformat(),
            )
        )
    return out

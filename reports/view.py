"""What the human-readable reports show, gathered once from an evaluation.

The HTML and Markdown writers (and later the period report) render this view; none of them
re-computes a verdict. Only presentation is decided here: which subjects are offenders (every
subject not compliant, whatever the commitment's verdict: a commitment that meets its 95 % target
still has accounts to fix), which waivers are about to expire, which clauses a collection error
leaves without evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from clausewatch.checks.engine import bears_on
from clausewatch.checks.registry import CHECKS, Registry
from clausewatch.core.contract import Commitment, Contract
from clausewatch.core.errortext import error_summary
from clausewatch.core.evaluation import Evaluation, Outcome
from clausewatch.core.evidence import CollectionError
from clausewatch.core.result import SEVERITY_ORDER, Result, Status, counted, is_offender
from clausewatch.core.run import RunInfo
from clausewatch.history.intervals import VERDICT
from clausewatch.history.standing import Cost, Standing

#: Offenders listed per clause in a report; the rest are counted (all are in results.csv).
MAX_OFFENDERS = 50
#: Offenders shown unfolded per clause in the HTML report; the rest fold away on screen only.
OPEN_OFFENDERS = 10
#: A waiver in force that ends within this many days is flagged as expiring.
EXPIRING_DAYS = 30
#: Order of statuses in tables and stacked bars: good first.
STATUS_ORDER = (
    Status.COMPLIANT,
    Status.AT_RISK,
    Status.WAIVED,
    Status.NO_EVIDENCE,
    Status.BREACHED,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseRow:
    """One commitment as a report line, with its offenders (worst first)."""

    outcome: Outcome
    offenders: tuple[Result, ...]
    hidden: int  # offenders not listed (over MAX_OFFENDERS)
    errors: int = 0  # collection errors bearing on the commitment
    since: Mapping[str, datetime] = field(default_factory=dict)  # breached subject -> start
    cost: Cost | None = None  # exposure so far this penalty period (None: no penalty or history)

    @property
    def penalty(self) -> bool:
        """Whether the commitment has a penalty clause."""
        return self.outcome.commitment.penalty is not None

    @property
    def verdict_since(self) -> datetime | None:
        """When the commitment's own verdict started being breached."""
        return self.since.get(VERDICT)

    def breached_since(self, r: Result) -> datetime | None:
        return self.since.get(r.subject) if r.status == Status.BREACHED else None

    @property
    def id(self) -> str:
        return self.outcome.commitment.id

    @property
    def clause(self) -> str:
        return self.outcome.commitment.clause

    @property
    def title(self) -> str:
        return self.outcome.commitment.title

    @property
    def responsible(self) -> str:
        return str(self.outcome.commitment.responsible)

    @property
    def status(self) -> str:
        return str(self.outcome.verdict.status)

    @property
    def measured(self) -> float | None:
        return self.outcome.verdict.measured

    @property
    def target(self) -> float:
        return self.outcome.verdict.target

    @property
    def counts(self) -> dict[str, int]:
        return {str(s): self.outcome.verdict.counts.get(str(s), 0) for s in STATUS_ORDER}

    @property
    def counted(self) -> int:
        """Subjects that count towards the measured share (waived ones leave the count)."""
        return counted(self.counts)

    @property
    def due(self) -> datetime | None:
        return self.outcome.verdict.due

    @property
    def reason(self) -> str:
        return self.outcome.verdict.reason

    @property
    def attested(self) -> tuple[Result, ...]:
        """Subjects whose result rests on an attestation (a person's report, not a tool)."""
        return tuple(r for r in self.outcome.results if r.measured.get("attested") is True)


@dataclass(frozen=True, slots=True, kw_only=True)
class WaiverRow:
    """A declared waiver and where it stands at ``as_of``."""

    commitment: str
    clause: str
    subjects: tuple[str, ...]
    reason: str
    approver: str
    expires: date
    granted: date | None
    reference: str
    state: str  # in_force, expiring, expired, not_yet
    days_left: int | None
    applied_to: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRow:
    """A collection error and the clauses it leaves without evidence."""

    error: CollectionError
    affects: tuple[str, ...]  # clause references

    @property
    def summary(self) -> str:
        """The error in one line (status, code, what it says); the whole message and body
        stay in the evidence."""
        return error_summary(self.error)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportView:
    """Everything a human-readable report of one run shows."""

    contract: Contract
    as_of: datetime
    info: RunInfo
    status: str
    partial: bool
    evidence_count: int
    clauses: tuple[ClauseRow, ...]
    waivers: tuple[WaiverRow, ...]
    errors: tuple[ErrorRow, ...]
    lang: str = "en"
    history: bool = False  # breach starts and exposure come from a run history
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return self.contract.timezone

    def status_totals(self) -> dict[str, int]:
        """How many clauses stand in each status."""
        totals = {str(s): 0 for s in STATUS_ORDER}
        for row in self.clauses:
            totals[row.status] += 1
        return totals


def build_view(
    ev: Evaluation,
    info: RunInfo,
    lang: str = "en",
    registry: Registry = CHECKS,
    max_offenders: int = MAX_OFFENDERS,
    standing: Standing | None = None,
) -> ReportView:
    """Gather the report's content from an evaluation (and its standing in the history)."""
    standing = standing or Standing()
    clauses = []
    for o in ev.outcomes:
        cid = o.commitment.id
        offenders = sorted(
            (r for r in o.results if is_offender(r.status)),
            key=lambda r: SEVERITY_ORDER[r.status],  # stable: keeps the engine's due-date order
        )
        clauses.append(
            ClauseRow(
                outcome=o,
                offenders=tuple(offenders[:max_offenders]),
                hidden=max(0, len(offenders) - max_offenders),
                errors=sum(_bears_on(e, o.commitment, registry) for e in ev.errors),
                since={s: when for (c, s), when in standing.since.items() if c == cid},
                cost=standing.costs.get(cid),
            )
        )
    return ReportView(
        contract=ev.contract,
        as_of=ev.as_of,
        info=info,
        status=str(ev.status),
        partial=ev.partial,
        evidence_count=ev.evidence_count,
        clauses=tuple(clauses),
        waivers=tuple(_waiver_rows(ev)),
        errors=tuple(_error_rows(ev, registry)),
        lang=lang,
        history=standing.known,
    )


def _waiver_rows(ev: Evaluation) -> list[WaiverRow]:
    tz = ev.contract.timezone
    today = ev.as_of.astimezone(tz).date()
    labels = {r.subject: (r.label or r.subject) for o in ev.outcomes for r in o.results}
    rows = []
    for w in ev.waivers:
        state, days_left = w.status, None
        if w.status == "in_force":
            days_left = (w.waiver.expires - today).days
            if days_left <= EXPIRING_DAYS:
                state = "expiring"
        try:
            clause = ev.contract.commitment(w.waiver.commitment).clause
        except KeyError:
            clause = w.waiver.commitment
        rows.append(
            WaiverRow(
                commitment=w.waiver.commitment,
                clause=clause,
                subjects=w.waiver.subjects,
                reason=w.waiver.reason,
                approver=w.waiver.approver,
                expires=w.waiver.expires,
                granted=w.waiver.granted,
                reference=w.waiver.reference,
                state=state,
                days_left=days_left,
                applied_to=tuple(labels.get(s, s) for s in w.applied_to),
            )
        )
    order = {"expired": 0, "expiring": 1, "in_force": 2, "not_yet": 3}
    rows.sort(key=lambda r: (order[r.state], r.expires, r.commitment))
    return rows


def _bears_on(e: CollectionError, c: Commitment, registry: Registry) -> bool:
    """Whether a collection error concerns what the commitment's check reads (as the engine)."""
    kinds = registry[c.check].evidence_kinds if c.check in registry else frozenset()
    return bears_on(e, c, kinds)


def _error_rows(ev: Evaluation, registry: Registry) -> list[ErrorRow]:
    return [
        ErrorRow(
            error=e,
            affects=tuple(
                o.commitment.clause for o in ev.outcomes if _bears_on(e, o.commitment, registry)
            ),
        )
        for e in ev.errors
    ]


def waiver_in_force(rows: Sequence[WaiverRow]) -> list[WaiverRow]:
    return [r for r in rows if r.state in ("in_force", "expiring")]

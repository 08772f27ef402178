"""SLA attainment of each commitment over a period of the contract, from the run history.

Definitions (the steering committee reads these; tests compute them by hand):

* **Nightly runs**: the last run of each calendar day (contract time zone) in the period.
* **Nights in compliance**: nights whose verdict was compliant, at risk or waived (exit code 0
  territory); ``no_evidence`` nights are never in compliance.
* **Subject-days in compliance**: over those nights, subjects compliant or at risk, out of every
  subject counted (waived subjects leave the count, as in the verdict; ``no_evidence`` stays in).
* **Breaches** of the commitment: intervals of its own verdict (subject ``""``) breached at
  some point and overlapping the period; their duration is clipped to the period and, for one
  still open, to the latest run.
* **Findings**: the same for single subjects. **Time to cure** runs from when a finding became
  late (its deadline when the check gives one, else the first run that saw it breached) to the
  run that saw it compliant; mean and 90th percentile (nearest rank) over findings cured in the
  period. Findings **cured inside the deadline** were at risk and compliant again without breaching.
* **Penalty exposure** (commitments declaring ``penalty``): ``per_breach`` for each breach of the
  commitment that began (first breached night) plus ``per_day_late`` for each nightly run whose
  verdict was breached, accumulated in day order and capped per penalty period (month or
  quarter, which may be longer than the report's period: the cap then counts what earlier
  months of that quarter already used). Exposure counts only what evidence shows: a night
  without evidence is **not measured**, never free. It is counted apart
  (``nights_no_evidence``) and reported as a risk next to the amount, which may then be higher
  than shown.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from clausewatch.checks import CHECKS
from clausewatch.core.contract import Commitment, Contract, Penalty
from clausewatch.core.result import Status, counted
from clausewatch.history.intervals import VERDICT, Interval
from clausewatch.history.periods import Period, local_day, period_of
from clausewatch.history.store import HistoryError, HistoryStore, StoredRun
from clausewatch.policies.load import load_contract

IN_COMPLIANCE = frozenset({Status.COMPLIANT, Status.AT_RISK, Status.WAIVED})
DAY = 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Night:
    """One nightly run as seen by one commitment."""

    day: date
    as_of: datetime
    status: Status | None  # None: the commitment was not in that run's contract
    counts: dict[Status, int]

    @property
    def share(self) -> float | None:
        n = counted(self.counts)
        ok = self.counts.get(Status.COMPLIANT, 0) + self.counts.get(Status.AT_RISK, 0)
        return ok / n if n else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    currency: str
    amount: float  # after the cap
    uncapped: float
    breaches_charged: int
    days_charged: int
    cap: float | None
    cap_period: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitmentAttainment:
    commitment: Commitment
    nights: tuple[Night, ...]
    nights_in_compliance: int
    nights_breached: int
    nights_no_evidence: int
    subject_days: int
    subject_days_compliant: int
    subject_days_breached: int
    subject_days_no_evidence: int
    breaches: int
    breaches_started: int
    breach_days: float
    findings: int
    findings_cured: int
    cured_within_deadline: int
    cure_days: tuple[float, ...]
    exposure: Exposure | None

    @property
    def night_share(self) -> float | None:
        counted = sum(1 for n in self.nights if n.status is not None)
        return self.nights_in_compliance / counted if counted else None

    @property
    def subject_share(self) -> float | None:
        return self.subject_days_compliant / self.subject_days if self.subject_days else None

    @property
    def cure_mean(self) -> float | None:
        return sum(self.cure_days) / len(self.cure_days) if self.cure_days else None

    @property
    def cure_p90(self) -> float | None:
        return percentile(self.cure_days, 0.9)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodAttainment:
    contract: Contract
    period: Period
    start: datetime
    end: datetime
    runs: int  # every run in the period, several a day included
    nights: tuple[date, ...]
    commitments: tuple[CommitmentAttainment, ...]
    latest: datetime | None  # the store's latest run of the contract

    @property
    def exposure_total(self) -> dict[str, float]:
        return exposure_by_currency(c.exposure for c in self.commitments)


def exposure_by_currency(exposures: Iterable[Exposure | None]) -> dict[str, float]:
    """The amounts of ``exposures`` summed per currency (``None``: no penalty clause)."""
    out: dict[str, float] = {}
    for e in exposures:
        if e is not None:
            out[e.currency] = out.get(e.currency, 0.0) + e.amount
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``q`` of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def nightly(runs: Sequence[StoredRun], tz: ZoneInfo) -> list[StoredRun]:
    """The last run of each local day, oldest first."""
    by_day: dict[date, StoredRun] = {}
    for run in sorted(runs, key=lambda r: (r.as_of, r.seq)):
        by_day[local_day(run.as_of, tz)] = run
    return [by_day[d] for d in sorted(by_day)]


def attainment(store: HistoryStore, contract: Contract, period: Period) -> PeriodAttainment:
    """Attainment of every commitment of ``contract`` over ``period`` from ``store``."""
    tz = contract.timezone
    start, end = period.bounds(tz)
    # penalty caps may run over a longer period than the report's: read that much history
    span_start, span_end = start, end
    for c in contract.commitments:
        if c.penalty is not None:
            cap_period = period_of(period.first_day(), c.penalty.period, tz)
            s, e = cap_period.bounds(tz)
            span_start, span_end = min(span_start, s), max(span_end, e)
    every = store.runs(contract.id, span_start, span_end)
    all_runs = store.runs(contract.id)
    latest = all_runs[-1].as_of if all_runs else None
    nights_all = nightly(every, tz)
    seqs = [r.seq for r in nights_all]
    verdicts = store.verdicts(seqs)
    counts = store.result_counts(seqs)
    intervals = store.intervals(contract.id, start=span_start, end=span_end)
    in_period = [r for r in nights_all if start <= r.as_of < end]
    out = []
    for c in contract.commitments:
        nights = tuple(
            Night(
                day=local_day(r.as_of, tz),
                as_of=r.as_of,
                status=verdicts[r.seq].get(c.id),
                counts=counts[r.seq].get(c.id, {}),
            )
            for r in in_period
        )
        mine = [i for i in intervals if i.commitment_id == c.id]
        out.append(
            _commitment(c, nights, mine, start, end, latest, nights_all, verdicts, tz)
        )
    return PeriodAttainment(
        contract=contract,
        period=period,
        start=start,
        end=end,
        runs=sum(1 for r in every if start <= r.as_of < end),
        nights=tuple(local_day(r.as_of, tz) for r in in_period),
        commitments=tuple(out),
        latest=latest,
    )


def _commitment(
    c: Commitment,
    nights: tuple[Night, ...],
    intervals: list[Interval],
    start: datetime,
    end: datetime,
    latest: datetime | None,
    nights_all: list[StoredRun],
    verdicts: dict[int, dict[str, Status]],
    tz: ZoneInfo,
) -> CommitmentAttainment:
    sd: dict[Status, int] = {}
    for n in nights:
        for s, k in n.counts.items():
            sd[s] = sd.get(s, 0) + k
    verdict_breaches = [
        i for i in intervals if i.subject == VERDICT and i.breached_at is not None
        and _overlaps(i, i.breached_at, start, end)
    ]
    findings = [
        i for i in intervals if i.subject != VERDICT and i.breached_at is not None
        and _overlaps(i, late_from(i), start, end)
    ]
    cured = [
        i for i in intervals
        if i.subject != VERDICT and i.end_reason == "cured" and i.closed_at is not None
        and start <= i.closed_at < end
    ]
    cure_days = tuple(
        (i.closed_at - late_from(i)).total_seconds() / DAY
        for i in cured if i.breached_at is not None and i.closed_at is not None
    )
    breach_starts = [(i, i.breached_at) for i in verdict_breaches if i.breached_at is not None]
    breach_days = sum(
        _clipped(began, i.closed_at or latest, start, end) for i, began in breach_starts
    )
    return CommitmentAttainment(
        commitment=c,
        nights=nights,
        nights_in_compliance=sum(1 for n in nights if n.status in IN_COMPLIANCE),
        nights_breached=sum(1 for n in nights if n.status is Status.BREACHED),
        nights_no_evidence=sum(1 for n in nights if n.status is Status.NO_EVIDENCE),
        subject_days=counted(sd),
        subject_days_compliant=sd.get(Status.COMPLIANT, 0) + sd.get(Status.AT_RISK, 0),
        subject_days_breached=sd.get(Status.BREACHED, 0),
        subject_days_no_evidence=sd.get(Status.NO_EVIDENCE, 0),
        breaches=len(verdict_breaches),
        breaches_started=sum(1 for _, began in breach_starts if start <= began < end),
        breach_days=breach_days,
        findings=len(findings),
        findings_cured=len(cure_days),
        cured_within_deadline=sum(1 for i in cured if i.breached_at is None),
        cure_days=cure_days,
        exposure=_exposure(c.penalty, c.id, intervals, nights_all, verdicts, start, end, tz)
        if c.penalty is not None
        else None,
    )


def late_from(i: Interval) -> datetime:
    """When a finding became late: its deadline if known and earlier, else its first breach."""
    assert i.breached_at is not None
    if i.due is not None and i.due < i.breached_at:
        return i.due
    return i.breached_at


def _overlaps(i: Interval, begin: datetime, start: datetime, end: datetime) -> bool:
    return begin < end and (i.closed_at is None or i.closed_at > start)


def _clipped(begin: datetime, finish: datetime | None, start: datetime, end: datetime) -> float:
    finish = end if finish is None else min(finish, end)
    begin = max(begin, start)
    return max(0.0, (finish - begin).total_seconds() / DAY)


def _exposure(
    penalty: Penalty,
    commitment_id: str,
    intervals: list[Interval],
    nights_all: list[StoredRun],
    verdicts: dict[int, dict[str, Status]],
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
) -> Exposure:
    """Charges in day order, capped per penalty period; the sum of those falling in the report."""
    charges: list[tuple[datetime, int, float]] = []  # (when, kind 0 breach / 1 day, amount)
    for i in intervals:
        if i.subject == VERDICT and i.breached_at is not None:
            charges.append((i.breached_at, 0, penalty.per_breach))
    for r in nights_all:
        if verdicts[r.seq].get(commitment_id) is Status.BREACHED:
            charges.append((r.as_of, 1, penalty.per_day_late))
    used: dict[Period, float] = {}
    amount = uncapped = 0.0
    breaches = days = 0
    for when, kind, value in sorted(charges):
        cap_period = period_of(when, penalty.period, tz)
        before = used.get(cap_period, 0.0)
        room = math.inf if penalty.cap_per_period is None else penalty.cap_per_period - before
        charged = max(0.0, min(value, room))
        used[cap_period] = before + charged
        if start <= when < end:
            amount += charged
            uncapped += value
            breaches += kind == 0
            days += kind == 1
    return Exposure(
        currency=penalty.currency,
        amount=amount,
        uncapped=uncapped,
        breaches_charged=breaches,
        days_charged=days,
        cap=penalty.cap_per_period,
        cap_period=penalty.period,
    )


def attainment_trend(
    store: HistoryStore, contract: Contract, period: Period, count: int = 6
) -> list[PeriodAttainment]:
    """Attainment of ``count`` periods ending with ``period``, oldest first."""
    periods = [period]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    return [attainment(store, contract, p) for p in periods]


def stored_contract(store: HistoryStore, contract_id: str | None = None) -> Contract:
    """The contract of the latest run (of ``contract_id``), reloaded from the stored text."""
    ids = store.contract_ids()
    if contract_id is None:
        if len(ids) != 1:
            raise HistoryError(
                "the history holds " + (f"contracts {', '.join(sorted(ids))}: name one with "
                "--contract" if ids else "no run yet")
            )
        contract_id = ids[0]
    runs = store.runs(contract_id)
    if not runs:
        raise HistoryError(f"no run of contract {contract_id!r} in {store.path}")
    name, text = store.contract_text(runs[-1].contract_digest)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contract.yaml"
        path.write_text(text, encoding="utf-8")
        return load_contract(path, CHECKS, name=name)

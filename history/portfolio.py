"""The portfolio roll-up: every contract of a store x every clause, over one period. No I/O
beyond the store's own queries; rendering is ``reports/portfolio.py``.

Per (contract, commitment) it gives what an MSP's steering committee asks first:

* **now**: the verdict of the contract's latest run (``None`` when the clause was not in it);
* **attainment**: the share of nights in compliance over the period (``history.attainment``),
  with the number of nights **not measured** (no evidence) shown beside it, never as free;
* **breaches open**: intervals still open and breached, with the age of the oldest (days from
  its first breached run to the latest run);
* **penalty exposure** so far in the period and the cap (``None``: no penalty clause);
* **trend**: the night share of the previous periods, oldest first.

Filters (provider, customer, responsible party) are exact, case-insensitive matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from clausewatch.core.contract import Contract
from clausewatch.core.result import Status
from clausewatch.history.attainment import (
    CommitmentAttainment,
    Exposure,
    attainment,
    exposure_by_currency,
    stored_contract,
)
from clausewatch.history.intervals import VERDICT
from clausewatch.history.periods import Period
from clausewatch.history.store import HistoryStore

DAY = 86400.0
TREND_PERIODS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """Which rows to keep (``None``: any)."""

    provider: str | None = None
    customer: str | None = None
    responsible: str | None = None

    def keeps_contract(self, contract: Contract) -> bool:
        return _same(self.provider, contract.provider) and _same(self.customer, contract.customer)

    def keeps_party(self, party: str) -> bool:
        return _same(self.responsible, party)


def _same(wanted: str | None, value: str) -> bool:
    return wanted is None or wanted.casefold() == value.casefold()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseRow:
    """One contract x commitment of the portfolio."""

    contract_id: str
    provider: str
    customer: str
    commitment_id: str
    clause: str
    title: str
    responsible: str
    target: float
    status_now: Status | None
    night_share: float | None
    nights: int
    nights_not_measured: int
    breaches_open: int
    oldest_open_breach_days: float | None
    exposure: Exposure | None
    trend: tuple[float | None, ...]  # night share of the previous periods, oldest first


@dataclass(frozen=True, slots=True, kw_only=True)
class Portfolio:
    period: Period
    generated_at: datetime
    contracts: int
    rows: tuple[ClauseRow, ...]

    @property
    def exposure_total(self) -> dict[str, float]:
        return exposure_by_currency(r.exposure for r in self.rows)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.rows if r.status_now is status)


def portfolio(
    store: HistoryStore,
    period: Period,
    now: datetime,
    filters: Filters = Filters(),
    trend_periods: int = TREND_PERIODS,
) -> Portfolio:
    """The roll-up of every contract in ``store`` kept by ``filters``, sorted by contract id."""
    rows: list[ClauseRow] = []
    contracts = 0
    for contract_id in sorted(store.contract_ids()):
        contract = stored_contract(store, contract_id)
        if not filters.keeps_contract(contract):
            continue
        contracts += 1
        rows.extend(_contract_rows(store, contract, period, filters, trend_periods))
    return Portfolio(period=period, generated_at=now, contracts=contracts, rows=tuple(rows))


def _contract_rows(
    store: HistoryStore,
    contract: Contract,
    period: Period,
    filters: Filters,
    trend_periods: int,
) -> list[ClauseRow]:
    att = attainment(store, contract, period)
    earlier: list[Period] = []
    p = period
    for _ in range(trend_periods):
        p = p.previous()
        earlier.insert(0, p)
    trends = [attainment(store, contract, q) for q in earlier]
    runs = store.runs(contract.id)
    latest = runs[-1] if runs else None
    now_status = store.verdicts([latest.seq])[latest.seq] if latest else {}
    open_breaches: dict[str, list[datetime]] = {}
    for i in store.open_intervals(contract.id):
        if i.subject != VERDICT and i.breached_at is not None:
            open_breaches.setdefault(i.commitment_id, []).append(i.breached_at)
    rows = []
    for index, ca in enumerate(att.commitments):
        c = ca.commitment
        if not filters.keeps_party(c.responsible):
            continue
        starts = open_breaches.get(c.id, [])
        oldest = (
            (latest.as_of - min(starts)).total_seconds() / DAY if starts and latest else None
        )
        rows.append(
            ClauseRow(
                contract_id=contract.id,
                provider=contract.provider,
                customer=contract.customer,
                commitment_id=c.id,
                clause=c.clause,
                title=c.title,
                responsible=c.responsible,
                target=c.target,
                status_now=now_status.get(c.id),
                night_share=ca.night_share,
                nights=len(ca.nights),
                nights_not_measured=_not_measured(ca),
                breaches_open=len(starts),
                oldest_open_breach_days=None if oldest is None else max(0.0, oldest),
                exposure=ca.exposure,
                trend=tuple(_share_of(t.commitments, index, c.id) for t in trends),
            )
        )
    return rows


def _not_measured(ca: CommitmentAttainment) -> int:
    return sum(1 for n in ca.nights if n.status is Status.NO_EVIDENCE)


def _share_of(
    commitments: Sequence[CommitmentAttainment], index: int, commitment_id: str
) -> float | None:
    if index < len(commitments) and commitments[index].commitment.id == commitment_id:
        return commitments[index].night_share
    for ca in commitments:
        if ca.commitment.id == commitment_id:
            return ca.night_share
    return None

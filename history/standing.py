"""Since when, and at what cost: where a run stands against its history, before it is recorded.

The run report and the alerts are written before the run enters the history, so this module
moves the history's open intervals on by this run (``intervals.advance``, the same step
``HistoryStore.record`` takes) and reads:

* **since**: for every subject (and commitment verdict) breached in this run, the start of its
  breach interval (``breached_at``: the first run that saw it breached; this run for a new one);
* **costs**: for every commitment with a penalty, the exposure so far in the current penalty
  period (month or quarter) with this run counted (``attainment._exposure``, same rules and
  cap), and how many nights of that period had no evidence: those are not measured, so the
  exposure may be higher than shown, never lower.

Without a history (no store, or a first run) ``known`` is False and every breach starts now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from clausewatch.core.evaluation import Evaluation
from clausewatch.core.i18n import Catalogue
from clausewatch.core.result import Status
from clausewatch.history.attainment import Exposure, _exposure, nightly
from clausewatch.history.intervals import (
    VERDICT,
    Interval,
    Key,
    advance,
    observations,
    uncertain_commitments,
)
from clausewatch.history.periods import Period, period_of
from clausewatch.history.postgres import is_url
from clausewatch.history.store import HistoryStore, Location, Prior, StoredRun, read_history

TONIGHT = 2**62  # the sequence number this run takes among the stored ones (always the last)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cost:
    """A penalty commitment's exposure so far in its current penalty period."""

    exposure: Exposure
    period: Period
    nights: int  # nightly runs of the period so far, this one included
    unmeasured: int  # of which without evidence: not counted, never free


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    known: bool = False  # a history was read
    since: Mapping[Key, datetime] = field(default_factory=dict)
    costs: Mapping[str, Cost] = field(default_factory=dict)

    def breached_since(self, commitment_id: str, subject: str = VERDICT) -> datetime | None:
        return self.since.get((commitment_id, subject))


def read_standing(path: Location | None, ev: Evaluation) -> Standing:
    """The standing of ``ev`` against the history at ``path`` (read-only; none: no history)."""
    if path is None or (not is_url(path) and not Path(path).is_file()):
        return standing(None, ev)
    with read_history(path) as store:
        return standing(store, ev)


def standing(store: HistoryStore | None, ev: Evaluation) -> Standing:
    """Breach starts and penalty exposure of ``ev`` given what ``store`` knew before it."""
    contract = ev.contract
    prior = store.prior(contract.id) if store is not None else Prior()
    step = advance(prior.open, observations(ev), ev.as_of, uncertain_commitments(ev))
    current = {i.key: i for i in (*step.opened, *step.updated)}
    since = {
        key: i.breached_at
        for key, i in current.items()
        if i.breached_at is not None and i.last_status is Status.BREACHED
    }
    costs = {}
    tz = contract.timezone
    tonight = StoredRun(seq=TONIGHT, run_id="", as_of=ev.as_of, status=str(ev.status),
                        exit_code=0, partial=ev.partial, contract_digest=contract.digest)
    statuses = {o.commitment.id: Status(o.verdict.status) for o in ev.outcomes}
    for c in contract.commitments:
        if c.penalty is None:
            continue
        period = period_of(ev.as_of, c.penalty.period, tz)
        start, end = period.bounds(tz)
        stored: list[StoredRun] = []
        verdicts: dict[int, dict[str, Status]] = {TONIGHT: statuses}
        intervals: list[Interval] = []
        if store is not None:
            stored = store.runs(contract.id, start, end)
            verdicts.update(store.verdicts([r.seq for r in stored]))
            moved = {i.id for i in current.values() if i.id is not None}
            intervals = [
                i for i in store.intervals(contract.id, start=start, end=end)
                if i.commitment_id == c.id and i.id not in moved
            ]
        intervals += [i for k, i in current.items() if k[0] == c.id]
        nights = [r for r in nightly([*stored, tonight], tz) if start <= r.as_of < end]
        costs[c.id] = Cost(
            exposure=_exposure(c.penalty, c.id, intervals, nights, verdicts, start, end, tz),
            period=period,
            nights=len(nights),
            unmeasured=sum(
                1 for r in nights if verdicts.get(r.seq, {}).get(c.id) is Status.NO_EVIDENCE
            ),
        )
    return Standing(known=store is not None and prior.as_of is not None, since=since,
                    costs=costs)


def describe(t: Catalogue, cost: Cost) -> str:
    """``€2,200 so far in November 2026 · cap €5,000 per month`` (and the nights not measured)."""
    e = cost.exposure
    period = t.period(cost.period.kind, cost.period.year, cost.period.index)
    text = t.t("cost_so_far", amount=t.money(e.amount, e.currency), period=period)
    cap = (t.t("cost_cap", cap=t.money(e.cap, e.currency), cap_period=t.t(
        f"cap_period_{e.cap_period}")) if e.cap is not None else t.t("cost_no_cap"))
    text = f"{text} · {cap}"
    if cost.unmeasured:
        text += " · " + t.count("period_cost_unmeasured", cost.unmeasured)
    return text

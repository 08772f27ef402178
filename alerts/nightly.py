"""The history-and-alerts step of a run, as the CLI calls it from ``publish``.

Order, and why: the store is locked, the previous state read, the events detected and delivered,
then the run recorded in one transaction with the delivery report. A run killed after delivering
but before committing sends its alerts again next night (at least once, never silently lost);
a run killed before committing leaves the history as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from clausewatch.alerts.config import AlertConfig
from clausewatch.alerts.deliver import outbox_config
from clausewatch.alerts.notify import AlertOutcome, notify
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.run import RunInfo
from clausewatch.history.attainment import attainment_trend
from clausewatch.history.backfill import NIGHTS, backfill_demo
from clausewatch.history.periods import period_of
from clausewatch.history.store import DEFAULT_PATH, open_history
from clausewatch.reports import period as period_report
from clausewatch.reports.output import write_text_atomic

HISTORY_FILE = "history.sqlite"
OUTBOX_FILE = "outbox.jsonl"
ALERTS_FILE = "alerts.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class Nightly:
    """Where this run's history and alerts go (``None``: not recorded, not alerted)."""

    history: Path | None = None
    alerts: AlertConfig | None = None
    contract_text: str = ""

    @classmethod
    def from_args(cls, history: Path | None, alerts: AlertConfig | None, text: str) -> Nightly:
        if alerts is not None and history is None:
            history = DEFAULT_PATH  # transitions need a memory
        return cls(history=history, alerts=alerts, contract_text=text)

    def publish(self, stage: Path | None, ev: Evaluation, info: RunInfo) -> AlertOutcome | None:
        """Record the run and send its alerts; write ``alerts.json`` into ``stage`` if given."""
        if self.history is None:
            return None
        with open_history(self.history) as store:
            prior = store.prior(ev.contract.id)
            outcome = notify(prior, ev, info, self.alerts)
            store.record(ev, info, contract_text=self.contract_text,
                         deliveries=outcome.deliveries)
        if stage is not None:
            write_text_atomic(stage / ALERTS_FILE, outcome.dumps())
        return outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoHistory:
    nights: int
    seconds: float
    report: Path | None


def demo_publish(
    stage: Path,
    ev: Evaluation,
    info: RunInfo,
    text: str,
    nights: int = NIGHTS,
    lang: str | None = None,
) -> DemoHistory:
    """The demo's history: back-fill ``nights``, record tonight, alerts to an outbox, a report.

    Everything lands in ``stage``: ``history.sqlite``, ``outbox.jsonl`` (every message the
    alerts would have sent, night by night), ``alerts.json`` (tonight's) and the report of the
    last complete period before tonight (in ``lang``, default the contract's language).
    """
    started = time.perf_counter()
    config = outbox_config(stage / OUTBOX_FILE)
    with open_history(stage / HISTORY_FILE, durable=False) as store:
        backfill_demo(
            store,
            ev.contract,
            text,
            ev.as_of,
            nights,
            on_night=lambda prior, night, night_info: notify(
                prior, night, night_info, config
            ).deliveries,
        )
        outcome = notify(store.prior(ev.contract.id), ev, info, config)
        store.record(ev, info, contract_text=text, deliveries=outcome.deliveries)
        (stage / ALERTS_FILE).write_text(outcome.dumps(), encoding="utf-8")
        contract = ev.contract
        current = period_of(ev.as_of, contract.period, contract.timezone)
        trend = attainment_trend(store, contract, current.previous())
        written = period_report.write(stage, trend[-1], trend, info.finished_at or ev.as_of,
                                      lang=lang)
    return DemoHistory(nights=nights, seconds=time.perf_counter() - started,
                       report=written.html)


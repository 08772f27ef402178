"""The demo's history: 90 back-filled nights, tonight's run, an outbox of alerts, a report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from clausewatch.alerts.deliver import outbox_config
from clausewatch.alerts.notify import notify
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.run import RunInfo
from clausewatch.demo.backfill import NIGHTS, backfill_demo
from clausewatch.demo.estate import Estate
from clausewatch.history.attainment import attainment_trend
from clausewatch.history.periods import period_of
from clausewatch.history.standing import standing
from clausewatch.history.store import open_history
from clausewatch.pipeline.nightly import ALERTS_FILE, HISTORY_FILE, OUTBOX_FILE
from clausewatch.reports import period as period_report

T = TypeVar("T")


def _ticked(tick: Callable[[], None] | None, value: T) -> T:
    if tick is not None:
        tick()
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoHistory:
    nights: int
    seconds: float
    report: Path | None


def demo_backfill(stage: Path, ev: Evaluation, text: str, nights: int = NIGHTS,
                  tick: Callable[[], None] | None = None, tonight: Estate | None = None) -> Path:
    """Back-fill ``nights`` before tonight into ``stage/history.sqlite`` (alerts to the outbox);
    returns the store's path, for tonight's reports to read breach starts and exposure from.
    ``tick`` is called once per back-filled night (progress); ``tonight``: tonight's estate,
    if built (the nights are shifted from it instead of building another)."""
    config = outbox_config(stage / OUTBOX_FILE)
    with open_history(stage / HISTORY_FILE, durable=False) as store:
        backfill_demo(
            store,
            ev.contract,
            text,
            ev.as_of,
            nights,
            on_night=lambda prior, night, night_info: _ticked(
                tick, notify(prior, night, night_info, config).deliveries
            ),
            tonight=tonight,
        )
    return stage / HISTORY_FILE


def demo_publish(
    stage: Path,
    ev: Evaluation,
    info: RunInfo,
    text: str,
    nights: int = NIGHTS,
    lang: str | None = None,
    backfilled: bool = False,
    tick: Callable[[], None] | None = None,
) -> DemoHistory:
    """The demo's history: back-fill ``nights``, record tonight, alerts to an outbox, a report.

    Everything lands in ``stage``: ``history.sqlite``, ``outbox.jsonl`` (every message the
    alerts would have sent, night by night), ``alerts.json`` (tonight's) and the report of the
    last complete period before tonight (in ``lang``, default the contract's language).
    ``backfilled``: ``demo_backfill`` already ran (before the run's reports were written);
    ``tick`` is called once per back-filled night (progress).
    """
    started = time.perf_counter()
    config = outbox_config(stage / OUTBOX_FILE)
    if not backfilled:
        demo_backfill(stage, ev, text, nights, tick)
    with open_history(stage / HISTORY_FILE, durable=False) as store:
        outcome = notify(store.prior(ev.contract.id), ev, info, config,
                         standing=standing(store, ev))
        store.record(ev, info, contract_text=text, deliveries=outcome.deliveries)
        (stage / ALERTS_FILE).write_text(outcome.dumps(), encoding="utf-8")
        contract = ev.contract
        current = period_of(ev.as_of, contract.period, contract.timezone)
        trend = attainment_trend(store, contract, current.previous())
        written = period_report.write(stage, trend[-1], trend, info.finished_at or ev.as_of,
                                      lang=lang)
    return DemoHistory(nights=nights, seconds=time.perf_counter() - started,
                       report=written.html)


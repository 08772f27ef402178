"""The demo as a run of the one pipeline: the bundled French contract, the synthetic estate as
its evidence, and its own history (90 back-filled nights, an outbox, last period's report)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Protocol

from clausewatch.checks import CHECKS
from clausewatch.core.clock import utc_now
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.run import RunInfo
from clausewatch.demo.backfill import NIGHTS
from clausewatch.demo.contract import demo_contract_text
from clausewatch.demo.estate import Estate, build_estate
from clausewatch.demo.history import demo_backfill, demo_publish
from clausewatch.pipeline.run import Gathered, Run
from clausewatch.policies.load import load_contract
from clausewatch.reports.pack_options import PackOptions

log = logging.getLogger("clausewatch")


class Stage(Protocol):
    """Told of each stage of the demo (``reports.progress.StageProgress`` is one)."""

    def __call__(self, key: str, total: int | None = None, **values: object) -> None:
        """Start the stage whose words are the message ``key`` of ``core/messages.py``."""

    def advance(self, steps: int = 1) -> None: ...

DEMO_INPUTS = {
    "policy": "contract.yaml",
    "evidence": "evidence.jsonl",
    "sources": [{"source": "demo", "endpoint": "synthetic estate (clausewatch.demo.estate)",
                 "identity": "none (no API called)"}],
}


def demo_run(as_of: datetime, out: Path, options: PackOptions,
             stage: Stage | None = None) -> Run:
    """The demo's run at ``as_of``, writing ``out``; ``stage`` is told of each stage (progress:
    ``stage(message_id, total, **values)``, ``stage.advance()``)."""
    started = utc_now()
    text = demo_contract_text(as_of.date())
    raw = text.encode("utf-8")
    contract = load_contract("contract.yaml", CHECKS, raw=raw)

    built: list[Estate] = []  # tonight's estate, which the back-filled nights are shifted from

    def gather(_stage: Path | None) -> Gathered:
        if stage is not None:
            stage("progress_estate")
        estate = build_estate(as_of)
        built.append(Estate(list(estate.evidence), list(estate.errors)))  # a copy of its own
        if stage is not None:
            stage("progress_evaluating_out")
        return Gathered(evidence=estate.evidence, errors=estate.errors)

    def before(folder: Path, ev: Evaluation, info: RunInfo) -> Path:
        if stage is not None:
            stage("progress_backfill", total=NIGHTS, n=NIGHTS)
        return demo_backfill(folder, ev, text,
                             tick=stage.advance if stage is not None else None,
                             tonight=built[-1] if built else None)

    def after(folder: Path, ev: Evaluation, info: RunInfo) -> None:
        past = demo_publish(folder, ev, info, text, lang=options.lang, backfilled=True)
        log.info("demo history: %d nights back-filled in %.1f s", past.nights, past.seconds)

    return Run(
        command="run --demo",
        contract=contract,
        contract_bytes=raw,
        as_of=as_of,
        started_at=started,
        gather=gather,
        inputs=DEMO_INPUTS,
        out=out,
        options=options,
        after=after,
        before=before,
    )

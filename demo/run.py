"""The demo as a run of the one pipeline: the bundled French contract, the synthetic estate as
its evidence, and its own history (90 back-filled nights, an outbox, last period's report)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from clausewatch.checks import CHECKS
from clausewatch.core.clock import utc_now
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.run import RunInfo
from clausewatch.demo.contract import demo_contract_text
from clausewatch.demo.estate import build_estate
from clausewatch.demo.history import demo_backfill, demo_publish
from clausewatch.pipeline.run import Gathered, Run
from clausewatch.policies.load import load_contract
from clausewatch.reports.evidence_pack import PackOptions

log = logging.getLogger("clausewatch")
DEMO_INPUTS = {
    "policy": "contract.yaml",
    "evidence": "evidence.jsonl",
    "sources": [{"source": "demo", "endpoint": "synthetic estate (clausewatch.demo.estate)",
                 "identity": "none (no API called)"}],
}


def demo_run(as_of: datetime, out: Path, options: PackOptions) -> Run:
    """The demo's run at ``as_of``, writing ``out``."""
    started = utc_now()
    text = demo_contract_text(as_of.date())
    raw = text.encode("utf-8")
    contract = load_contract("contract.yaml", CHECKS, raw=raw)

    def gather(_stage: Path | None) -> Gathered:
        estate = build_estate(as_of)
        return Gathered(evidence=estate.evidence, errors=estate.errors)

    def before(stage: Path, ev: Evaluation, info: RunInfo) -> Path:
        return demo_backfill(stage, ev, text)

    def after(stage: Path, ev: Evaluation, info: RunInfo) -> None:
        past = demo_publish(stage, ev, info, text, lang=options.lang, backfilled=True)
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

"""Time the demo's history back-fill (90 nights of the synthetic estate, evaluated and recorded).

    python bench/demo_history_bench.py [nights]

Prints the seconds taken by ``alerts.nightly.demo_publish`` (back-fill, tonight's run, outbox,
period report) and the store's size. Goal: a few seconds on the 2-core reference machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.core.run import RunInfo
from clausewatch.demo.contract import demo_contract_text
from clausewatch.demo.estate import build_estate
from clausewatch.demo.history import demo_publish
from clausewatch.policies.load import load_contract


def main() -> None:
    nights = int(sys.argv[1]) if len(sys.argv) > 1 else 90
    as_of = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        text = demo_contract_text(as_of.date())
        (stage / "contract.yaml").write_text(text, encoding="utf-8")
        contract = load_contract(stage / "contract.yaml", CHECKS, name="contract.yaml")
        estate = build_estate(as_of)
        ev = evaluate(contract, estate.evidence, estate.errors, as_of)
        info = RunInfo(as_of=as_of, started_at=as_of, finished_at=as_of)
        started = time.perf_counter()
        demo_publish(stage, ev, info, text, nights)
        seconds = time.perf_counter() - started
        size = (stage / "history.sqlite").stat().st_size
        lines = len((stage / "outbox.jsonl").read_text().splitlines())
    print(f"{nights} nights back-filled in {seconds:.2f} s; store {size / 1e6:.1f} MB; "
          f"{lines} outbox messages")


if __name__ == "__main__":
    main()

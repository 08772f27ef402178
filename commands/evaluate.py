"""``clausewatch evaluate``: judge a contract against a JSON Lines evidence file."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from clausewatch.collectors.jsonl import read_evidence
from clausewatch.commands.common import (
    add_as_of,
    add_history_args,
    add_report_options,
    console_for,
    keep_state_outside,
    nightly_for,
    parse_as_of,
    quiet,
    read_contract,
    report_options,
)
from clausewatch.core.clock import utc_now
from clausewatch.core.i18n import Catalogue, pick_language
from clausewatch.core.run import exit_code_for
from clausewatch.pipeline.run import Gathered, Run, execute
from clausewatch.reports import results_json, terminal
from clausewatch.reports.output import check_replaceable
from clausewatch.reports.pack_options import PackOptions
from clausewatch.reports.progress import StageProgress

NAME = "evaluate"
log = logging.getLogger("clausewatch")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", required=True, type=Path, help="contract YAML")
    p.add_argument("--evidence", required=True, help="evidence JSON Lines file ('-': stdin)")
    add_as_of(p)
    p.add_argument("--out", type=Path, help="write results, reports and evidence pack here")
    p.add_argument("--json", action="store_true", help="print results.json to stdout")
    add_report_options(p)
    add_history_args(p)


def run(args: argparse.Namespace) -> int:
    started = utc_now()
    as_of = parse_as_of(args.as_of)
    if args.out:
        check_replaceable(args.out)  # before any work: refuse a folder that is not ours
    contract, contract_bytes = read_contract(args.policy)
    nightly = nightly_for(args)
    if args.out:
        keep_state_outside(args.out, nightly, args.pack_history)

    def gather(_stage: Path | None) -> Gathered:
        stage("progress_reading", path=args.evidence)
        batch = read_evidence(args.evidence)
        log.info("read %d evidence records, %d collection errors", len(batch.evidence),
                 len(batch.errors))
        stage("progress_evaluating_out" if args.out else "progress_evaluating")
        return Gathered(evidence=batch.evidence, errors=batch.errors)

    words = Catalogue(pick_language(args.lang, contract.language))
    with StageProgress(console_for(args, stderr=True), words) as stage:
        ev, info = execute(
            Run(
                command="evaluate",
                contract=contract,
                contract_bytes=contract_bytes,
                as_of=as_of,
                started_at=started,
                gather=gather,
                inputs={"policy": str(args.policy), "evidence": str(args.evidence)},
                out=args.out,
                options=report_options(args, args.out) if args.out else PackOptions(),
                nightly=nightly,
            )
        )
    if args.json:
        sys.stdout.write(results_json.dumps(ev, info))
    else:
        terminal.render(ev, console_for(args), quiet=quiet(args), lang=args.lang)
    return exit_code_for(ev)

"""``clausewatch report --period``: the report of a contract period, from the history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clausewatch.commands.common import UsageError, console_for, history_arg, history_path, quiet
from clausewatch.core.clock import utc_now
from clausewatch.core.run import ExitCode
from clausewatch.history.attainment import attainment_trend, stored_contract
from clausewatch.history.periods import parse_period
from clausewatch.history.store import DEFAULT_PATH, read_history
from clausewatch.pipeline.sources_file import load_sources
from clausewatch.reports import period as period_report

NAME = "report"
EPILOG = ("Exit codes: 0 written; 4 no run of the contract in that period (nothing written); "
          "2 bad arguments or no history store.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", required=True, help="a month (2026-10) or a quarter (2026-Q4)")
    p.add_argument("--history", type=history_arg, metavar="PATH|URL",
                   help="history store (default: where 'run' writes it: the sources file's "
                   f"'history', else {DEFAULT_PATH.name} beside the sources file; without "
                   f"--sources, ./{DEFAULT_PATH}); a SQLite file or a postgresql:// URL")
    p.add_argument("--sources", type=Path, metavar="YAML",
                   help="the sources file the nightly run uses, to find its history")
    p.add_argument("--contract", help="contract id (when the history holds several)")
    p.add_argument("--out", type=Path, default=Path("."), help="folder for the HTML and Markdown "
                   "(default: the current folder)")
    p.add_argument("--lang", choices=["fr", "en"], help="report language (default: the "
                   "stored contract's language)")


def run(args: argparse.Namespace) -> int:
    try:
        period = parse_period(args.period)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from exc
    sources = load_sources(args.sources) if args.sources and args.history is None else None
    history = history_path(args.history, sources)
    with read_history(history) as store:
        contract = stored_contract(store, args.contract)
        trend = attainment_trend(store, contract, period)
        every = store.runs(contract.id)
    current = trend[-1]
    if current.runs == 0:
        held = (f"it holds runs from {every[0].as_of:%Y-%m-%d} to {every[-1].as_of:%Y-%m-%d}"
                if every else "it holds none")
        sys.stderr.write(f"clausewatch: no run of contract {contract.id} in {period.label} in "
                         f"{history} ({held}); no report written\n")
        return ExitCode.NO_EVIDENCE
    written = period_report.write(args.out, current, trend, utc_now(), lang=args.lang)
    if not quiet(args):
        console_for(args).print(f"Period report {period.label}: {written.html} and "
                                f"{written.markdown}", markup=False, highlight=False,
                                soft_wrap=True)
    return ExitCode.OK

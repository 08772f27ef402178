"""``clausewatch report --period``: the report of a contract period, from the history."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from clausewatch.commands.common import UsageError, history_arg
from clausewatch.core.clock import utc_now
from clausewatch.core.run import ExitCode
from clausewatch.history.attainment import attainment_trend, stored_contract
from clausewatch.history.periods import parse_period
from clausewatch.history.store import DEFAULT_PATH, read_history
from clausewatch.reports import period as period_report

NAME = "report"
HELP = "render the report of a contract period from the history"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", required=True, help="a month (2026-10) or a quarter (2026-Q4)")
    p.add_argument("--history", type=history_arg, default=DEFAULT_PATH,
                   help=f"history store (default ./{DEFAULT_PATH})")
    p.add_argument("--contract", help="contract id (when the history holds several)")
    p.add_argument("--out", type=Path, default=Path("."), help="folder for the HTML and Markdown")
    p.add_argument("--lang", choices=["fr", "en"], help="report language (default: the "
                   "stored contract's language)")


def run(args: argparse.Namespace) -> int:
    try:
        period = parse_period(args.period)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from exc
    with read_history(args.history) as store:
        contract = stored_contract(store, args.contract)
        trend = attainment_trend(store, contract, period)
    written = period_report.write(args.out, trend[-1], trend, utc_now(), lang=args.lang)
    Console().print(f"Period report {period.label}: {written.html} and {written.markdown}",
                    markup=False, highlight=False)
    return ExitCode.OK

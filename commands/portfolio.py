"""``clausewatch portfolio --period 2026-11``: every contract x clause, from the history."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from clausewatch.commands.common import UsageError, history_arg
from clausewatch.core.clock import utc_now
from clausewatch.core.run import ExitCode
from clausewatch.history.periods import parse_period
from clausewatch.history.portfolio import Filters, portfolio
from clausewatch.history.store import DEFAULT_PATH, read_history
from clausewatch.reports import portfolio as portfolio_report

NAME = "portfolio"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", required=True, help="a month (2026-11) or a quarter (2026-Q4)")
    p.add_argument("--history", type=history_arg, default=DEFAULT_PATH,
                   help=f"history store: a SQLite file or a postgresql:// URL "
                   f"(default ./{DEFAULT_PATH})")
    p.add_argument("--out", type=Path, default=Path("."), help="folder for the reports")
    p.add_argument("--format", dest="formats", action="append",
                   choices=portfolio_report.FORMATS,
                   help="output format, repeatable (default: html, md and json)")
    p.add_argument("--lang", choices=["fr", "en"], help="report language (default en)")
    p.add_argument("--provider", help="only contracts of this provider")
    p.add_argument("--customer", help="only contracts of this customer")
    p.add_argument("--responsible", choices=["provider", "customer", "shared"],
                   help="only clauses this party answers for")


def run(args: argparse.Namespace) -> int:
    try:
        period = parse_period(args.period)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from exc
    filters = Filters(provider=args.provider, customer=args.customer,
                      responsible=args.responsible)
    with read_history(args.history) as store:
        rolled = portfolio(store, period, utc_now(), filters)
    formats = tuple(args.formats or portfolio_report.FORMATS)
    written = portfolio_report.write(args.out, rolled, formats, lang=args.lang)
    console = Console(stderr=False)
    for path in written.paths:
        console.print(f"Portfolio {period.label}: {path}", markup=False, highlight=False)
    if not rolled.rows or not any(r.nights for r in rolled.rows):
        console.print(f"No run in {period.label} for the contracts asked: nothing measured.",
                      markup=False, highlight=False)
        return ExitCode.NO_EVIDENCE
    return ExitCode.OK

"""Time ``clausewatch portfolio`` on an MSP-sized history: 200 contracts x 90 nights.

    python bench/portfolio_bench.py [contracts] [nights] [--history URL]

Fills a store (a temporary SQLite file, or the PostgreSQL database given with --history,
which must be empty) with synthetic nightly runs (``demo/portfolio.py``: three clauses per
contract, six subjects each, breaches, cures and unmeasured nights on their own rhythms),
then times the roll-up of the last month and its HTML, Markdown and JSON, in a fresh process
so that the peak RSS is the portfolio's alone. The fill is not timed. Last line:

    portfolio: <contracts> contracts x <nights> nights in <s> s, peak RSS <MB> MB

Goal on the 2-core reference machine: under 10 s and under 1 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

LAST = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def fill(location: str, contracts: int, nights: int) -> float:
    from clausewatch.demo.portfolio import fill as synthetic_fill
    from clausewatch.history.store import open_history

    started = time.perf_counter()
    with open_history(location, durable=False) as store:
        synthetic_fill(store, contracts, nights, LAST)
    return time.perf_counter() - started


def measure(location: str, out: str) -> None:
    """The timed part (run in a child process): roll up and write the three formats."""
    from clausewatch.cli import main

    started = time.perf_counter()
    code = main(["portfolio", "--period", "2026-11", "--history", location, "--out", out])
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{seconds:.3f} {peak:.0f} {code}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("contracts", nargs="?", type=int, default=200)
    p.add_argument("nights", nargs="?", type=int, default=90)
    p.add_argument("--history", help="an empty PostgreSQL database (default: SQLite)")
    p.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    with tempfile.TemporaryDirectory() as tmp:
        location = args.history or str(Path(tmp) / "history.sqlite")
        filled = fill(location, args.contracts, args.nights)
        print(f"filled {args.contracts * args.nights} runs in {filled:.1f} s", file=sys.stderr)
        done = subprocess.run([sys.executable, __file__, "--measure", location, tmp],
                              capture_output=True, text=True, check=True)
        seconds, peak, code = done.stdout.split()[-3:]
        if code != "0":
            sys.exit(f"portfolio exited {code}: {done.stderr}")
        print(f"portfolio: {args.contracts} contracts x {args.nights} nights in "
              f"{float(seconds):.1f} s, peak RSS {peak} MB")


if __name__ == "__main__":
    main()

"""``clausewatch run --portfolio FILE [--shard I/N]``: the nightly run of many contracts.

Each entry runs exactly as ``run --policy C --sources S`` would, with the portfolio's history
store and the entry's output folder; one entry's failure never stops the others. The exit code
tells a scheduler whether to retry, not what the verdicts were (those are in the store, the
outputs and the alerts, and ``clausewatch portfolio`` rolls them up):

* **0** every entry was judged and published (whatever its verdict: 0, 3 or 4);
* **2** or **7** an entry's contract, sources or configuration is wrong: retrying will not help
  (the Kubernetes manifests fail the index at once on these);
* anything else (1, 8, 130, 143...) the highest code met: worth a retry.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from rich.console import Console

from clausewatch.commands.common import UsageError, history_location
from clausewatch.core.problems import InputError
from clausewatch.core.run import ExitCode
from clausewatch.pipeline.portfolio_file import load_portfolio, parse_shard

log = logging.getLogger("clausewatch")
JUDGED = frozenset({ExitCode.OK, ExitCode.BREACHED, ExitCode.NO_EVIDENCE})
NOT_RETRYABLE = frozenset({int(ExitCode.INVALID_INPUT), 7})


def run_portfolio(args: argparse.Namespace, run_one: Callable[[argparse.Namespace], int]) -> int:
    """Run every entry of the shard with ``run_one`` (``run``'s live path), entry by entry."""
    if args.policy or args.sources or args.demo:
        raise UsageError("--portfolio names every contract and sources file: drop "
                         "--policy/--sources/--demo")
    try:
        shard = parse_shard(args.shard) if args.shard else (0, 1)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    book = load_portfolio(args.portfolio)
    entries = book.shard(*shard)
    console = Console(stderr=True)
    console.print(f"Portfolio {args.portfolio}: shard {shard[0]}/{shard[1]}, "
                  f"{len(entries)} of {len(book.entries)} contracts", markup=False,
                  highlight=False)
    codes: list[int] = []
    for entry in entries:
        one = argparse.Namespace(**vars(args))
        one.policy, one.sources, one.out = entry.contract, entry.sources, entry.output
        if book.history is not None and args.history is None:
            one.history = history_location(book.history)
        try:
            code = int(run_one(one))
        except InputError as exc:
            for problem in exc.problems:
                console.print(str(problem), markup=False, highlight=False)
            code = int(ExitCode.INVALID_INPUT)
        except UsageError as exc:
            console.print(f"{entry.contract}: {exc}", markup=False, highlight=False)
            code = int(ExitCode.INVALID_INPUT)
        codes.append(code)
        console.print(f"{entry.contract}: exit {code}", markup=False, highlight=False)
    return shard_exit_code(codes)


def shard_exit_code(codes: list[int]) -> int:
    """0 if every entry was judged; a configuration code before any other failure."""
    failed = [c for c in codes if c not in JUDGED]
    if not failed:
        return int(ExitCode.OK)
    config = [c for c in failed if c in NOT_RETRYABLE]
    return max(config) if config else max(failed)

"""``clausewatch history migrate --from FILE --to URL``: copy a history store into another."""

from __future__ import annotations

import argparse

from rich.console import Console

from clausewatch.commands.common import history_arg
from clausewatch.core.run import ExitCode
from clausewatch.history.copy import copy_store
from clausewatch.history.store import open_history, read_history

NAME = "history"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="history_command", required=True, metavar="ACTION",
                           help="migrate: copy a store into another")
    m = sub.add_parser("migrate", help="copy every run of a store into another (one "
                       "transaction; the source is left as it was)")
    m.add_argument("--from", dest="source", type=history_arg, required=True, metavar="PATH|URL",
                   help="the store to copy (e.g. clausewatch-history.sqlite)")
    m.add_argument("--to", dest="target", type=history_arg, required=True, metavar="PATH|URL",
                   help="the store to copy into (e.g. postgresql://clausewatch@db/clausewatch)")


def run(args: argparse.Namespace) -> int:
    with read_history(args.source) as src, open_history(args.target) as dst:
        copied = copy_store(src, dst)
    Console().print(f"Copied {copied.runs} runs of {copied.contracts} contracts "
                    f"({copied.results} results, {copied.intervals} intervals) from "
                    f"{src.path} to {dst.path}", markup=False, highlight=False)
    return ExitCode.OK

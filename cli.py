"""``clausewatch``: the command line. Parses arguments, dispatches to a command module
(``commands/``), and turns every situation into a message and an exit code.

Exit codes (a nightly scheduler reads them): 0 every commitment compliant, at risk or waived;
3 a commitment breached; 4 evidence missing for a commitment (and none breached); 2 invalid
input (contract, sources, evidence, arguments); 1 internal error; verify: 5 a check failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from clausewatch.commands import COMMANDS
from clausewatch.commands.common import UsageError
from clausewatch.core.problems import InputError
from clausewatch.core.run import ExitCode
from clausewatch.history.store import HistoryError
from clausewatch.pipeline.archive import ArchiveError
from clausewatch.reports.evidence_pack import PackError
from clausewatch.reports.output import NotAnOutputFolder


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clausewatch",
        description="Check that an IT outsourcing provider keeps the security commitments of "
        "its contract, with evidence.",
        epilog="Exit codes: 0 compliant/at risk/waived, 3 breached, 4 no evidence, "
        "2 invalid input, 1 internal error; verify: 0 verified, 5 verification failed, "
        "2 unreadable pack or key.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        p = sub.add_parser(
            command.NAME,
            help=command.HELP,
            description=getattr(command, "DESCRIPTION", None),
            epilog=getattr(command, "EPILOG", None),
        )
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args))
    except InputError as exc:  # one problem a line, unwrapped: editors and CI parse them
        sys.stderr.write("".join(f"{problem}\n" for problem in exc.problems))
        return ExitCode.INVALID_INPUT
    except (UsageError, NotAnOutputFolder, PackError) as exc:
        sys.stderr.write(f"clausewatch: {exc}\n")
        return ExitCode.INVALID_INPUT
    except ArchiveError as exc:  # outputs and history are in place; the locked copy is not
        sys.stderr.write(f"clausewatch: evidence pack not archived: {exc}\n")
        return ExitCode.OUTPUT_UNWRITABLE if hasattr(ExitCode, "OUTPUT_UNWRITABLE") else 8
    except HistoryError as exc:  # the store is busy (another run) or unusable
        sys.stderr.write(f"clausewatch: {exc}\n")
        return ExitCode.INVALID_INPUT
    except Exception as exc:  # a bug: say so plainly, with the traceback to report it
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"clausewatch: internal error: {type(exc).__name__}: {exc}\n")
        return ExitCode.INTERNAL_ERROR

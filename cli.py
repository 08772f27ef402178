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
from clausewatch.core.run import ExitCode, tool_version
from clausewatch.history.store import HistoryError
from clausewatch.reports.evidence_pack import PackError
from clausewatch.reports.output import NotAnOutputFolder
from clausewatch.reports.terminal import COLOR_CHOICES


def global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name (``clausewatch -v run`` and
    ``clausewatch run -v``). The subcommands' copy defaults to SUPPRESS, so an option given
    before the subcommand is not reset by the subcommand's defaults."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("global options")

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    g.add_argument("-v", "--verbose", action="store_true", default=default(False),
                   help="log progress to stderr")
    g.add_argument("-q", "--quiet", action="store_true", default=default(False),
                   help="print only the overall verdict line (outputs are written as usual)")
    g.add_argument("--color", choices=COLOR_CHOICES, default=default("auto"),
                   help="colour the terminal output: auto (only on a terminal, and not when "
                   "NO_COLOR is set), always, never (default: auto)")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        parents=[global_options(suppress=False)],
        prog="clausewatch",
        description="Check that an IT outsourcing provider keeps the security commitments of "
        "its contract, with evidence.",
        epilog="Exit codes: 0 compliant/at risk/waived, 3 breached, 4 no evidence, "
        "2 invalid input, 1 internal error; verify: 0 verified, 5 verification failed, "
        "2 unreadable pack or key.",
    )
    parser.add_argument("--version", action="version", version=f"clausewatch {tool_version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="what to do (clausewatch COMMAND --help for its options)")
    shared = global_options(suppress=True)
    for command in COMMANDS:
        p = sub.add_parser(
            command.NAME,
            parents=[shared],
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
    except HistoryError as exc:  # the store is busy (another run) or unusable
        sys.stderr.write(f"clausewatch: {exc}\n")
        return ExitCode.INVALID_INPUT
    except Exception as exc:  # a bug: say so plainly, with the traceback to report it
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"clausewatch: internal error: {type(exc).__name__}: {exc}\n")
        return ExitCode.INTERNAL_ERROR

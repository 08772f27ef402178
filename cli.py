"""``clausewatch``: the command line. Parses arguments, dispatches to a command module
(``commands/``), and turns every situation into a message and an exit code.

Exit codes (a nightly scheduler reads them): 0 every commitment compliant, at risk or waived;
3 a commitment breached; 4 evidence missing for a commitment (and none breached); 2 invalid
input (contract, sources, evidence, arguments) or another run holds the output folder or
history; 7 a source cannot be reached as configured (credential, secret variable, profile,
login, host: nothing collected); 8 the outputs or the history cannot be written (permission,
read-only file system, disk full); 130/143 stopped by SIGINT/SIGTERM (nothing published);
1 internal error (a bug); verify: 5 a check failed, 6 signature present but not checked.
See docs/unattended.md.
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
import traceback
from collections.abc import Sequence

from clausewatch.commands import COMMANDS
from clausewatch.core import interrupt
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.problems import InputError
from clausewatch.core.run import ExitCode, tool_version
from clausewatch.reports.terminal import COLOR_CHOICES

#: ``build_parser``'s ``chosen`` for "every command in full" (what argparse must see when the
#: command line cannot be read simply: ``named`` returns it then).
EVERY = "*"
#: The global options and how many words each takes with it (``--color=never`` is one word).
_GLOBAL = {"-v": 1, "--verbose": 1, "-q": 1, "--quiet": 1, "-h": 1, "--help": 1,
           "--version": 1, "--color": 2}


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


def named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, read as argparse reads it: its first word past the global
    options; None when it names none (``--help``, ``--version``, nothing: argparse needs no
    command's options); :data:`EVERY` when a word is not that simple (an abbreviated or
    bundled option, ``--``, a name that is no command): argparse then sees every command."""
    words = list(argv)
    i = 0
    while i < len(words):
        word = words[i]
        if word in _GLOBAL:
            i += _GLOBAL[word]
        elif word.startswith("--color="):
            i += 1
        elif word.startswith("-"):
            return EVERY
        else:
            return word if word in {c.name for c in COMMANDS} else EVERY
    return None


def build_parser(chosen: str | None = EVERY) -> argparse.ArgumentParser:
    """The parser of every command (``chosen``: :data:`EVERY`), or of the command ``chosen``
    alone with only the names and help lines of the others (``named(argv)``: what parsing
    that command line needs, importing no other command's module)."""
    parser = argparse.ArgumentParser(
        parents=[global_options(suppress=False)],
        prog="clausewatch",
        description="Check that an IT outsourcing provider keeps the security commitments of "
        "its contract, with evidence.",
        epilog="Exit codes: 0 compliant/at risk/waived, 3 breached, 4 no evidence, "
        "2 invalid input or another run busy, 7 a source misconfigured (credential, host), "
        "8 outputs or history unwritable (permission, read-only, disk full), 130/143 stopped "
        "by SIGINT/SIGTERM, 1 internal error; verify: 0 verified, 5 verification failed, "
        "6 signature not checked, 2 unreadable pack or key.",
    )
    parser.add_argument("--version", action="version", version=f"clausewatch {tool_version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="what to do (clausewatch COMMAND --help for its options)")
    shared = global_options(suppress=True)
    for command in COMMANDS:
        if chosen not in (EVERY, command.name):
            sub.add_parser(command.name, help=command.help)  # listed, never parsed
            continue
        module = command.load()
        p = sub.add_parser(
            command.name,
            parents=[shared],
            help=command.help,
            description=getattr(module, "DESCRIPTION", None),
            epilog=getattr(module, "EPILOG", None),
        )
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(named(words)).parse_args(words)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    restore = interrupt.install()  # SIGINT/SIGTERM unwind the run: exit 130/143
    try:
        return _dispatch(args)
    finally:
        restore()


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command; every situation is a message and an exit code, only a bug a traceback."""
    try:
        return int(args.run(args))
    except (interrupt.Stopped, KeyboardInterrupt) as exc:
        return _stopped(exc)
    except Exception as exc:
        return _situation(exc)


def _situation(exc: Exception) -> int:
    """The message and exit code of what the command raised. The exception classes of the
    layers below are imported here, once one was raised: no command's start-up pays for them
    (``checks`` loads no history, evidence pack or outputs code)."""
    from clausewatch.commands.common import UsageError
    from clausewatch.history.store import HistoryError, StoreUnwritable
    from clausewatch.pipeline.archive import ArchiveError
    from clausewatch.reports.evidence_pack import PackError
    from clausewatch.reports.output import NotAnOutputFolder

    if isinstance(exc, InputError):  # one problem a line, unwrapped: editors and CI parse them
        sys.stderr.write("".join(f"{problem}\n" for problem in exc.problems))
        return ExitCode.INVALID_INPUT
    if isinstance(exc, ConfigurationError):  # a source cannot be reached: nothing collected
        sys.stderr.write("".join(f"clausewatch: {problem}\n" for problem in exc.problems))
        return ExitCode.CONFIGURATION
    if isinstance(exc, UsageError | NotAnOutputFolder | PackError):
        sys.stderr.write(f"clausewatch: {exc}\n")
        return ExitCode.INVALID_INPUT
    if isinstance(exc, StoreUnwritable):  # permission, read-only, disk full: nothing changed
        sys.stderr.write(f"clausewatch: {exc}; {UNCHANGED}\n")
        return ExitCode.OUTPUT_UNWRITABLE
    if isinstance(exc, ArchiveError):  # outputs and history are in place; the locked copy not
        sys.stderr.write(f"clausewatch: evidence pack not archived: {exc}\n")
        return ExitCode.OUTPUT_UNWRITABLE
    if isinstance(exc, HistoryError):  # the store is busy (another run) or unusable
        sys.stderr.write(f"clausewatch: {exc}\n")
        return ExitCode.INVALID_INPUT
    if isinstance(exc, OSError) and exc.errno in UNWRITABLE:
        where = f" {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"clausewatch: cannot write{where}: {exc.strerror or exc}; "
                         f"{UNCHANGED}\n")
        return ExitCode.OUTPUT_UNWRITABLE
    return _bug(exc)


#: What a run that failed or was stopped leaves (the staging folder is removed, the history
#: transaction rolled back, a half-done publication put back).
UNCHANGED = "nothing was published: the previous outputs and the history are as they were"
#: File-system situations that mean the outputs or the history cannot be written where asked.
UNWRITABLE = frozenset({
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG,
    errno.EBUSY, errno.EXDEV, errno.EIO, errno.EMLINK,
})


def _stopped(exc: BaseException) -> int:
    signum = exc.signum if isinstance(exc, interrupt.Stopped) else signal.SIGINT
    published = isinstance(exc, interrupt.Stopped) and exc.published
    what = ("the run had just been published; stopping" if published
            else f"stopped; {UNCHANGED}")
    sys.stdout.flush()
    sys.stderr.write(f"\nclausewatch: {signal.Signals(signum).name} received: {what}\n")
    return ExitCode.TERMINATED if signum == signal.SIGTERM else ExitCode.INTERRUPTED


def _bug(exc: BaseException) -> int:
    """A bug: say so plainly, with the traceback to report it."""
    traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.write(f"clausewatch: internal error: {type(exc).__name__}: {exc}\n")
    return ExitCode.INTERNAL_ERROR

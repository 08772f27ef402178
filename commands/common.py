"""What several commands share: argument groups, the ``--as-of`` clock, report and pack options,
and where a run's history and alerts go."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from clausewatch.checks import CHECKS
from clausewatch.core.clock import utc_now
from clausewatch.core.contract import Contract
from clausewatch.core.problems import InputError, Problem
from clausewatch.history.postgres import check_url, is_url
from clausewatch.history.store import DEFAULT_PATH, Location
from clausewatch.pipeline.nightly import Nightly
from clausewatch.policies.load import load_contract
from clausewatch.reports.formats import FORMATS
from clausewatch.reports.formats.csv_results import DEFAULT_DIALECT, DIALECTS
from clausewatch.reports.pack_options import PackOptions
from clausewatch.reports.terminal import make_console

if TYPE_CHECKING:  # only `run` reads a sources file (its catalogue and schemas: not for `evaluate`)
    from clausewatch.alerts.config import AlertConfig
    from clausewatch.pipeline.sources_file import SourcesConfig

# The alerts file's code (its channels and their HTTP client, the YAML schema validators) and
# the pack's writer (Ed25519, the zip) are imported by the functions that read an alerts file or
# build a pack's options: ``evaluate`` without ``--alerts`` or ``--out`` loads neither
# (tests/test_lazy_imports.py).

DEMO_OUT = Path("clausewatch-demo")
LIVE_OUT = Path("clausewatch-out")


class UsageError(Exception):
    """Bad arguments: exit 2 with the message."""


def console_for(args: argparse.Namespace, *, stderr: bool = False) -> Console:
    """The console for the summary (stdout), as ``--color`` asks, or for progress (``stderr``):
    drawn only on a terminal whatever ``--color`` says (``never`` still takes its colours)."""
    color = getattr(args, "color", "auto")
    return make_console("never" if stderr and color == "never" else "auto" if stderr else color,
                        stderr=stderr)


def quiet(args: argparse.Namespace) -> bool:
    """``--quiet``: only the overall line."""
    return bool(getattr(args, "quiet", False))


def history_location(text: str, base: Path | None = None) -> Location:
    """A history store: a ``postgresql://`` URL as is, else a SQLite path (under ``base``)."""
    if is_url(text):
        try:
            return check_url(text)
        except ValueError as exc:
            raise UsageError(f"history: {exc}") from exc
    return base / text if base is not None else Path(text)


def history_arg(text: str) -> Location:
    """``--history``: as ``history_location``, refused by argparse with the reason."""
    try:
        return history_location(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_as_of(text: str | None) -> datetime:
    """``--as-of``: an ISO 8601 instant with an offset; default now (UTC)."""
    if text is None:
        return utc_now()
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--as-of {text!r} is not an ISO 8601 date-time") from exc
    if value.tzinfo is None:
        raise UsageError(f"--as-of {text!r} needs a UTC offset, e.g. {text}Z or {text}+01:00")
    return value.astimezone(UTC)


def read_contract(path: Path) -> tuple[Contract, bytes]:
    """The contract at ``path`` and its bytes as read (read once: what is judged is what is
    copied into the outputs)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError([Problem(str(path), 0, 0, "", f"cannot read: {exc.strerror or exc}")]) \
            from exc
    return load_contract(path, CHECKS, raw=raw), raw


def add_as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", help="the instant to judge at (ISO 8601 with offset; default now)")


def add_history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--history", type=history_arg, metavar="PATH|URL",
                   help=f"record the run in this history store (run: default the sources "
                   f"file's 'history', else {DEFAULT_PATH.name} beside it; evaluate: only with "
                   "this flag or --alerts; the demo keeps its own)")
    p.add_argument("--alerts", type=Path, metavar="YAML", help="alerts file: send alerts on "
                   "transitions (needs the history)")


def format_names(text: str) -> list[str]:
    """One ``--format`` value: output format names, comma-separated."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown output format {', '.join(unknown) or repr(text)} (choose from "
            f"{', '.join(FORMATS.names())})"
        )
    return names


def _formats_help() -> str:
    listed = "; ".join(f"{f.name}: {f.file_name}, {f.description['en']}" for f in FORMATS)
    return (
        f"output formats to write, repeatable or comma-separated (default: all). {listed}. "
        "results.json and evidence.jsonl, the run's record, are always written: the evidence "
        "pack and 'verify' rest on them"
    )


def add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", dest="formats", action="append", type=format_names,
                   metavar="{" + ",".join(FORMATS.names()) + "}", help=_formats_help())
    p.add_argument("--lang", choices=["fr", "en"], help="report language (default: the "
                   "contract's language)")
    p.add_argument("--csv-dialect", choices=list(DIALECTS), default=DEFAULT_DIALECT,
                   help="results.csv: rfc4180 (comma, UTF-8 without BOM, for tools; default) "
                   "or excel-fr (semicolon, UTF-8 with BOM, opens in columns in a French "
                   "Excel)")
    p.add_argument("--signing-key", type=Path, metavar="PEM", help="Ed25519 private key to sign "
                   "the evidence pack (default: $CLAUSEWATCH_SIGNING_KEY)")
    p.add_argument("--previous-pack", type=Path, metavar="PACK", help="pack to chain this one "
                   "to (default: the pack already in the output folder)")
    p.add_argument("--pack-history", type=Path, metavar="DIR", help="folder of earlier packs: "
                   "chain to the newest, then add this one")


def report_options(args: argparse.Namespace, out: Path) -> PackOptions:
    """Report and pack options from ``--format``, ``--lang``, ``--signing-key``,
    ``--previous-pack``, ``--pack-history`` (and the environment)."""
    from clausewatch.reports.publish import pack_options

    formats = None if args.formats is None else [n for group in args.formats for n in group]
    try:
        return pack_options(
            out=out,
            lang=args.lang,
            signing_key=args.signing_key,
            previous=args.previous_pack,
            history=args.pack_history,
            formats=formats,
            format_options={"csv_dialect": getattr(args, "csv_dialect", DEFAULT_DIALECT)},
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def nightly_for(args: argparse.Namespace, sources: SourcesConfig | None = None) -> Nightly:
    """Where the run is recorded and alerted.

    ``evaluate`` records only with ``--history``/``--alerts``. The nightly ``run`` always keeps
    a history (that is what makes alerts on transitions and period reports possible): the flag,
    else the sources file's ``history:``, else clausewatch-history.sqlite, both relative to the
    sources file; its alerts come from ``--alerts``, else the sources file's ``alerts:``.
    """
    config: AlertConfig | None = None
    if args.alerts:
        from clausewatch.alerts.config import load_alerts

        config = load_alerts(args.alerts)
    history = args.history
    if sources is not None:
        base = Path(sources.file).resolve().parent
        if config is None and "alerts" in sources.settings:
            from clausewatch.alerts.config import from_mapping

            config = from_mapping(sources.settings["alerts"], base_dir=base)
        history = history_path(history, sources)
    text = args.policy.read_text(encoding="utf-8") if history or config else ""
    return Nightly.from_args(history, config, text)


def history_path(given: Location | None, sources: SourcesConfig | None) -> Location:
    """Where a run's history is: ``--history``; else the sources file's ``history:``, else
    clausewatch-history.sqlite, both relative to the sources file; without a sources file,
    ./clausewatch-history.sqlite. ``run`` writes there and ``report`` reads there."""
    if given is not None:
        return given
    if sources is None:
        return DEFAULT_PATH
    base = Path(sources.file).resolve().parent
    return history_location(str(sources.settings.get("history", DEFAULT_PATH.name)), base)


def keep_state_outside(out: Path, nightly: Nightly, packs: Path | None = None) -> None:
    """Refuse a history store, an outbox or the kept packs (``--pack-history``) inside the
    output folder: each run replaces that folder whole, and the memory of past runs (open
    breaches, alerts sent, the packs the chain points to) would go with it."""
    state = [nightly.history] if isinstance(nightly.history, Path) else []
    state += [packs] if packs is not None else []
    if nightly.alerts is not None:
        base = nightly.alerts.base_dir
        state += [base / c.options["path"] for c in nightly.alerts.channels if "path" in c.options]
    root = out.resolve()
    for path in state:
        if path.resolve().is_relative_to(root):
            raise UsageError(
                f"{path} lies inside the output folder {out}, which every run replaces: keep "
                "the history and outboxes outside it"
            )

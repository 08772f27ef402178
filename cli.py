"""``clausewatch``: the command line, and the only module that wires the pipeline together.

Exit codes (a nightly scheduler reads them): 0 every commitment compliant, at risk or waived;
3 a commitment breached; 4 evidence missing for a commitment (and none breached); 2 invalid
input (contract, sources, evidence, arguments); 1 internal error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from clausewatch.alerts.config import from_mapping as alerts_from_mapping
from clausewatch.alerts.config import load_alerts
from clausewatch.alerts.notify import send_test
from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.collectors.jsonl import evidence_schema, read_evidence
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.runner import collect_all
from clausewatch.core.clock import utc_now
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.problems import InputError, Problem
from clausewatch.core.redact import Redactor
from clausewatch.core.run import ExitCode, RunInfo, exit_code_for
from clausewatch.demo.contract import demo_contract_text
from clausewatch.demo.estate import build_estate
from clausewatch.demo.history import demo_publish
from clausewatch.history.attainment import attainment_trend, stored_contract
from clausewatch.history.periods import parse_period
from clausewatch.history.store import DEFAULT_PATH, HistoryError, read_history
from clausewatch.pipeline.nightly import Nightly
from clausewatch.pipeline.sources_file import (
    BuildContext,
    SourcesConfig,
    is_sources_file,
    load_sources,
)
from clausewatch.policies.load import contract_schema, load_contract
from clausewatch.reports import period as period_report
from clausewatch.reports import results_json, terminal
from clausewatch.reports import verify as verifying
from clausewatch.reports.evidence_pack import PackError, PackOptions
from clausewatch.reports.output import NotAnOutputFolder, check_replaceable, staged_dir
from clausewatch.reports.progress import CollectionProgress
from clausewatch.reports.publish import pack_options, publish_run

log = logging.getLogger("clausewatch")
DEMO_OUT = Path("clausewatch-demo")
LIVE_OUT = Path("clausewatch-out")


class UsageError(Exception):
    """Bad arguments: exit 2 with the message."""


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

    p = sub.add_parser("validate", help="check contract files; report every problem")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")

    p = sub.add_parser("evaluate", help="evaluate a contract against a JSON Lines evidence file")
    p.add_argument("--policy", required=True, type=Path, help="contract YAML")
    p.add_argument("--evidence", required=True, help="evidence JSON Lines file ('-': stdin)")
    p.add_argument("--as-of", help="the instant to judge at (ISO 8601 with offset; default now)")
    p.add_argument("--out", type=Path, help="write results, reports and evidence pack here")
    p.add_argument("--json", action="store_true", help="print results.json to stdout")
    add_report_options(p)
    add_history_args(p)

    p = sub.add_parser("run", help="collect, evaluate and report (--demo: the built-in demo)")
    p.add_argument("--demo", action="store_true", help="run on the built-in synthetic estate")
    p.add_argument("--policy", type=Path, help="contract YAML")
    p.add_argument("--sources", type=Path, help="sources YAML: what to collect, how to reach it")
    p.add_argument("--as-of", help="the instant to judge at (ISO 8601 with offset; default now)")
    p.add_argument(
        "--out",
        type=Path,
        help=f"output folder (demo default: ./{DEMO_OUT}; else the sources file's 'output', "
        f"else ./{LIVE_OUT})",
    )
    p.add_argument("--concurrency", type=int, help="collectors run at once (default 8)")
    add_report_options(p)
    add_history_args(p)

    p = sub.add_parser("report", help="render the report of a contract period from the history")
    p.add_argument("--period", required=True, help="a month (2026-10) or a quarter (2026-Q4)")
    p.add_argument("--history", type=Path, default=DEFAULT_PATH,
                   help=f"history store (default ./{DEFAULT_PATH})")
    p.add_argument("--contract", help="contract id (when the history holds several)")
    p.add_argument("--out", type=Path, default=Path("."), help="folder for the HTML and Markdown")
    p.add_argument("--lang", choices=["fr", "en"], help="report language (default: the "
                   "stored contract's language)")

    p = sub.add_parser("alert", help="alert channels")
    p.add_argument("action", choices=["test"], help="test: send a test message to each channel")
    p.add_argument("--alerts", required=True, type=Path, help="alerts YAML (alerts: section)")

    p = sub.add_parser(
        "verify",
        help="check an evidence pack: hashes, signature, chain, and re-evaluation",
        description=verifying.__doc__.split("\n\n")[1] if verifying.__doc__ else None,
        epilog="Exit codes: 0 every check holds; 5 a check failed (each failing file is "
        "named); 2 the pack or the key cannot be read.",
    )
    p.add_argument("pack", type=Path, metavar="PACK", help="evidence pack folder or its zip")
    p.add_argument("--public-key", type=Path, metavar="PEM", help="Ed25519 public key to check "
                   "the signature with")
    p.add_argument("--previous", type=Path, metavar="PACK", help="the previous pack, to check "
                   "the chain link")

    p = sub.add_parser("checks", help="list the checks and the params each accepts")
    p.add_argument("--json", action="store_true", help="print the params schemas as JSON")

    p = sub.add_parser("schema", help="print a JSON Schema shipped with ClauseWatch")
    p.add_argument("which", choices=["contract", "evidence", "results"])
    return parser


def add_history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--history", type=Path, metavar="PATH",
                   help=f"record the run in this history store (run: default the sources "
                   f"file's 'history', else {DEFAULT_PATH.name} beside it; evaluate: only with "
                   "this flag or --alerts; the demo keeps its own)")
    p.add_argument("--alerts", type=Path, metavar="YAML", help="alerts file: send alerts on "
                   "transitions (needs the history)")


def nightly_for(args: argparse.Namespace, sources: SourcesConfig | None = None) -> Nightly:
    """Where the run is recorded and alerted.

    ``evaluate`` records only with ``--history``/``--alerts``. The nightly ``run`` always keeps
    a history (that is what makes alerts on transitions and period reports possible): the flag,
    else the sources file's ``history:``, else clausewatch-history.sqlite, both relative to the
    sources file; its alerts come from ``--alerts``, else the sources file's ``alerts:``.
    """
    config = load_alerts(args.alerts) if args.alerts else None
    history = args.history
    if sources is not None:
        base = Path(sources.file).resolve().parent
        if config is None and "alerts" in sources.settings:
            config = alerts_from_mapping(sources.settings["alerts"], base_dir=base)
        if history is None:
            history = base / sources.settings.get("history", DEFAULT_PATH.name)
    text = args.policy.read_text(encoding="utf-8") if history or config else ""
    return Nightly.from_args(history, config, text)


def keep_state_outside(out: Path, nightly: Nightly) -> None:
    """Refuse a history store or outbox inside the output folder: each run replaces that
    folder whole, and the memory of past runs (open breaches, alerts sent) would go with it."""
    state = [nightly.history] if nightly.history else []
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


def add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["fr", "en"], help="report language (default: the "
                   "contract's language)")
    p.add_argument("--signing-key", type=Path, metavar="PEM", help="Ed25519 private key to sign "
                   "the evidence pack (default: $CLAUSEWATCH_SIGNING_KEY)")
    p.add_argument("--previous-pack", type=Path, metavar="PACK", help="pack to chain this one "
                   "to (default: the pack already in the output folder)")
    p.add_argument("--pack-history", type=Path, metavar="DIR", help="folder of earlier packs: "
                   "chain to the newest, then add this one")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(COMMANDS[args.command](args))
    except InputError as exc:  # one problem a line, unwrapped: editors and CI parse them
        sys.stderr.write("".join(f"{problem}\n" for problem in exc.problems))
        return ExitCode.INVALID_INPUT
    except (UsageError, NotAnOutputFolder) as exc:
        sys.stderr.write(f"clausewatch: {exc}\n")
        return ExitCode.INVALID_INPUT
    except HistoryError as exc:  # the store is busy (another run) or unusable
        sys.stderr.write(f"clausewatch: {exc}\n")
        return ExitCode.INVALID_INPUT
    except Exception as exc:  # a bug: say so plainly, with the traceback to report it
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"clausewatch: internal error: {type(exc).__name__}: {exc}\n")
        return ExitCode.INTERNAL_ERROR


def cmd_validate(args: argparse.Namespace) -> ExitCode:
    """Validate contract and sources files (told apart by their top-level key)."""
    problems: list[Problem] = []
    for path in args.files:
        try:
            sys.stdout.write(f"{path}: ok ({_validate_one(path)})\n")
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return ExitCode.OK


def _validate_one(path: Path) -> str:
    if is_sources_file(path):
        sources = load_sources(path)
        return ", ".join(f"{len(v)} {k} source(s)" for k, v in sources.entries.items())
    contract = load_contract(path, CHECKS)
    return f"{len(contract.commitments)} commitment(s), {len(contract.waivers)} waiver(s)"


def cmd_evaluate(args: argparse.Namespace) -> ExitCode:
    started = utc_now()
    as_of = parse_as_of(args.as_of)
    if args.out:
        check_replaceable(args.out)  # before any work: refuse a folder that is not ours
    contract = load_contract(args.policy, CHECKS)
    nightly = nightly_for(args)
    if args.out:
        keep_state_outside(args.out, nightly)
    batch = read_evidence(args.evidence)
    log.info("read %d evidence records, %d collection errors", len(batch.evidence),
             len(batch.errors))
    ev = evaluate(contract, batch.evidence, batch.errors, as_of)
    info = RunInfo(
        as_of=as_of,
        started_at=started,
        finished_at=utc_now(),
        command="evaluate",
        inputs={"policy": str(args.policy), "evidence": str(args.evidence)},
    )
    if args.out:
        options = report_options(args, args.out)
        with staged_dir(args.out) as stage:
            shutil.copyfile(args.policy, stage / "contract.yaml")
            publish(stage, ev, info, [*batch.evidence, *batch.errors], options, nightly)
    else:
        nightly.publish(None, ev, info)
    if args.json:
        sys.stdout.write(results_json.dumps(ev, info))
    else:
        terminal.render(ev, Console())
    return exit_code_for(ev)


def cmd_run(args: argparse.Namespace) -> ExitCode:
    if args.demo:
        if args.policy or args.sources:
            raise UsageError("--demo runs on its own contract and estate: drop --policy/--sources")
        out = args.out or DEMO_OUT
        check_replaceable(out)
        return run_demo(parse_as_of(args.as_of), out, report_options(args, out))
    if not (args.policy and args.sources):
        raise UsageError("run needs --policy and --sources (or --demo)")
    return run_live(args)


def run_live(args: argparse.Namespace) -> ExitCode:
    """Collect from the sources file's sources, evaluate the contract, write the outputs."""
    started = utc_now()
    as_of = parse_as_of(args.as_of)
    problems: list[Problem] = []
    try:
        contract = load_contract(args.policy, CHECKS)
    except InputError as exc:
        problems += exc.problems
    try:
        sources = load_sources(args.sources)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    nightly = nightly_for(args, sources)
    out = args.out or Path(sources.settings.get("output", LIVE_OUT))
    check_replaceable(out)  # before collecting for minutes
    keep_state_outside(out, nightly)
    redactor = Redactor()
    options = report_options(args, out)
    console = Console(stderr=True)
    with staged_dir(out) as stage:
        context = BuildContext(
            as_of=as_of,
            raw=RawRecorder(stage, redactor),
            env=os.environ,
            base_dir=args.sources.resolve().parent,
            secrets=redactor,
        )
        collectors = sources.build(context)
        with CollectionProgress(console) as progress:
            batch = collect_all(collectors, args.concurrency or sources.concurrency, progress)
        ev = evaluate(contract, batch.evidence, batch.errors, as_of)
        info = RunInfo(
            as_of=as_of,
            started_at=started,
            finished_at=utc_now(),
            command="run",
            inputs={
                "policy": str(args.policy),
                "sources": str(args.sources),
                "collectors": [f"{c.source} {c.origin}" for c in collectors],
            },
        )
        shutil.copyfile(args.policy, stage / "contract.yaml")
        options = dataclasses.replace(options, secrets=(*options.secrets, *redactor.known))
        publish(stage, ev, info, [*batch.evidence, *batch.errors], options, nightly)
    terminal.render(ev, Console())
    return exit_code_for(ev)


def run_demo(as_of: datetime, out: Path, options: PackOptions | None = None) -> ExitCode:
    """Evaluate the bundled French contract against the synthetic estate; write ``out``."""
    started = utc_now()
    text = demo_contract_text(as_of.date())
    console = Console()
    with staged_dir(out) as stage:
        (stage / "contract.yaml").write_text(text, encoding="utf-8")
        contract = load_contract(stage / "contract.yaml", CHECKS, name="contract.yaml")
        estate = build_estate(as_of)
        ev = evaluate(contract, estate.evidence, estate.errors, as_of)
        info = RunInfo(
            as_of=as_of,
            started_at=started,
            finished_at=utc_now(),
            command="run --demo",
            inputs={
                "policy": "contract.yaml",
                "evidence": "evidence.jsonl",
                "sources": [{"source": "demo", "endpoint": "synthetic estate "
                             "(clausewatch.demo.estate)", "identity": "none (no API called)"}],
            },
        )
        publish(stage, ev, info, [*estate.evidence, *estate.errors], options)
        # 90 nights of history, outbox, period report (in the run report's language)
        past = demo_publish(stage, ev, info, text, lang=options.lang if options else None)
    log.info("demo history: %d nights back-filled in %.1f s", past.nights, past.seconds)
    terminal.render(ev, console)
    console.print(f"Demo outputs written to {out.resolve()}/", markup=False, highlight=False)
    return exit_code_for(ev)


def publish(
    stage: Path,
    ev: Evaluation,
    info: RunInfo,
    records: Sequence[Evidence | CollectionError],
    options: PackOptions | None = None,
    nightly: Nightly | None = None,
) -> None:
    """Write a run's outputs into the staging folder (made live only if all of it succeeds):
    evidence.jsonl, results.json, the reports, and the evidence pack with its zip. The contract
    as evaluated must already be in ``stage/contract.yaml``."""
    try:
        publish_run(stage, ev, info, records, (stage / "contract.yaml").read_bytes(), options)
    except PackError as exc:
        raise UsageError(str(exc)) from exc
    if nightly is not None:
        nightly.publish(stage, ev, info)  # history + alerts.json; delivery never fails the run


def cmd_report(args: argparse.Namespace) -> ExitCode:
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


def cmd_alert(args: argparse.Namespace) -> ExitCode:
    """``alert test``: 0 when every channel took the test message, 1 otherwise."""
    config = load_alerts(args.alerts)
    console = Console()
    deliveries = send_test(config, utc_now())
    for d in deliveries:
        console.print(f"{d.channel} ({d.type}): {'ok' if d.ok else 'FAILED'} after "
                      f"{d.attempts} attempt(s): {d.detail}", markup=False, highlight=False)
    return ExitCode.OK if all(d.ok for d in deliveries) else ExitCode.INTERNAL_ERROR


def report_options(args: argparse.Namespace, out: Path) -> PackOptions:
    """Report and pack options from ``--lang``, ``--signing-key``, ``--previous-pack``,
    ``--pack-history`` (and the environment)."""
    try:
        return pack_options(
            out=out,
            lang=args.lang,
            signing_key=args.signing_key,
            previous=args.previous_pack,
            history=args.pack_history,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def cmd_verify(args: argparse.Namespace) -> int:
    """Check an evidence pack; print each check and what fails."""
    try:
        result = verifying.verify(args.pack, args.public_key, args.previous)
    except verifying.Unreadable as exc:
        sys.stderr.write(f"clausewatch verify: {exc}\n")
        return verifying.VERIFY_UNREADABLE
    sys.stdout.write("".join(f"{line}\n" for line in result.lines()))
    return result.exit_code


def cmd_checks(args: argparse.Namespace) -> ExitCode:
    if args.json:
        doc = {name: dict(CHECKS[name].params_schema) for name in CHECKS}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return ExitCode.OK
    console = Console()
    for name in CHECKS:
        spec = CHECKS[name]
        params = ", ".join(spec.params_schema.get("properties", {}))
        console.print(f"[bold]{name}[/bold]: {spec.summary}\n  params: {params}")
    return ExitCode.OK


def cmd_schema(args: argparse.Namespace) -> ExitCode:
    schema = {
        "contract": contract_schema,
        "evidence": evidence_schema,
        "results": results_json.results_schema,
    }[args.which]()
    sys.stdout.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    return ExitCode.OK


COMMANDS = {
    "validate": cmd_validate,
    "evaluate": cmd_evaluate,
    "run": cmd_run,
    "checks": cmd_checks,
    "schema": cmd_schema,
    "report": cmd_report,
    "alert": cmd_alert,
    "verify": cmd_verify,
}

__all__ = ["Evaluation", "main"]

"""``clausewatch run``: collect from the sources, evaluate the contract, write the outputs
(``--demo``: the same pipeline on the built-in synthetic estate)."""

from __future__ import annotations

import argparse
import logging
import os
from datetime import datetime
from pathlib import Path

from rich.console import Console

from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.runner import collect_all
from clausewatch.commands.common import (
    DEMO_OUT,
    LIVE_OUT,
    UsageError,
    add_as_of,
    add_history_args,
    add_report_options,
    console_for,
    keep_state_outside,
    nightly_for,
    parse_as_of,
    quiet,
    read_contract,
    report_options,
)
from clausewatch.commands.portfolio_run import run_portfolio
from clausewatch.core.clock import utc_now
from clausewatch.core.contract import Contract
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.i18n import Catalogue, pick_language
from clausewatch.core.problems import InputError, Problem
from clausewatch.core.redact import Redactor
from clausewatch.core.run import ExitCode, RunInfo, exit_code_for
from clausewatch.pipeline.archive import Archive, archive_pack
from clausewatch.pipeline.run import Gathered, Run, execute
from clausewatch.pipeline.sources_file import SourcesConfig, load_sources
from clausewatch.reports import terminal
from clausewatch.reports.evidence_pack import PACK_ZIP
from clausewatch.reports.output import check_replaceable
from clausewatch.reports.pack_options import PackOptions
from clausewatch.reports.progress import CollectionProgress, StageProgress

NAME = "run"
log = logging.getLogger("clausewatch")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", action="store_true", help="run on the built-in synthetic estate")
    p.add_argument("--policy", type=Path, help="contract YAML")
    p.add_argument("--sources", type=Path, help="sources YAML: what to collect, how to reach it")
    add_as_of(p)
    p.add_argument(
        "--out",
        type=Path,
        help=f"output folder (demo default: ./{DEMO_OUT}; else the sources file's 'output', "
        f"else ./{LIVE_OUT})",
    )
    p.add_argument("--concurrency", type=int, help="collectors run at once (default 8)")
    p.add_argument("--portfolio", type=Path, metavar="YAML",
                   help="portfolio file: run each of its (contract, sources) pairs")
    p.add_argument("--shard", metavar="I/N",
                   help="with --portfolio: run only shard I of N (0-based; a Kubernetes "
                   "Indexed Job passes $JOB_COMPLETION_INDEX/<completions>)")
    add_report_options(p)
    add_history_args(p)


def run(args: argparse.Namespace) -> int:
    if args.portfolio:
        return run_portfolio(args, run_live)
    if args.shard:
        raise UsageError("--shard needs --portfolio")
    if args.demo:
        if args.policy or args.sources:
            raise UsageError("--demo runs on its own contract and estate: drop --policy/--sources")
        out = args.out or DEMO_OUT
        check_replaceable(out)
        return run_demo(parse_as_of(args.as_of), out, report_options(args, out),
                        console=console_for(args), progress=console_for(args, stderr=True),
                        quiet=quiet(args))
    if not (args.policy and args.sources):
        raise UsageError("run needs --policy and --sources (or --demo)")
    return run_live(args)


def run_live(args: argparse.Namespace) -> ExitCode:
    """Collect from the sources file's sources, evaluate the contract, write the outputs."""
    started = utc_now()
    as_of = parse_as_of(args.as_of)
    problems: list[Problem] = []
    contract: Contract | None = None
    sources: SourcesConfig | None = None
    try:
        contract, contract_bytes = read_contract(args.policy)
    except InputError as exc:
        problems += exc.problems
    try:
        sources = load_sources(args.sources)
    except InputError as exc:
        problems += exc.problems
    if problems or contract is None or sources is None:
        raise InputError(problems)
    nightly = nightly_for(args, sources)
    out = args.out or Path(sources.settings.get("output", LIVE_OUT))
    check_replaceable(out)  # before collecting for minutes
    keep_state_outside(out, nightly, args.pack_history)
    redactor = Redactor()
    config = sources
    words = Catalogue(pick_language(args.lang, contract.language))

    def gather(stage: Path | None) -> Gathered:
        context = BuildContext(
            as_of=as_of,
            raw=RawRecorder(stage, redactor),
            env=os.environ,
            base_dir=args.sources.resolve().parent,
            secrets=redactor,
        )
        collectors = config.build(context)
        with CollectionProgress(console_for(args, stderr=True), words) as progress:
            batch = collect_all(collectors, args.concurrency or config.concurrency, progress)
        return Gathered(
            evidence=batch.evidence,
            errors=batch.errors,
            inputs={"collectors": [f"{c.source} {c.origin}" for c in collectors],
                    **({"warnings": [w.text() for w in batch.warnings]} if batch.warnings else {})},
            secrets=tuple(redactor.known),
        )

    ev, info = execute(
        Run(
            command="run",
            contract=contract,
            contract_bytes=contract_bytes,
            as_of=as_of,
            started_at=started,
            gather=gather,
            inputs={"policy": str(args.policy), "sources": str(args.sources)},
            out=out,
            options=report_options(args, out),
            nightly=nightly,
        )
    )
    terminal.render(ev, console_for(args), quiet=quiet(args), lang=args.lang)
    archive_night(sources, out, ev, info)
    return exit_code_for(ev)


def archive_night(sources: SourcesConfig, out: Path, ev: Evaluation, info: RunInfo) -> None:
    """With ``archive: {s3: ...}`` in the sources file, lock tonight's pack in S3."""
    settings = sources.settings.get("archive", {}).get("s3")
    if settings is None:
        return
    archive = Archive.from_mapping(settings)
    done = archive_pack(archive, out / PACK_ZIP, contract_id=ev.contract.id,
                        run_id=info.run_id, as_of=ev.as_of,
                        contract_retention_days=ev.contract.evidence_retention_days)
    Console(stderr=True).print(
        f"Evidence pack archived to {done.url} ({done.mode} until {done.retain_until:%Y-%m-%d})",
        markup=False, highlight=False)


def run_demo(
    as_of: datetime,
    out: Path,
    options: PackOptions | None = None,
    *,
    console: Console | None = None,
    progress: Console | None = None,
    quiet: bool = False,
) -> ExitCode:
    """Evaluate the bundled French contract against the synthetic estate; write ``out``.
    ``progress``: where the stages are shown (stderr, only on a terminal)."""
    from clausewatch.demo.contract import LANGUAGE as DEMO_LANGUAGE
    from clausewatch.demo.run import demo_run  # the demo's estate is built only when asked

    console = console or Console()
    options = options or PackOptions()
    stages = Catalogue(pick_language(options.lang, DEMO_LANGUAGE))
    with StageProgress(progress or Console(stderr=True), stages) as stage:
        ev = execute(demo_run(as_of, out, options, stage))[0]
    terminal.render(ev, console, quiet=quiet, lang=options.lang)
    if not quiet:
        words = terminal.words_for(ev, options.lang)
        console.print(words.cat.t("summary_demo_written", path=out.resolve()), markup=False,
                      highlight=False, soft_wrap=True)
    return exit_code_for(ev)

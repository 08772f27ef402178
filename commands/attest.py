"""``clausewatch attest``: record a manual restore test or disaster-recovery exercise.

A person attests it (name and role) and gives the signed report; the report is hashed, copied
into the attestation store and recorded with its SHA-256 and size (``collectors/attestations``,
docs/attest.md). Every argument is checked first and every problem reported at once (exit 2):
nothing is written unless all are right, and the store is replaced whole or not at all.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clausewatch.collectors.attestations import store as att_store
from clausewatch.collectors.attestations.source import store_path
from clausewatch.commands.common import UsageError
from clausewatch.core.clock import iso_z, utc_now
from clausewatch.core.run import ExitCode
from clausewatch.pipeline.sources_file import load_sources

NAME = "attest"
EPILOG = (
    "example: clausewatch attest --sources sources.yaml --system si-morel "
    "--exercise dr_exercise --date 2026-11-14 --timezone Europe/Paris --outcome success "
    "--duration 3h20m --by 'C. Morel' --role DSI --report PV-PRA-2026.pdf"
)
#: An attestation later than now (beyond this clock skew) is refused.
SKEW = timedelta(minutes=5)
MAX_MINUTES = 5256000  # ten years, the contract schema's bound on an RTO
_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)\s*h(?:ours?)?)?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*(?:m|min|minutes?)?)?",
    re.IGNORECASE,
)
_ISO_DURATION = re.compile(r"PT(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?",
                           re.IGNORECASE)


def add_arguments(p: argparse.ArgumentParser) -> None:
    where = p.add_argument_group("where to record (one of)")
    where.add_argument("--store", type=Path, metavar="DIR", help="the attestation store folder")
    where.add_argument("--sources", type=Path, metavar="YAML",
                       help="a sources file: its 'attestations' entry names the store")
    where.add_argument("--source", metavar="NAME",
                       help="which 'attestations' entry of --sources (when it has several)")
    p.add_argument("--system", required=True,
                   help="the subject tested: a system declared in the attestations source, or "
                   "an asset another source reports (e.g. veeam:vbr01:srv-erp-01)")
    p.add_argument("--name", default="", help="a human name for the system")
    p.add_argument("--exercise", default="restore_test",
                   help="restore_test (default) or dr_exercise (a PRA exercise)")
    p.add_argument("--date", required=True,
                   help="when the test ended: YYYY-MM-DD (start of that day in --timezone) or "
                   "an ISO 8601 date-time with offset")
    p.add_argument("--timezone", help="IANA zone for a --date without offset (default UTC)")
    p.add_argument("--outcome", required=True, help="success, failure or partial")
    p.add_argument("--duration", help="how long the restore took, for an RTO: 95, 95m, 1h35m, "
                   "PT1H35M (minutes when no unit)")
    p.add_argument("--by", required=True, metavar="NAME", help="who attests")
    p.add_argument("--role", required=True, help="their role (RSSI, DSI, ...)")
    p.add_argument("--report", required=True, type=Path, metavar="FILE",
                   help="the signed report (PDF, ...): hashed and copied into the store")
    p.add_argument("--reference", default="", help="the report's reference (PV-PRA-2026-01)")
    p.add_argument("--note", default="", help="a short note")


@dataclass(frozen=True, slots=True)
class _Problems:
    items: list[str]

    def add(self, option: str, message: str) -> None:
        self.items.append(f"{option}: {message}")


def run(args: argparse.Namespace) -> int:
    problems = _Problems([])
    now = utc_now()
    completed = _completed_at(args.date, args.timezone, now, problems)
    duration = _duration(args.duration, problems)
    if args.outcome not in att_store.OUTCOMES:
        problems.add("--outcome", f"{args.outcome!r} is not one of "
                     f"{', '.join(att_store.OUTCOMES)}")
    if args.exercise not in att_store.EXERCISES:
        problems.add("--exercise", f"{args.exercise!r} is not one of "
                     f"{', '.join(att_store.EXERCISES)}")
    for option, value, required in (("--system", args.system, True), ("--by", args.by, True),
                                    ("--role", args.role, True), ("--name", args.name, False),
                                    ("--reference", args.reference, False),
                                    ("--note", args.note, False)):
        _text(option, value, required, problems)
    report = _report(args.report, problems)
    store = _store(args, problems)
    if problems.items or completed is None or report is None or store is None:
        raise UsageError("attest: nothing recorded:\n  " + "\n  ".join(problems.items))
    digest, size = report
    att_id = att_store.attestation_id(args.system, completed, digest)
    attestation = att_store.Attestation(
        id=att_id, system=args.system, name=args.name, exercise=args.exercise,
        completed_at=completed, outcome=args.outcome, duration_minutes=duration,
        attested_name=args.by.strip(), attested_role=args.role.strip(),
        report_path=f"{att_store.REPORTS}/{att_id}/{att_store.safe_name(args.report.name)}",
        report_sha256=digest, report_size=size, report_name=args.report.name,
        reference=args.reference, note=args.note, recorded_at=now,
    )
    try:
        att_store.record(store, attestation, args.report)
    except att_store.StoreError as exc:
        raise UsageError(f"attest: nothing recorded: {exc}") from exc
    except OSError as exc:
        raise UsageError(f"attest: cannot write the attestation store {store}: "
                         f"{exc.strerror or exc}; nothing recorded") from exc
    except KeyboardInterrupt:
        sys.stderr.write("clausewatch: attest: interrupted; nothing recorded\n")
        return 130
    sys.stdout.write(
        f"recorded {att_id}: {args.system} {args.exercise} {args.outcome} "
        f"{iso_z(completed)}, attested by {attestation.attested_by}\n"
        f"report {attestation.report_path} sha256 {digest} ({size} bytes)\n"
        f"store {store / att_store.FILE}\n"
    )
    return ExitCode.OK


def _completed_at(text: str, zone: str | None, now: datetime, problems: _Problems
                  ) -> datetime | None:
    tz: ZoneInfo | None = None
    if zone is not None:
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            problems.add("--timezone", f"{zone!r} is not an IANA time zone (e.g. Europe/Paris)")
            return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            value = datetime.combine(day, time(0), tzinfo=tz or UTC)
        else:
            value = datetime.fromisoformat(text)
            if value.tzinfo is None:
                if tz is None:
                    problems.add("--date", f"{text!r} has no UTC offset: add one (e.g. "
                                 f"{text}+01:00) or give --timezone")
                    return None
                value = value.replace(tzinfo=tz)
    except ValueError:
        problems.add("--date", f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time")
        return None
    value = value.astimezone(UTC)
    if value.year < 1970:
        problems.add("--date", f"{text!r} is before 1970")
        return None
    if value > now + SKEW:
        problems.add("--date", f"{text!r} is in the future (now {iso_z(now)}): attest a test "
                     "that took place")
        return None
    return value


def _duration(text: str | None, problems: _Problems) -> float | None:
    if text is None:
        return None
    cleaned = text.strip()
    match = _ISO_DURATION.fullmatch(cleaned) or _DURATION.fullmatch(cleaned)
    if not cleaned or match is None or not (match.group("h") or match.group("m")):
        problems.add("--duration", f"{text!r} is not a duration (95, 95m, 1h35m, PT1H35M)")
        return None
    minutes = float(match.group("h") or 0) * 60 + float(match.group("m") or 0)
    if not 0 < minutes <= MAX_MINUTES:
        problems.add("--duration", f"{text!r} must be more than 0 and at most {MAX_MINUTES} "
                     "minutes")
        return None
    return minutes


def _text(option: str, value: str, required: bool, problems: _Problems) -> None:
    if required and not value.strip():
        problems.add(option, "must not be empty")
    elif any(unicodedata.category(ch) == "Cc" for ch in value):
        problems.add(option, "must not contain control characters (line breaks, tabs)")
    elif len(value) > 512:
        problems.add(option, "is longer than 512 characters")


def _report(path: Path, problems: _Problems) -> tuple[str, int] | None:
    try:
        if not path.is_file():
            problems.add("--report", f"{path}: no such file" if not path.exists()
                         else f"{path}: not a regular file")
            return None
        size = path.stat().st_size
        if size == 0:
            problems.add("--report", f"{path}: the file is empty")
            return None
        if size > att_store.MAX_REPORT_BYTES:
            problems.add("--report", f"{path}: {size} bytes, more than the "
                         f"{att_store.MAX_REPORT_BYTES} accepted")
            return None
        return att_store.hash_file(path)
    except OSError as exc:
        problems.add("--report", f"{path}: cannot be read: {exc.strerror or exc}")
        return None


def _store(args: argparse.Namespace, problems: _Problems) -> Path | None:
    if (args.store is None) == (args.sources is None):
        problems.add("--store/--sources", "give exactly one: the store folder, or the sources "
                     "file whose 'attestations' entry names it")
        return None
    if args.store is not None:
        if args.source is not None:
            problems.add("--source", "goes with --sources, not --store")
        if args.store.exists() and not args.store.is_dir():
            problems.add("--store", f"{args.store}: not a folder")
            return None
        return Path(args.store)
    config = load_sources(args.sources)  # InputError (located, exit 2) if it is invalid
    entries = list(config.entries.get("attestations", ()))
    if args.source is not None:
        entries = [e for e in entries if e["name"] == args.source]
    if len(entries) != 1:
        names = [e["name"] for e in config.entries.get("attestations", ())]
        problems.add("--sources", f"{args.sources} has no 'attestations' entry named "
                     f"{args.source!r} (entries: {', '.join(names) or 'none'})"
                     if args.source is not None or not names else
                     f"{args.sources} has several 'attestations' entries ({', '.join(names)}): "
                     "pick one with --source")
        return None
    return store_path(entries[0], Path(args.sources).resolve().parent)

"""``restore_test``: each system had a successful restore test within the period (and RTO).

Attested tests (``clausewatch attest``: a person vouches for a restore test or a
disaster-recovery exercise, with a signed report) count like automated ones unless the
commitment says ``evidence: automated`` (or ``accept_attested: false``); the engine hands the
check only the evidence the commitment accepts. An attested test whose report is missing or
does not match its recorded SHA-256 (``report_problem``) never counts, and a system that would
be breached without it is ``no_evidence``: the test may have happened, nobody can show it.
Reasons and ``measured`` say "attested" whenever the verdict rests on an attestation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from clausewatch.checks.deadlines import add_days, age_days, deadline_status, fmt_day, whole
from clausewatch.checks.evidence_view import EvidenceView, is_attested
from clausewatch.checks.registry import CHECKS
from clausewatch.core.contract import Commitment
from clausewatch.core.evidence import Evidence, Kind
from clausewatch.core.result import Result, Status, message

PARAMS_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["period_days"],
    "properties": {
        "period_days": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 3650,
            "description": "A successful restore test is due within this many days of the last "
            "(more than 0, at most 3650).",
        },
        "max_duration_minutes": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 5256000,
            "description": "A test slower than this many minutes (the RTO) does not count as "
            "successful (more than 0, at most 5256000: ten years).",
        },
        "accept_attested": {
            "type": "boolean",
            "default": True,
            "description": "Whether tests attested by a person (not run by a tool) count.",
        },
    },
}


@CHECKS.register(
    "restore_test",
    evidence=[Kind.ASSET, Kind.RESTORE_TEST],
    params_schema=PARAMS_SCHEMA,
    summary="Per system, a successful restore test within the period, optionally within the RTO.",
)
def restore_test(commitment: Commitment, view: EvidenceView, as_of: datetime) -> Iterator[Result]:
    params = commitment.params
    period = float(params["period_days"])
    rto = params.get("max_duration_minutes")
    attested_ok = bool(params.get("accept_attested", True))
    tz = commitment.timezone
    expected: dict[str, Any] = {"period_days": period}
    if rto is not None:
        expected["max_duration_minutes"] = rto
    for system in view.assets(commitment.scope):
        label = str(system.facts.get("name") or system.subject)
        tests = view.about(Kind.RESTORE_TEST, system.subject)
        counted = [t for t in tests if _counts(t, rto, attested_ok)]
        base: dict[str, Any] = {
            "commitment_id": commitment.id,
            "subject": system.subject,
            "label": label,
            "expected": expected,
        }
        last = max(counted, key=lambda t: t.facts["completed_at"]) if counted else None
        unverified = _unverified(tests, last, attested_ok)
        if last is None:
            if unverified:
                yield _unverifiable(base, label, unverified, system, None, tz)
                continue
            yield Result(
                **base,
                status=Status.BREACHED,
                reason=f"{label}: no successful restore test on record{_why_not(tests, rto)}.",
                reason_id="restore_test.never",
                reason_params={"label": label, "why": _why_not_message(tests, rto)},
                measured={"tests_seen": len(tests)},
                evidence_ids=(system.id, *(t.id for t in tests[-5:])),
            )
            continue
        completed: datetime = last.facts["completed_at"]
        due = add_days(completed, period, tz)
        status = deadline_status(due, as_of, commitment.warning_days, tz)
        ago = age_days(completed, as_of)
        when = fmt_day(completed, tz)
        if status is Status.BREACHED:
            if unverified:
                yield _unverifiable(base, label, unverified, system, last, tz)
                continue
            reason = f"{label}: last successful restore test {when}, {ago:.0f} days ago " \
                f"(period {period:g} days)"
        elif status is Status.AT_RISK:
            reason = f"{label}: last restore test {when}; next one due by {fmt_day(due, tz)}"
        else:
            reason = f"{label}: restore test succeeded {when}"
        measured: dict[str, Any] = {
            "last_success": completed,
            "duration_minutes": last.facts.get("duration_minutes"),
            "method": last.facts.get("method"),
        }
        attested: dict[str, Any] | str = ""
        if is_attested(last):
            measured.update(_attestation(last))
            reason += f" ({_attested_by(last)})"
            attested = _attested_message(last)
        yield Result(
            **base,
            status=status,
            reason=reason + ".",
            reason_id={Status.BREACHED: "restore_test.late", Status.AT_RISK:
                       "restore_test.at_risk"}.get(status, "restore_test.ok"),
            reason_params={"label": label, "when": when, "ago": round(ago), "period": whole(period),
                           "due": fmt_day(due, tz), "attested": attested},
            measured=measured,
            evidence_ids=(system.id, last.id),
            due=due,
        )


def _attestation(test: Evidence) -> dict[str, Any]:
    """What ``measured`` says of an attested test: that it is one, by whom, on which report."""
    f = test.facts
    return {"attested": True, "attested_by": f.get("attested_by"),
            "report_sha256": f.get("report_sha256")}


def _attested_by(test: Evidence) -> str:
    """``attested by J. Martin (RSSI), report sha256 9f86d081…``."""
    f = test.facts
    who = f.get("attested_by") or "an unnamed person"
    digest = f.get("report_sha256")
    return f"attested by {who}" + (f", report sha256 {str(digest)[:12]}…" if digest else "")


def _attested_message(test: Evidence) -> dict[str, Any]:
    """`` (attested by …)`` as a message, for the reports in other languages."""
    f = test.facts
    text = f" ({_attested_by(test)})"
    who: Any = f.get("attested_by") or message("restore_test.unnamed", "an unnamed person")
    digest = f.get("report_sha256")
    if digest:
        return message("restore_test.attested_report", text, who=who, digest=str(digest)[:12])
    return message("restore_test.attested", text, who=who)


def _unverified(
    tests: Sequence[Evidence], last: Evidence | None, attested_ok: bool
) -> list[Evidence]:
    """Attested tests that cannot be trusted (report missing or altered) and that, were they
    sound, could change the verdict: newer than the last counted success."""
    if not attested_ok:
        return []
    return [
        t for t in tests
        if t.facts.get("report_problem") and is_attested(t)
        and (last is None or t.facts["completed_at"] > last.facts["completed_at"])
    ]


def _unverifiable(
    base: dict[str, Any], label: str, unverified: Sequence[Evidence], system: Evidence,
    last: Evidence | None, tz: ZoneInfo,
) -> Result:
    """``no_evidence``: the only tests that could make the system compliant are attestations
    whose report is missing or does not match its hash."""
    newest = max(unverified, key=lambda t: t.facts["completed_at"])
    when = fmt_day(newest.facts["completed_at"], tz)
    before = "" if last is None else \
        f"; the last verified success ({fmt_day(last.facts['completed_at'], tz)}) is too old"
    return Result(
        **base,
        status=Status.NO_EVIDENCE,
        reason=f"{label}: attested restore test of {when} cannot be verified "
        f"({newest.facts['report_problem']}){before}.",
        reason_id="restore_test.unverifiable",
        reason_params={
            "label": label, "when": when, "problem": str(newest.facts["report_problem"]),
            "before": "" if last is None else message(
                "restore_test.too_old", before, day=fmt_day(last.facts["completed_at"], tz)),
        },
        measured={"tests_seen": len(unverified), "attested": True,
                  "attested_by": newest.facts.get("attested_by"),
                  "report_sha256": newest.facts.get("report_sha256"),
                  "report_problem": newest.facts.get("report_problem")},
        evidence_ids=(system.id, *(t.id for t in unverified[-5:])),
    )


def _counts(test: Evidence, rto: float | None, attested_ok: bool) -> bool:
    f = test.facts
    if f.get("outcome") != "success":
        return False
    if is_attested(test) and (not attested_ok or f.get("report_problem")):
        return False
    if rto is None:
        return True
    duration = f.get("duration_minutes")
    return duration is not None and float(duration) <= float(rto)


def _why_not(tests: Sequence[Evidence], rto: float | None) -> str:
    """Why the tests on record do not count: too slow for the RTO, or none succeeded."""
    if not tests:
        return ""
    succeeded = [t for t in tests if t.facts.get("outcome") == "success"]
    if succeeded and rto is not None:
        untimed = sum(t.facts.get("duration_minutes") is None for t in succeeded)
        if untimed == len(succeeded):
            return f" within the {rto:g}-minute RTO ({untimed} succeeded, no duration recorded)"
        return f" within the {rto:g}-minute RTO ({len(succeeded)} succeeded but too slow)"
    return f" ({len(tests)} test(s), none successful)"


def _why_not_message(tests: Sequence[Evidence], rto: float | None) -> dict[str, Any] | str:
    """``_why_not`` as a message, for the reports in other languages."""
    text = _why_not(tests, rto)
    if not text:
        return ""
    succeeded = [t for t in tests if t.facts.get("outcome") == "success"]
    if succeeded and rto is not None:
        untimed = sum(t.facts.get("duration_minutes") is None for t in succeeded)
        if untimed == len(succeeded):
            return message("restore_test.untimed", text, n=untimed, rto=whole(rto))
        return message("restore_test.too_slow", text, n=len(succeeded), rto=whole(rto))
    return message("restore_test.none_ok", text, n=len(tests))

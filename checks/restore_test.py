"""``restore_test``: each system had a successful restore test within the period (and RTO)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from clausewatch.checks.deadlines import add_days, age_days, deadline_status, fmt_day, whole
from clausewatch.checks.evidence_view import EvidenceView
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
        if not counted:
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
        last = max(counted, key=lambda t: t.facts["completed_at"])
        completed: datetime = last.facts["completed_at"]
        due = add_days(completed, period, tz)
        status = deadline_status(due, as_of, commitment.warning_days, tz)
        ago = age_days(completed, as_of)
        when = fmt_day(completed, tz)
        if status is Status.BREACHED:
            reason = f"{label}: last successful restore test {when}, {ago:.0f} days ago " \
                f"(period {period:g} days)."
        elif status is Status.AT_RISK:
            reason = f"{label}: last restore test {when}; next one due by {fmt_day(due, tz)}."
        else:
            reason = f"{label}: restore test succeeded {when}."
        yield Result(
            **base,
            status=status,
            reason=reason,
            reason_id={Status.BREACHED: "restore_test.late", Status.AT_RISK:
                       "restore_test.at_risk"}.get(status, "restore_test.ok"),
            reason_params={"label": label, "when": when, "ago": round(ago), "period": whole(period),
                           "due": fmt_day(due, tz)},
            measured={
                "last_success": completed,
                "duration_minutes": last.facts.get("duration_minutes"),
                "method": last.facts.get("method"),
            },
            evidence_ids=(system.id, last.id),
            due=due,
        )


def _counts(test: Evidence, rto: float | None, attested_ok: bool) -> bool:
    f = test.facts
    if f.get("outcome") != "success":
        return False
    if not attested_ok and f.get("method") == "attested":
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
        return f" within the {rto:g}-minute RTO ({len(succeeded)} succeeded but too slow)"
    return f" ({len(tests)} test(s), none successful)"


def _why_not_message(tests: Sequence[Evidence], rto: float | None) -> dict[str, Any] | str:
    """``_why_not`` as a message, for the reports in other languages."""
    text = _why_not(tests, rto)
    if not text:
        return ""
    succeeded = [t for t in tests if t.facts.get("outcome") == "success"]
    if succeeded and rto is not None:
        return message("restore_test.too_slow", text, n=len(succeeded), rto=whole(rto))
    return message("restore_test.none_ok", text, n=len(tests))

"""``backup_freshness``: each in-scope resource has a successful backup younger than the RPO."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from clausewatch.checks.deadlines import add_hours, age_days, deadline_status, fmt_day, whole
from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.checks.registry import CHECKS
from clausewatch.core.contract import Commitment
from clausewatch.core.evidence import Evidence, Kind
from clausewatch.core.result import Result, Status, message

PARAMS_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rpo_hours"],
    "properties": {
        "rpo_hours": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 87600,
            "description": "Maximum age of the last successful backup (recovery point objective), "
            "in hours: more than 0, at most 87600 (ten years).",
        },
        "accept_warning": {
            "type": "boolean",
            "default": False,
            "description": "Whether a backup that completed with warnings (outcome partial: a "
            "Veeam session with result Warning, an AWS Backup job PARTIAL) counts as successful.",
        },
    },
}


@CHECKS.register(
    "backup_freshness",
    evidence=[Kind.ASSET, Kind.BACKUP],
    params_schema=PARAMS_SCHEMA,
    summary="Per in-scope resource, the last successful backup is younger than the RPO.",
)
def backup_freshness(
    commitment: Commitment, view: EvidenceView, as_of: datetime
) -> Iterator[Result]:
    rpo = float(commitment.params["rpo_hours"])
    accept_warning = bool(commitment.params.get("accept_warning", False))
    counted = ("success", "partial") if accept_warning else ("success",)
    tz = commitment.timezone
    expected: dict[str, Any] = {"rpo_hours": rpo}
    if accept_warning:
        expected["accept_warning"] = True
    for asset in view.assets(commitment.scope):
        label = str(asset.facts.get("name") or asset.subject)
        backups = view.about(Kind.BACKUP, asset.subject)
        ok = [b for b in backups if b.facts.get("outcome") in counted]
        failed = [b for b in backups if b.facts.get("outcome") not in counted]
        base: dict[str, Any] = {
            "commitment_id": commitment.id,
            "subject": asset.subject,
            "label": label,
            "expected": expected,
        }
        if not ok:
            note = _attempts(failed)
            yield Result(
                **base,
                status=Status.BREACHED,
                reason=f"{label}: in scope but never backed up successfully{note}.",
                reason_id="backup_freshness.never",
                reason_params={"label": label, "attempts": _attempts_message(failed, note)},
                measured={"last_success": None, "failed_attempts": len(failed)},
                evidence_ids=(asset.id, *(b.id for b in failed[-5:])),
            )
            continue
        last = max(ok, key=lambda b: b.facts["completed_at"])
        completed: datetime = last.facts["completed_at"]
        due = add_hours(completed, rpo)
        age_h = age_days(completed, as_of) * 24
        status = deadline_status(due, as_of, commitment.warning_days, tz)
        if status is Status.BREACHED:
            reason = f"{label}: last successful backup {age_h:.1f} h ago, RPO {rpo:g} h."
        elif status is Status.AT_RISK:
            reason = f"{label}: last backup {age_h:.1f} h ago, RPO reached {fmt_day(due, tz)}."
        else:
            reason = f"{label}: last successful backup {age_h:.1f} h ago (RPO {rpo:g} h)."
        warned = last.facts.get("outcome") == "partial"
        if warned:
            reason = reason[:-1] + ", completed with warnings (accepted)."
        yield Result(
            **base,
            status=status,
            reason=reason,
            reason_id={Status.BREACHED: "backup_freshness.late", Status.AT_RISK:
                       "backup_freshness.at_risk"}.get(status, "backup_freshness.ok"),
            reason_params={
                "label": label, "age_h": round(age_h, 1), "rpo": whole(rpo),
                "due": fmt_day(due, tz),
                "warnings": message("backup_freshness.with_warnings",
                                    ", completed with warnings (accepted)") if warned else "",
            },
            measured={"last_success": completed, "age_hours": round(age_h, 2)},
            evidence_ids=(asset.id, last.id),
            due=due,
        )


def _attempts(failed: list[Evidence]) -> str:
    """`` (2 failed attempt(s); 1 with warnings, not accepted)``, or nothing."""
    warned = sum(1 for b in failed if b.facts.get("outcome") == "partial")
    parts = [f"{len(failed) - warned} failed attempt(s)"] if len(failed) > warned else []
    if warned:
        parts.append(f"{warned} with warnings, not accepted (accept_warning: false)")
    return f" ({'; '.join(parts)})" if parts else ""


def _attempts_message(failed: list[Evidence], text: str) -> dict[str, Any] | str:
    """``_attempts`` as a message (ids and counts) for the reports in other languages."""
    if not text:
        return ""
    warned = sum(1 for b in failed if b.facts.get("outcome") == "partial")
    parts = []
    if len(failed) > warned:
        parts.append(message("backup_freshness.failed", "", n=len(failed) - warned))
    if warned:
        parts.append(message("backup_freshness.warned", "", n=warned))
    return message("backup_freshness.attempts", text, parts=parts)

"""``mfa_coverage``: the in-scope population has MFA enforced (or registered, if so agreed)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from clausewatch.checks.deadlines import add_days, age_days, deadline_status, fmt_day
from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.checks.registry import CHECKS
from clausewatch.core.contract import Commitment
from clausewatch.core.evidence import Evidence, Kind
from clausewatch.core.result import Result, Status

PARAMS_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "require": {
            "enum": ["enforced", "registered"],
            "default": "enforced",
            "description": "enforced: a policy forces MFA at sign-in; registered: a method exists.",
        },
        "freshness_days": {
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 2,
            "description": "Identity records older than this are stale: no_evidence.",
        },
        "grace_days": {
            "type": "number",
            "minimum": 0,
            "default": 0,
            "description": "Accounts created less than this ago are at_risk, not breached.",
        },
    },
}

DEFAULT_POPULATION: Mapping[str, Any] = {
    "privileged_only": False,
    "include_disabled": False,
    "include_guests": False,
    "include_service_accounts": False,
    "include_root": True,
    "include_shared_mailboxes": False,
    "break_glass": [],
}


def in_population(
    facts: Mapping[str, Any], subject: str, population: Mapping[str, Any]
) -> bool | None:
    """Whether an identity belongs to the commitment's population; None when the evidence
    cannot tell (a privileged-only population, and the source did not say who is privileged).

    An unknown ``enabled`` counts as enabled: an account is left out only on evidence.
    """
    pop = {**DEFAULT_POPULATION, **population}
    account = facts.get("account", "")
    if subject in pop["break_glass"] or account in pop["break_glass"]:
        return False
    if facts.get("enabled") is False and not pop["include_disabled"]:
        return False
    account_type = facts.get("account_type", "member")
    if account_type == "guest" and not pop["include_guests"]:
        return False
    if account_type == "service" and not pop["include_service_accounts"]:
        return False
    if account_type in ("shared_mailbox", "room") and not pop["include_shared_mailboxes"]:
        return False
    if account_type == "root" and not pop["include_root"]:
        return False
    if pop["privileged_only"]:
        privileged = facts.get("privileged")
        return None if privileged is None else bool(privileged)
    return True


@CHECKS.register(
    "mfa_coverage",
    evidence=[Kind.IDENTITY],
    params_schema=PARAMS_SCHEMA,
    summary="Share of the in-scope population with MFA enforced (or registered).",
)
def mfa_coverage(commitment: Commitment, view: EvidenceView, as_of: datetime) -> Iterator[Result]:
    params = commitment.params
    require = params.get("require", "enforced")
    freshness = float(params.get("freshness_days", 2))
    grace = float(params.get("grace_days", 0))
    expected = {"mfa": require}
    for ev in view.identities(commitment.scope):
        member = in_population(ev.facts, ev.subject, commitment.scope.population)
        if member is None:
            label = str(ev.facts.get("account") or ev.subject)
            yield Result(
                commitment_id=commitment.id,
                subject=ev.subject,
                label=label,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: {ev.source} does not say whether the account is privileged.",
                expected=expected,
                evidence_ids=(ev.id,),
            )
        elif member:
            yield _judge(commitment, ev, as_of, require, freshness, grace, expected)


def _judge(
    commitment: Commitment,
    ev: Evidence,
    as_of: datetime,
    require: str,
    freshness: float,
    grace: float,
    expected: Mapping[str, Any],
) -> Result:
    facts = ev.facts
    label = str(facts.get("account") or ev.subject)
    base: dict[str, Any] = {
        "commitment_id": commitment.id,
        "subject": ev.subject,
        "label": label,
        "expected": expected,
        "evidence_ids": (ev.id,),
    }
    age = age_days(ev.observed_at, as_of)
    if age > freshness:
        return Result(
            **base,
            status=Status.NO_EVIDENCE,
            reason=f"{label}: identity data is {age:.1f} days old (freshness limit {freshness:g}).",
            measured={"evidence_age_days": round(age, 2)},
        )
    value = facts.get("mfa_enforced") if require == "enforced" else facts.get("mfa_registered")
    if value is None:
        return Result(
            **base,
            status=Status.NO_EVIDENCE,
            reason=f"{label}: {ev.source} does not say whether MFA is {require}.",
            measured={},
        )
    measured = {
        "mfa_registered": facts.get("mfa_registered"),
        "mfa_enforced": facts.get("mfa_enforced"),
        "enforced_by": facts.get("mfa_enforced_by"),
    }
    if value:
        how = f" by {facts['mfa_enforced_by']}" if facts.get("mfa_enforced_by") else ""
        verb = f"enforced{how}" if require == "enforced" else "registered"
        return Result(
            **base, status=Status.COMPLIANT, reason=f"{label}: MFA {verb}.", measured=measured
        )
    why = "registered but not enforced" if facts.get("mfa_registered") else f"not {require}"
    created = facts.get("created_at")
    if grace > 0 and isinstance(created, datetime):
        due = add_days(created, grace, commitment.timezone)
        status = deadline_status(due, as_of, commitment.warning_days or grace, commitment.timezone)
        if status is not Status.BREACHED:
            return Result(
                **base,
                status=Status.AT_RISK,
                reason=f"{label}: MFA {why}; new account, due by "
                f"{fmt_day(due, commitment.timezone)}.",
                measured=measured,
                due=due,
            )
    priv = f" ({facts['privileged_reason']})" if facts.get("privileged_reason") else ""
    return Result(
        **base,
        status=Status.BREACHED,
        reason=f"{label}{priv}: MFA {why}.",
        measured=measured,
    )

"""``mfa_coverage``: the in-scope population has MFA enforced (or registered, or both, as agreed).

``require: enforced_and_registered`` asks for both: a user covered by an MFA policy but with no
method registered is enrolled by whoever first signs in with the password. It is compliant only
when both are known true, breached when either is known false, and no_evidence when the source
leaves one unknown and the other is not known false.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    "properties": {
        "require": {
            "enum": ["enforced", "registered", "enforced_and_registered"],
            "default": "enforced",
            "description": "enforced: a policy forces MFA at sign-in; registered: a method exists; "
            "enforced_and_registered: both (a user covered by a policy with no method registered "
            "can be enrolled by whoever holds the password).",
        },
        "freshness_days": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 3650,
            "default": 2,
            "description": "Identity records older than this many days (more than 0, at most "
            "3650) are stale: no_evidence.",
        },
        "grace_days": {
            "type": "number",
            "minimum": 0,
            "maximum": 3650,
            "default": 0,
            "description": "Accounts created less than this many days ago (0 to 3650) are "
            "at_risk, not breached.",
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
                reason=f"{label}: {ev.source} does not say whether the account is privileged"
                f"{_note(ev.facts, 'privileged_note')}.",
                reason_id="mfa_coverage.privileged_unknown",
                reason_params={"label": label, "source": ev.source,
                               "note": _note(ev.facts, "privileged_note")},
                expected=expected,
                evidence_ids=(ev.id,),
            )
        elif member:
            yield _judge(commitment, ev, as_of, require, freshness, grace, expected)


def _required(require: str, enforced: Any, registered: Any) -> bool | None:
    """Whether the agreed MFA requirement holds: True, False, or None when the evidence cannot
    tell (for both, a known false on either side is enough to say False)."""
    if require == "enforced":
        return None if enforced is None else bool(enforced)
    if require == "registered":
        return None if registered is None else bool(registered)
    if enforced is False or registered is False:
        return False
    if enforced is None or registered is None:
        return None
    return bool(enforced) and bool(registered)


def _why_not(require: str, enforced: Any, registered: Any, how: str) -> str:
    """What is missing, for a requirement known not to hold."""
    if require == "registered":
        return "not registered"
    if require == "enforced" or registered is None:
        return "registered but not enforced" if registered else "not enforced"
    if enforced is None:
        return "not registered (whether a policy enforces it is unknown)"
    if enforced:
        return f"enforced{how} but no method registered: whoever holds the password can enroll one"
    return "registered but not enforced" if registered else "neither enforced nor registered"


def _why_not_id(require: str, enforced: Any, registered: Any) -> str:
    """The message id of ``_why_not``'s text."""
    if require == "registered":
        why = "not_registered"
    elif require == "enforced" or registered is None:
        why = "registered_not_enforced" if registered else "not_enforced"
    elif enforced is None:
        why = "not_registered_unknown"
    elif enforced:
        why = "no_method"
    else:
        why = "registered_not_enforced" if registered else "neither"
    return f"mfa_coverage.why_{why}"


def _note(facts: Mapping[str, Any], key: str) -> str:
    """A source's own explanation of an unknown fact (``mfa_note``, ``privileged_note``)."""
    note = facts.get(key)
    return f" ({note})" if isinstance(note, str) and note else ""


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
            reason_id="mfa_coverage.stale",
            reason_params={"label": label, "age": round(age, 1), "limit": whole(freshness)},
            measured={"evidence_age_days": round(age, 2)},
        )
    enforced, registered = facts.get("mfa_enforced"), facts.get("mfa_registered")
    value = _required(require, enforced, registered)
    if value is None:
        unknown = [n for n, v in (("enforced", enforced), ("registered", registered)) if v is None]
        asked = unknown if require == "enforced_and_registered" else [require]
        return Result(
            **base,
            status=Status.NO_EVIDENCE,
            reason=f"{label}: {ev.source} does not say whether MFA is {' or '.join(asked)}"
            f"{_note(facts, 'mfa_note')}.",
            reason_id="mfa_coverage.unknown",
            reason_params={
                "label": label, "source": ev.source, "note": _note(facts, "mfa_note"),
                "asked": message("mfa_coverage.asked_" + ("both" if len(asked) > 1 else asked[0]),
                                 " or ".join(asked)),
            },
            measured={},
        )
    measured = {
        "mfa_registered": registered,
        "mfa_enforced": enforced,
        "enforced_by": facts.get("mfa_enforced_by"),
    }
    how = f" by {facts['mfa_enforced_by']}" if facts.get("mfa_enforced_by") else ""
    if value:
        verb = {
            "enforced": f"enforced{how}",
            "registered": "registered",
            "enforced_and_registered": f"enforced{how} and a method registered",
        }[require]
        by = message("mfa_coverage.how", how, by=facts["mfa_enforced_by"]) if how else ""
        verb_id = {"enforced": "enforced", "registered": "registered",
                   "enforced_and_registered": "both"}[require]
        return Result(
            **base, status=Status.COMPLIANT, reason=f"{label}: MFA {verb}.", measured=measured,
            reason_id="mfa_coverage.compliant",
            reason_params={"label": label,
                           "verb": message(f"mfa_coverage.verb_{verb_id}", verb, how=by)},
        )
    why = _why_not(require, enforced, registered, how)
    by = message("mfa_coverage.how", how, by=facts["mfa_enforced_by"]) if how else ""
    why_msg = message(_why_not_id(require, enforced, registered), why, how=by)
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
                reason_id="mfa_coverage.at_risk_new",
                reason_params={"label": label, "why": why_msg,
                               "due": fmt_day(due, commitment.timezone)},
                measured=measured,
                due=due,
            )
    priv = f" ({facts['privileged_reason']})" if facts.get("privileged_reason") else ""
    return Result(
        **base,
        status=Status.BREACHED,
        reason=f"{label}{priv}: MFA {why}.",
        reason_id="mfa_coverage.breached",
        reason_params={"label": label, "priv": priv, "why": why_msg},
        measured=measured,
    )

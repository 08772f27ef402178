"""A commitment's verdict as one sentence in the report's language.

The engine's ``Verdict.reason`` is an English sentence kept for results.json, logs and alerts.
The human-readable reports phrase the verdict again from its figures (status, measured share,
target, counts, due date) through the catalogue, so a French report reads in French with French
numbers. Nothing is re-judged: the status picks the sentence, the figures fill it in.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from clausewatch.core.result import Result, Status, Verdict
from clausewatch.history.standing import describe
from clausewatch.reports.i18n import Catalogue
from clausewatch.reports.view import ClauseRow, ReportView


def verdict_sentence(t: Catalogue, verdict: Verdict, tz: ZoneInfo, errors: int = 0) -> str:
    """The verdict for people; ``errors`` counts the collection errors bearing on it."""
    status = Status(verdict.status)
    c = {str(s): verdict.counts.get(str(s), 0) for s in Status}
    compliant, at_risk = c[Status.COMPLIANT], c[Status.AT_RISK]
    breached, unknown = c[Status.BREACHED], c[Status.NO_EVIDENCE]
    counted = compliant + at_risk + breached + unknown  # waived subjects leave the count
    if verdict.measured is None or counted == 0:
        if status is Status.WAIVED and c[Status.WAIVED]:
            return t.count("verdict_waived", c[Status.WAIVED])
        if errors:
            return t.count("verdict_nothing_errors", errors)
        return t.t("verdict_nothing")
    share = t.t(
        "verdict_share",
        measured=t.percent(verdict.measured),
        counted=t.count("n_subjects", counted),
        target=t.percent(verdict.target),
    )
    if status is Status.BREACHED:
        return t.count("verdict_breached", breached, share=share)
    if status is Status.NO_EVIDENCE:
        return t.count("verdict_undecided", unknown, share=share)
    if status is Status.AT_RISK and verdict.due is not None:
        return t.count("verdict_at_risk", at_risk, share=share, due=t.day(verdict.due, tz))
    if status is Status.COMPLIANT and unknown:
        return t.count("verdict_compliant_unknown", unknown, share=share)
    return t.t("verdict_compliant", share=share)


def since_text(t: Catalogue, view: ReportView, when: datetime | None) -> str:
    """``breached since 22 Aug 2026 (92 days)``: the start of a breach interval and its age."""
    if when is None:
        return ""
    if not view.history:
        return t.t("breach_since_unknown")
    if when >= view.as_of:
        return t.t("breach_since_tonight")
    days = int((view.as_of - when).total_seconds() // 86400)
    return t.t("breach_since", day=t.day(when, view.tz), duration=t.days(days))


def cost_text(t: Catalogue, row: ClauseRow) -> str:
    """What a clause costs so far this penalty period, its cap, and the nights not measured."""
    if not row.penalty:
        return t.t("cost_no_penalty")
    if row.cost is None:
        return t.t("cost_no_history")
    return describe(t, row.cost)
def is_attested(result: Result) -> bool:
    """Whether the subject's result rests on an attestation (``clausewatch attest``)."""
    return result.measured.get("attested") is True


def attested_mark(t: Catalogue, result: Result) -> str:
    """`` (attested)`` beside a result that rests on an attestation, else nothing."""
    return f" ({t.t('attested')})" if is_attested(result) else ""

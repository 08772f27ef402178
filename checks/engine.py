"""Evaluate a contract against evidence: pure, one clock (``as_of``), no I/O."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from clausewatch.checks.deadlines import fmt_day
from clausewatch.checks.evidence_view import EvidenceView, source_matches
from clausewatch.checks.registry import CHECKS, Registry
from clausewatch.core.clock import require_utc
from clausewatch.core.contract import Commitment, Contract
from clausewatch.core.evaluation import Evaluation, Outcome, WaiverState
from clausewatch.core.evidence import CollectionError, Evidence, origin_covers
from clausewatch.core.result import SEVERITY_ORDER, Result, Status, Verdict, message

#: A waiver accepts a known shortfall. It never hides missing evidence: a collection failure on
#: a waived subject stays ``no_evidence``, loudly.
WAIVABLE = frozenset({Status.BREACHED, Status.AT_RISK})


def evaluate(
    contract: Contract,
    evidence: Sequence[Evidence],
    errors: Sequence[CollectionError],
    as_of: datetime,
    registry: Registry = CHECKS,
) -> Evaluation:
    """Run every commitment's check over the evidence, then apply collection errors and waivers."""
    as_of = require_utc(as_of, "as_of")
    view = EvidenceView(evidence)
    origins = _subject_origins([*view.of_kind("asset"), *view.of_kind("identity")])
    waiver_hits: dict[int, list[str]] = {}
    outcomes = []
    for commitment in contract.commitments:
        spec = registry[commitment.check]
        results = list(spec.fn(commitment, view, as_of))
        relevant = [e for e in errors if bears_on(e, commitment, spec.evidence_kinds)]
        subject_kinds = spec.evidence_kinds.intersection({"asset", "identity"})
        results = _apply_errors(commitment, subject_kinds, results, relevant, origins)
        results = _apply_waivers(contract, commitment, results, as_of, waiver_hits)
        results.sort(key=_offender_key)
        outcomes.append(
            Outcome(
                commitment=commitment,
                verdict=make_verdict(commitment, results, relevant),
                results=tuple(results),
            )
        )
    return Evaluation(
        contract=contract,
        as_of=as_of,
        outcomes=tuple(outcomes),
        waivers=tuple(_waiver_states(contract, as_of, waiver_hits)),
        errors=tuple(errors),
        evidence_count=len(evidence),
    )


def bears_on(error: CollectionError, commitment: Commitment, kinds: frozenset[str]) -> bool:
    """Whether a collection error concerns what the commitment's check reads (``kinds``)."""
    return bool(kinds.intersection(error.kinds)) and source_matches(
        error.source, commitment.scope.sources
    )


def _subject_origins(inventory: Iterable[Evidence]) -> dict[str, set[tuple[str, str]]]:
    """Subject -> the (source, origin) pairs of the inventory records that name it.

    An empty origin ("everything from the source") is covered by an error with an empty origin.
    """
    origins: dict[str, set[tuple[str, str]]] = {}
    for ev in inventory:
        origins.setdefault(ev.subject, set()).add((ev.source, ev.origin))
    return origins


def _covers(
    error: CollectionError, subject_kinds: frozenset[str], seen: Iterable[tuple[str, str]]
) -> bool:
    """Whether a failure leaves this subject uncertain.

    A failure on records about subjects (patches, backups) covers every subject at its origin.
    A failure on the inventory itself covers only subjects that source reported: a server seen
    by EC2 is not made uncertain because the RDS listing next to it failed.
    """
    about_subjects = bool(set(error.kinds) - subject_kinds)
    return any(
        origin_covers(error.origin, origin) and (about_subjects or source == error.source)
        for source, origin in seen
    )


def _apply_errors(
    commitment: Commitment,
    subject_kinds: frozenset[str],
    results: list[Result],
    errors: Sequence[CollectionError],
    origins: Mapping[str, set[tuple[str, str]]],
) -> list[Result]:
    """A collection failure makes every subject it could have informed ``no_evidence``.

    Absence of records is no proof when the collector could not look, so even a breach found on
    partial data is reported as no_evidence (with the finding kept in the reason). An error on
    the inventory itself (``asset``, ``identity``) that covers no known subject becomes a result of
    its own: subjects may exist there that nobody saw, and that gap is never silent.
    """
    if not errors:
        return results
    out: list[Result] = []
    used: set[int] = set()
    for r in results:
        hits = [
            i
            for i, e in enumerate(errors)
            if _covers(e, subject_kinds, origins.get(r.subject, ()))
        ]
        if not hits:
            out.append(r)
            continue
        used.update(hits)
        first = errors[hits[0]]
        out.append(
            dataclasses.replace(
                r,
                status=Status.NO_EVIDENCE,
                reason=f"{first.source} could not collect {'/'.join(first.kinds)} in "
                f"{first.origin}: {first.message} (on partial data: {r.reason})",
                reason_id="engine.collection_error_partial",
                reason_params={
                    "source": first.source, "kinds": "/".join(first.kinds),
                    "origin": first.origin, "message": first.message,
                    "inner": message(r.reason_id, r.reason, **r.reason_params),
                },
            )
        )
    for i, e in enumerate(errors):
        if i not in used and subject_kinds.intersection(e.kinds):
            out.append(
                Result(
                    commitment_id=commitment.id,
                    subject=f"{e.source}:{e.origin}",
                    label=e.origin,
                    status=Status.NO_EVIDENCE,
                    reason=f"{e.source} could not collect {'/'.join(e.kinds)} in {e.origin}"
                    f"{' (' + e.operation + ')' if e.operation else ''}: {e.message}",
                    reason_id="engine.collection_error",
                    reason_params={
                        "source": e.source, "kinds": "/".join(e.kinds), "origin": e.origin,
                        "operation": f" ({e.operation})" if e.operation else "",
                        "message": e.message,
                    },
                    measured={"collection_error": e.id},
                )
            )
    return out


def _apply_waivers(
    contract: Contract,
    commitment: Commitment,
    results: list[Result],
    as_of: datetime,
    hits: dict[int, list[str]],
) -> list[Result]:
    """Waivers in force turn breached or at-risk subjects into ``waived``.

    A waiver names subjects by id, or by label (hostname, account name) when only one subject of
    the commitment carries that label: a second server tagged with the same name is not waived.
    """
    waivers = [
        (i, w)
        for i, w in enumerate(contract.waivers)
        if w.commitment == commitment.id and w.in_force(as_of, contract.timezone)
    ]
    if not waivers:
        return results
    labels = Counter(r.label for r in results)
    out = []
    for r in results:
        match = next(
            (
                (i, w)
                for i, w in waivers
                if r.subject in w.subjects or (labels[r.label] == 1 and r.label in w.subjects)
            ),
            None,
        )
        if match is None or r.status not in WAIVABLE:
            out.append(r)
            continue
        i, w = match
        hits.setdefault(i, []).append(r.subject)
        out.append(
            dataclasses.replace(
                r,
                status=Status.WAIVED,
                reason=f"Waived until {w.expires.isoformat()} (approved by {w.approver}: "
                f"{w.reason}); without it: {r.reason}",
                reason_id="engine.waived",
                reason_params={
                    "expires": w.expires.isoformat(), "approver": w.approver, "reason": w.reason,
                    "inner": message(r.reason_id, r.reason, **r.reason_params),
                },
                waiver={
                    "reason": w.reason,
                    "approver": w.approver,
                    "expires": w.expires.isoformat(),
                    "reference": w.reference,
                    "status_without_waiver": str(r.status),
                },
            )
        )
    return out


def _waiver_states(
    contract: Contract, as_of: datetime, hits: Mapping[int, list[str]]
) -> Iterable[WaiverState]:
    for i, w in enumerate(contract.waivers):
        if w.in_force(as_of, contract.timezone):
            status = "in_force"
        elif as_of >= w.end(contract.timezone):
            status = "expired"
        else:
            status = "not_yet"
        yield WaiverState(waiver=w, status=status, applied_to=tuple(hits.get(i, ())))


def _offender_key(r: Result) -> tuple[Any, ...]:
    due = r.due.timestamp() if r.due is not None else float("inf")
    return (SEVERITY_ORDER[r.status], due, r.subject)


def _unusable_number(commitment: Commitment) -> str | None:
    """What makes the commitment's numbers unusable: a target that is not a finite share from
    0 to 1, or a parameter (at any depth) or warning period that is not finite."""
    target = commitment.target
    if not (isinstance(target, int | float) and math.isfinite(target) and 0 <= target <= 1):
        return f"The target {target!r} is not a share from 0 to 1"
    if not math.isfinite(commitment.warning_days):
        return f"warning_days {commitment.warning_days!r} is not a finite number"
    stack: list[tuple[str, Any]] = [("params", commitment.params)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return f"{where} {value!r} is not a finite number"
        if isinstance(value, Mapping):
            stack.extend((f"{where}.{k}", v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
    return None


def make_verdict(
    commitment: Commitment, results: Sequence[Result], errors: Sequence[CollectionError] = ()
) -> Verdict:
    """The commitment's verdict from its subjects' results.

    Waived subjects leave the count. With ``ok`` = compliant + at risk and ``n`` the rest, the
    share lies between ``ok/n`` (every unknown subject failing) and ``(ok+unknown)/n`` (every
    unknown passing). Compliant needs the lower bound to meet the target; breached needs the
    upper bound to miss it; anything in between is ``no_evidence``: undecided, never compliant.

    It fails closed: a target that is not a finite share from 0 to 1, or a parameter that is
    not finite (the loader refuses both, but a commitment may be built by hand), gives
    ``no_evidence``; every comparison is written so that a NaN on either side can only ever
    keep the verdict from compliant.
    """
    counts = Counter(str(r.status) for r in results)
    full = {str(s): counts.get(str(s), 0) for s in Status}
    target = commitment.target
    unusable = _unusable_number(commitment)
    if unusable:
        return Verdict(
            commitment_id=commitment.id,
            status=Status.NO_EVIDENCE,
            measured=None,
            target=target if isinstance(target, int | float) and math.isfinite(target) else 1.0,
            counts=full,
            reason=f"{unusable}: no verdict can be given (the contract must be corrected).",
        )
    compliant = full[Status.COMPLIANT]
    at_risk = full[Status.AT_RISK]
    unknown = full[Status.NO_EVIDENCE]
    counted = compliant + at_risk + full[Status.BREACHED] + unknown
    tz = commitment.timezone
    if counted == 0:
        if full[Status.WAIVED]:
            return Verdict(
                commitment_id=commitment.id,
                status=Status.WAIVED,
                measured=None,
                target=target,
                counts=full,
                reason=f"All {full[Status.WAIVED]} subject(s) in scope are waived.",
            )
        return Verdict(
            commitment_id=commitment.id,
            status=Status.NO_EVIDENCE,
            measured=None,
            target=target,
            counts=full,
            reason="No subject in scope had evidence"
            + (f"; {len(errors)} collection error(s)." if errors else "."),
        )
    lower = (compliant + at_risk) / counted
    upper = (compliant + at_risk + unknown) / counted
    firm = compliant / counted
    due_dates = [r.due for r in results if r.status is Status.AT_RISK and r.due is not None]
    due = min(due_dates) if due_dates else None
    pct = f"{lower:.1%} of {counted} subject(s) compliant, target {target:.0%}"
    # Each test is phrased so that a NaN (all comparisons false) falls to the safer branch.
    if upper < target:
        status, reason = Status.BREACHED, f"{pct}: {full[Status.BREACHED]} breached."
    elif not lower >= target:
        status = Status.NO_EVIDENCE
        reason = f"{pct}: undecided, {unknown} subject(s) without usable evidence."
    elif not firm >= target and due is not None:
        status = Status.AT_RISK
        reason = f"{pct}: {at_risk} subject(s) fall due, first by {fmt_day(due, tz)}."
    else:
        status, reason = Status.COMPLIANT, f"{pct}."
        if unknown:
            reason = f"{pct}; {unknown} subject(s) without evidence cannot change it."
    return Verdict(
        commitment_id=commitment.id,
        status=status,
        measured=lower,
        target=target,
        counts=full,
        reason=reason,
        due=due,
    )

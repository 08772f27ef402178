"""Evaluate a contract against evidence: pure, one clock (``as_of``), no I/O."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clausewatch.checks.deadlines import fmt_day
from clausewatch.checks.evidence_view import EvidenceView, source_matches
from clausewatch.checks.labels import unique_labels
from clausewatch.checks.registry import CHECKS, Registry
from clausewatch.core.clock import require_utc
from clausewatch.core.contract import Commitment, Contract, fact_matches
from clausewatch.core.errortext import error_summary
from clausewatch.core.evaluation import Evaluation, Outcome, WaiverState
from clausewatch.core.evidence import CollectionError, Evidence, origin_covers, subject_under
from clausewatch.core.gc_policy import paused
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
    # The view's indexes hold a million records, built as the checks start: every collection
    # would traverse them all while the checks allocate findings and results (a third of the
    # engine's time on a million records). Judging is pure and bounded: refcounting frees it.
    with paused():
        return _evaluate(contract, evidence, errors, as_of, registry)


def _evaluate(
    contract: Contract,
    evidence: Sequence[Evidence],
    errors: Sequence[CollectionError],
    as_of: datetime,
    registry: Registry,
) -> Evaluation:
    as_of = require_utc(as_of, "as_of")
    view = EvidenceView(evidence)
    # Who reported each subject matters only to collection errors: without any, not built.
    origins = _subject_origins([*view.of_kind("asset"), *view.of_kind("identity")]) \
        if errors else {}
    waiver_hits: dict[int, list[str]] = {}
    outcomes = []
    for commitment in contract.commitments:
        spec = registry[commitment.check]
        results = unique_labels(list(spec.fn(commitment, view.accepting(commitment.evidence),
                                             as_of)))
        relevant = [e for e in errors if bears_on(e, commitment, spec.evidence_kinds)]
        subject_kinds = spec.evidence_kinds.intersection({"asset", "identity"})
        results, applied = _apply_errors(commitment, subject_kinds, results, relevant, origins)
        results = _apply_waivers(contract, commitment, results, as_of, waiver_hits)
        results.sort(key=_offender_key)
        outcomes.append(
            Outcome(
                commitment=commitment,
                verdict=make_verdict(commitment, results, applied),
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
    """Whether the commitment's scope could include something the error covered.

    The error must concern a kind the check reads (``kinds``) from a source in scope, and what
    it says of everything it covered must not put that outside the scope: asset kinds the
    scope does not list, a tag or fact the scope requires with another value, or one it
    excludes (see docs/errors.md). What the error does not say, it could have covered. A
    failure to read attestations (``details.evidence == "attested"``) does not concern a
    commitment that accepts only automated evidence.
    """
    if commitment.evidence == "automated" and error.details.get("evidence") == "attested":
        return False
    scope = commitment.scope
    if not kinds.intersection(error.kinds) or not source_matches(error.source, scope.sources):
        return False
    if error.asset_kinds and scope.asset_kinds and not set(error.asset_kinds) & set(
        scope.asset_kinds
    ):
        return False
    tags = error.tags
    if any(k in tags and str(tags[k]) != str(v) for k, v in scope.tags.items()):
        return False
    if any(k in tags and str(tags[k]) == str(v) for k, v in scope.exclude_tags.items()):
        return False
    facts = dict(error.facts)
    if error.asset_kinds:
        facts["asset_kind"] = list(error.asset_kinds)
    if any(k in facts and not fact_matches(facts[k], v) for k, v in scope.facts.items()):
        return False
    return not any(
        k in error.facts and fact_matches(error.facts[k], v) for k, v in scope.exclude_facts.items()
    )


@dataclass(frozen=True, slots=True)
class _Seen:
    """One inventory record naming a subject: where it came from and what it is."""

    source: str
    origin: str
    asset_kind: str | None
    facts: Mapping[str, Any]


def _subject_origins(inventory: Iterable[Evidence]) -> dict[str, list[_Seen]]:
    """Subject -> the inventory records that name it (source, origin, asset kind, facts).

    An empty origin ("everything from the source") is covered by an error with an empty origin.
    """
    origins: dict[str, list[_Seen]] = {}
    for ev in inventory:
        kind = ev.facts.get("asset_kind") if ev.kind == "asset" else None
        seen = _Seen(ev.source, ev.origin, kind if isinstance(kind, str) else None, ev.facts)
        origins.setdefault(ev.subject, []).append(seen)
    return origins


def _unlike(error: CollectionError, facts: Mapping[str, Any]) -> bool:
    """Whether the record reports a tag or fact with another value than every subject the
    error covered has (what the record does not report, the error may have covered)."""
    tags = facts.get("tags")
    tags = tags if isinstance(tags, Mapping) else {}
    if any(k in tags and str(tags[k]) != str(v) for k, v in error.tags.items()):
        return True
    return any(
        facts.get(k) is not None and not fact_matches(facts.get(k), v)
        for k, v in error.facts.items()
    )


def _covers(
    error: CollectionError, subject_kinds: frozenset[str], subject: str, seen: Iterable[_Seen]
) -> bool:
    """Whether a failure leaves this subject uncertain.

    A failure on records about subjects (patches, backups) covers every subject at its origin;
    a failure on the inventory itself covers only subjects that source reported (a server seen
    by EC2 is not made uncertain because the RDS listing next to it failed). Either way only
    subjects of its asset kinds, and, for a subject-level error (``error.subject``, or an
    origin one segment below the subject's naming it), that subject alone.
    """
    about_subjects = bool(set(error.kinds) - subject_kinds)
    wanted = error.subject.casefold()
    for s in seen:
        if not (about_subjects or s.source == error.source):
            continue
        if error.asset_kinds and s.asset_kind not in error.asset_kinds:
            continue
        if (error.tags or error.facts) and _unlike(error, s.facts):
            continue
        if wanted:
            if subject.casefold() == wanted and (
                origin_covers(error.origin, s.origin) or origin_covers(s.origin, error.origin)
            ):
                return True
        elif origin_covers(error.origin, s.origin) or subject_under(
            error.origin, s.origin, subject
        ):
            return True
    return False


def _apply_errors(
    commitment: Commitment,
    subject_kinds: frozenset[str],
    results: list[Result],
    errors: Sequence[CollectionError],
    origins: Mapping[str, list[_Seen]],
) -> tuple[list[Result], list[CollectionError]]:
    """A collection failure makes every subject it could have informed ``no_evidence``.

    Absence of records is no proof when the collector could not look, so even a breach found on
    partial data is reported as no_evidence (with the finding kept in the reason). An error on
    the inventory itself (``asset``, ``identity``) that covers no known subject becomes a result of
    its own: subjects may exist there that nobody saw, and that gap is never silent. Such a
    placeholder is unique per (commitment, error) and says exactly what the error covered.

    Returns the results and the errors that changed them.
    """
    if not errors:
        return results, []
    out: list[Result] = []
    used: set[int] = set()
    for r in results:
        seen = origins.get(r.subject, ())
        hits = [i for i, e in enumerate(errors) if _covers(e, subject_kinds, r.subject, seen)]
        if not hits:
            out.append(r)
            continue
        used.update(hits)
        first = errors[hits[0]]
        more = f" (and {len(hits) - 1} more error(s))" if len(hits) > 1 else ""
        out.append(
            dataclasses.replace(
                r,
                status=Status.NO_EVIDENCE,
                reason=f"{first.source} could not collect {first.what}: {error_summary(first)}"
                f"{more} (on partial data: {r.reason})",
                reason_id="engine.collection_error_partial",
                reason_params={
                    "source": first.source, "what": _what(first),
                    "message": error_summary(first),
                    "more": message("engine.more_errors", more, n=len(hits) - 1) if more else "",
                    "inner": message(r.reason_id, r.reason, **r.reason_params),
                },
            )
        )
    taken = {r.subject for r in out}
    known = {s.casefold() for s in origins}
    for i, e in enumerate(errors):
        if i in used or not subject_kinds.intersection(e.kinds):
            continue
        if e.subject and e.subject.casefold() in known:
            continue  # a subject seen, and out of this commitment's scope
        subject = e.id
        n = 1
        while subject in taken:
            n += 1
            subject = f"{e.id}#{n}"
        taken.add(subject)
        used.add(i)
        out.append(
            Result(
                commitment_id=commitment.id,
                subject=subject,
                label=e.subject or e.origin or e.source,
                status=Status.NO_EVIDENCE,
                reason=f"{e.source} could not collect {e.what}"
                f"{' (' + e.operation + ')' if e.operation else ''}: {error_summary(e)}",
                reason_id="engine.collection_error",
                reason_params={
                    "source": e.source, "what": _what(e),
                    "operation": f" ({e.operation})" if e.operation else "",
                    "message": error_summary(e),
                },
                measured={"collection_error": e.id},
            )
        )
    return out, [e for i, e in enumerate(errors) if i in used]


def _what(error: CollectionError) -> dict[str, Any]:
    """``CollectionError.what`` as a message (kinds, and the subject or origin they were in)."""
    kinds = "/".join(error.kinds)
    if error.asset_kinds:
        kinds += f" ({', '.join(error.asset_kinds)})"
    if error.subject:
        return message("engine.what_subject", error.what, kinds=kinds, subject=error.subject,
                       origin=error.origin)
    if error.origin:
        return message("engine.what", error.what, kinds=kinds, origin=error.origin)
    return message("engine.what_anywhere", error.what, kinds=kinds)


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

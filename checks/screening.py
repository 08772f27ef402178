"""What every check's results go through: evidence that cannot be judged is ``no_evidence``.

The registry wraps each registered check with :func:`screened`, so a check (and any check
added later) cannot forget either rule (``docs/evidence.md``):

* **Scope that facts cannot tell.** An asset that does not report a fact its commitment's
  scope names (``scope.facts`` or ``scope.exclude_facts``) may or may not be in scope: it is a
  subject of its own, ``no_evidence``, "no `os` fact: cannot tell whether in scope".
* **Observed in the future.** A record with a timestamp later than the run's ``as_of`` by more
  than ``CLOCK_SKEW`` (``observed_at`` or any timestamp fact its kind declares:
  ``patch_assessed_at``, ``completed_at``, ``installed_at``...) is never judged fresh: every
  subject it bears on is ``no_evidence`` with the reason, the finding on the rest kept. A record
  holding a non-finite number (NaN, ±Infinity: a live collector's, since the JSON Lines reader
  refuses them) likewise: no comparison with it can be trusted.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from clausewatch.checks.evidence_view import SUBJECT_KINDS, EvidenceView, source_matches
from clausewatch.core.clock import require_utc
from clausewatch.core.contract import Commitment
from clausewatch.core.evidence import Evidence, Kind
from clausewatch.core.limits import CLOCK_SKEW
from clausewatch.core.result import Result, Status, message
from clausewatch.core.subjects import subject_key

CheckFn = Callable[[Commitment, EvidenceView, datetime], Iterable[Result]]


def screened(fn: CheckFn, kinds: frozenset[str]) -> CheckFn:
    """``fn`` with the two rules of the module docstring applied to its results."""

    @functools.wraps(fn)
    def check(commitment: Commitment, view: EvidenceView, as_of: datetime) -> Iterator[Result]:
        results = list(fn(commitment, view, as_of))
        if Kind.ASSET in kinds and (commitment.scope.facts or commitment.scope.exclude_facts):
            seen = {subject_key(r.subject) for r in results}
            results.extend(
                _undecided(commitment, asset, why)
                for asset, why in view.undecided(commitment.scope)
                if subject_key(asset.subject) not in seen
            )
        yield from _unjudgeable(commitment, kinds, view, results, require_utc(as_of, "as_of"))

    return check


def _undecided(commitment: Commitment, asset: Evidence, why: str) -> Result:
    label = str(asset.facts.get("name") or asset.subject)
    return Result(
        commitment_id=commitment.id,
        subject=asset.subject,
        label=label,
        status=Status.NO_EVIDENCE,
        reason=f"{label}: {why}.",
        reason_id="screening.undecided",
        reason_params={"label": label, "why": why},
        measured={"scope_undecided": why},
        evidence_ids=(asset.id,),
    )


def _unjudgeable(
    commitment: Commitment,
    kinds: frozenset[str],
    view: EvidenceView,
    results: list[Result],
    as_of: datetime,
) -> Iterator[Result]:
    flawed = [(kind, view.flawed(kind, as_of)) for kind in sorted(kinds)]
    flawed = [(kind, found) for kind, found in flawed if found]
    if not flawed:
        yield from results
        return
    sources = commitment.scope.sources
    for r in results:
        key = subject_key(r.subject)
        hits = [
            (ev, fields)
            for kind, found in flawed
            for ev, fields in found.get(key, ())
            if kind not in SUBJECT_KINDS or source_matches(ev.source, sources)
        ]
        if not hits:
            yield r
            continue
        ev, problems = hits[0]
        more = f"; and {len(hits) - 1} more record(s)" if len(hits) > 1 else ""
        skew = f"{CLOCK_SKEW.total_seconds() / 60:g}"
        what = "; ".join(
            f"{p} (later than this run's as_of {as_of.isoformat()} + {skew} min allowed clock "
            "skew), so it cannot be judged fresh" if p.startswith("observed in the future")
            else p
            for p in problems
        )
        yield dataclasses.replace(
            r,
            status=Status.NO_EVIDENCE,
            reason=f"{r.label or r.subject}: {ev.source} {ev.kind} record {ev.id}: {what}{more} "
            f"(on the rest: {r.reason})",
            reason_id="screening.unjudgeable",
            reason_params={
                "label": r.label or r.subject, "source": ev.source, "kind": str(ev.kind),
                "record": ev.id, "what": what,
                "more": message("screening.more_records", more, n=len(hits) - 1) if more else "",
                "inner": message(r.reason_id, r.reason, **r.reason_params),
            },
            measured={**r.measured, "unjudgeable": [e.id for e, _ in hits]},
            evidence_ids=tuple(dict.fromkeys((*r.evidence_ids, *(e.id for e, _ in hits)))),
            due=None,
        )

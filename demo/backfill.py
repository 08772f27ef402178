"""The demo's past: back-fill nights of synthetic history so period reports show something real.

Each night ``k`` before ``as_of`` runs the real pipeline (``build_estate`` + ``evaluate``) on the
demo estate as it stood that night, varied deterministically so that things happen: each
missing patch and each account without MFA has its own rhythm of breach and cure (it is always
in its current state tonight), and the Graph collector fails on some nights (a collection error
that must not cure anything). The same ``as_of`` always gives the same history.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from clausewatch.checks.engine import evaluate
from clausewatch.core.contract import Contract
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import (
    CollectionError,
    Evidence,
    Kind,
    default_evidence_id,
)
from clausewatch.core.kinds import KINDS
from clausewatch.core.run import RunInfo, tool_version
from clausewatch.demo.estate import TENANT, Estate, build_estate
from clausewatch.history.store import Delivery, HistoryStore, Prior

NIGHTS = 90
OUTAGE_EVERY, OUTAGE_PHASE = 23, 11  # the Graph collector fails on nights k % 23 == 11

OnNight = Callable[[Prior, Evaluation, RunInfo], Sequence[Delivery]]


@functools.lru_cache(maxsize=4096)
def _rhythm(key: str) -> tuple[int, int, int]:
    """(cycle, episode length, offset) in nights, from a stable hash of ``key``."""
    h = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)
    cycle = 18 + h % 40
    length = 3 + (h >> 8) % max(1, int(cycle * 0.6))
    return cycle, length, (h >> 20) % length


def in_episode(key: str, k: int) -> bool:
    """Whether the finding ``key`` is out of compliance ``k`` nights ago (always at ``k`` = 0)."""
    cycle, length, offset = _rhythm(key)
    return (k + offset) % cycle < length


def may_vary(e: Evidence) -> bool:
    """Whether ``vary`` may fix the record on some night: a missing or failed patch, or an
    enabled member account without MFA enforced (break-glass accounts excepted). Shifting a
    record's instants changes none of what this reads."""
    facts = e.facts
    if e.kind == Kind.PATCH:
        return facts.get("state") in ("missing", "failed")
    return bool(
        e.kind == Kind.IDENTITY
        and facts.get("enabled")
        and facts.get("account_type") == "member"
        and facts.get("mfa_enforced") is False
        and not e.subject.startswith("bg-admin")
    )


def vary(
    evidence: Sequence[Evidence], errors: Sequence[CollectionError], k: int, night: datetime,
    candidates: Iterable[int] | None = None,
) -> tuple[list[Evidence], list[CollectionError]]:
    """The estate of night ``k`` with findings outside their episode fixed, plus outages.
    ``candidates``: the positions of the records ``may_vary`` may hold for (default: all)."""
    if k == 0:
        return list(evidence), list(errors)
    out = list(evidence)
    for i in range(len(out)) if candidates is None else candidates:
        e = out[i]
        if not may_vary(e):
            continue
        facts = e.facts
        if e.kind == Kind.PATCH:
            if not in_episode(f"{e.subject}|{facts.get('update_id')}", k):
                installed = min(facts["released_at"] + timedelta(days=1), night)
                out[i] = dataclasses.replace(
                    e, facts={**facts, "state": "installed", "installed_at": installed}
                )
        elif not in_episode(e.subject, k):
            out[i] = dataclasses.replace(
                e,
                facts={**facts, "mfa_enforced": True, "mfa_registered": True,
                       "mfa_enforced_by": "CA001 Require MFA for all users"},
            )
    errs = list(errors)
    if k % OUTAGE_EVERY == OUTAGE_PHASE:
        errs.append(
            CollectionError(
                source="entra",
                origin=f"entra/{TENANT}",
                kinds=(Kind.IDENTITY,),
                operation="GET /reports/authenticationMethods/userRegistrationDetails",
                message="HTTP 503 Service Unavailable after 5 attempts (Graph throttling)",
                occurred_at=night - timedelta(hours=2),
                retryable=True,
            )
        )
    return out, errs


class EstateCache:
    """``build_estate(night)`` for many nights, built once per calendar year and shifted.

    The demo estate is generated relative to its ``as_of`` from a fixed seed: the records of
    two nights differ only by the shift of every instant (and by the year in generated advisory
    ids, hence one build per year). Shifting is about four times cheaper than building;
    ``tests/history/test_demo_history.py`` checks the two agree record for record.
    """

    def __init__(self, built: tuple[datetime, Estate] | None = None) -> None:
        """``built``: an estate already built (tonight's) and its night, the base of its year."""
        self._base: dict[int, tuple[datetime, Estate, list[_Plan], tuple[int, ...]]] = {}
        if built is not None:
            self._add(*built)

    def estate(self, night: datetime) -> tuple[list[Evidence], list[CollectionError]]:
        at, base, plans, _ = self._built(night)
        delta = night - at
        if not delta:
            return list(base.evidence), list(base.errors)
        return (
            [_shift_evidence(e, delta, plan) for e, plan in zip(base.evidence, plans, strict=True)],
            [dataclasses.replace(x, occurred_at=x.occurred_at + delta if x.occurred_at else None)
             for x in base.errors],
        )

    def may_vary(self, night: datetime) -> tuple[int, ...]:
        """The positions in ``estate(night)`` of the records ``may_vary`` holds for."""
        return self._built(night)[3]

    def _built(self, night: datetime) -> tuple[datetime, Estate, list[_Plan], tuple[int, ...]]:
        if night.year not in self._base:
            self._add(night, build_estate(night))
        return self._base[night.year]

    def _add(self, night: datetime, built: Estate) -> None:
        self._base[night.year] = (
            night, built, [_plan(e) for e in built.evidence],
            tuple(i for i, e in enumerate(built.evidence) if may_vary(e)),
        )


#: Per kind, its timestamp facts: in a built ``Evidence`` the only facts holding datetimes
#: (``core.evidence``: an undeclared datetime fact is made text).
_STAMPS: dict[str, tuple[str, ...]] = {k.name: k.timestamp_facts for k in KINDS}
_FIELDS = ("id", "kind", "source", "subject", "observed_at", "facts", "origin", "raw_ref")
if tuple(f.name for f in dataclasses.fields(Evidence)) != _FIELDS:
    raise RuntimeError("Evidence's fields changed: update _shift_evidence")
_ID, _KIND, _SOURCE, _SUBJECT, _OBSERVED_AT, _FACTS, _ORIGIN, _RAW_REF = (
    getattr(Evidence, name).__set__ for name in _FIELDS
)
#: A base record's shift, worked out once: the facts holding instants, and whether its id
#: carries one (backups and restore tests: their ids name the completion time).
_Plan = tuple[tuple[str, ...], bool]


def _plan(e: Evidence) -> _Plan:
    stamps = tuple(k for k in _STAMPS.get(e.kind, ()) if isinstance(e.facts.get(k), datetime))
    return stamps, e.kind in (Kind.BACKUP, Kind.RESTORE_TEST)


def _shift_evidence(e: Evidence, delta: timedelta, plan: _Plan | None = None) -> Evidence:
    """``e`` with every instant moved by ``delta`` (``plan``: ``_plan(e)``, worked out once).

    ``e`` was built (and checked) by ``Evidence``; moving its UTC instants keeps them UTC and
    its datetimes where they are, so the copy is made without the constructor's checks,
    which would change nothing (``tests/history/test_demo_history.py`` compares with a build).
    """
    stamps, moved = plan or _plan(e)
    facts = dict(e.facts)
    for key in stamps:
        facts[key] += delta
    shifted: Evidence = object.__new__(Evidence)
    _ID(shifted, default_evidence_id(e.kind, e.source, e.subject, facts) if moved else e.id)
    _KIND(shifted, e.kind)
    _SOURCE(shifted, e.source)
    _SUBJECT(shifted, e.subject)
    _OBSERVED_AT(shifted, e.observed_at + delta)
    _FACTS(shifted, facts)
    _ORIGIN(shifted, e.origin)
    _RAW_REF(shifted, e.raw_ref)
    return shifted


def night_run_id(contract: Contract, night: datetime) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"clausewatch-demo:{contract.id}:{night.isoformat()}").hex


def backfill_demo(
    store: HistoryStore,
    contract: Contract,
    contract_text: str,
    as_of: datetime,
    nights: int = NIGHTS,
    on_night: OnNight | None = None,
    tonight: Estate | None = None,
) -> int:
    """Record ``nights`` synthetic nightly runs before ``as_of`` (oldest first); return the count.

    ``on_night`` (the alerts) sees each night's evaluation and the history before it, and
    returns the deliveries recorded with that night's run. The nights are evaluated by
    :func:`evaluated`; ``tonight``: ``build_estate(as_of)`` if already built, the base the
    nights of its year are shifted from.
    """
    version = tool_version()  # a metadata lookup: once, not once a night
    with store.batch():
        for ev in evaluated(contract, as_of, nights, tonight=tonight):
            night = ev.as_of
            info = RunInfo(
                as_of=night,
                started_at=night,
                finished_at=night,
                run_id=night_run_id(contract, night),
                tool_version=version,
                command="run --demo (back-filled night)",
            )
            deliveries = on_night(store.prior(contract.id), ev, info) if on_night else ()
            store.record(ev, info, contract_text=contract_text, deliveries=deliveries)
    return nights


def evaluate_night(contract: Contract, as_of: datetime, k: int, cache: EstateCache) -> Evaluation:
    """The evaluation of night ``k`` before ``as_of``: the estate of that night, varied."""
    night = as_of - timedelta(days=k)
    evidence, errors = cache.estate(night)
    evidence, errors = vary(evidence, errors, k, night, cache.may_vary(night))
    return evaluate(contract, evidence, errors, night)


def evaluated(contract: Contract, as_of: datetime, nights: int = NIGHTS,
              tonight: Estate | None = None) -> Iterator[Evaluation]:
    """The evaluations of the ``nights`` before ``as_of``, oldest first (each night's is pure:
    its estate, varied, evaluated). ``tonight``: ``build_estate(as_of)``, if built."""
    cache = EstateCache(None if tonight is None else (as_of, tonight))
    return (evaluate_night(contract, as_of, k, cache) for k in range(nights, 0, -1))

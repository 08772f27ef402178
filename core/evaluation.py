"""What a run concluded: per commitment a verdict and its subjects' results, plus waivers and
collection errors. Types only; ``clausewatch.checks.engine`` computes them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from clausewatch.core.contract import Commitment, Contract, Waiver
from clausewatch.core.evidence import CollectionError
from clausewatch.core.result import Result, Status, Verdict, is_offender

WORST_OFFENDERS = 5
@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """A commitment with its verdict and per-subject results (worst first)."""

    commitment: Commitment
    verdict: Verdict
    results: tuple[Result, ...]

    def worst(self, n: int = WORST_OFFENDERS) -> tuple[Result, ...]:
        return tuple(r for r in self.results if is_offender(r.status))[:n]


@dataclass(frozen=True, slots=True, kw_only=True)
class WaiverState:
    """A declared waiver and whether it applies at ``as_of``."""

    waiver: Waiver
    status: str  # "in_force", "expired", "not_yet"
    applied_to: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """Everything a run concluded: outcomes per commitment, waivers, collection errors."""

    contract: Contract
    as_of: datetime
    outcomes: tuple[Outcome, ...]
    waivers: tuple[WaiverState, ...]
    errors: tuple[CollectionError, ...]
    evidence_count: int

    @property
    def status(self) -> Status:
        return overall_status(o.verdict.status for o in self.outcomes)

    @property
    def partial(self) -> bool:
        """True when some collection failed: the run saw less than it should have."""
        return bool(self.errors)


def overall_status(statuses: Iterable[Status]) -> Status:
    """Breached beats no_evidence beats at_risk; waived alone counts as compliant."""
    seen = set(statuses)
    for s in (Status.BREACHED, Status.NO_EVIDENCE, Status.AT_RISK):
        if s in seen:
            return s
    return Status.COMPLIANT

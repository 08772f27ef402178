"""A synthetic MSP portfolio in a history store: many customer contracts x many nights.

For the portfolio benchmark (``bench/portfolio_bench.py``) and tests. Each contract is a real
contract file (loaded and checked like any other) with three clauses, one with a penalty;
each night records a run whose subjects breach, cure and go unmeasured on their own
deterministic rhythms, so attainment, open breaches, exposure and gaps all have something to
show. The same arguments always give the same store.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import make_verdict
from clausewatch.core.contract import Contract
from clausewatch.core.evaluation import Evaluation, Outcome
from clausewatch.core.result import Result, Status
from clausewatch.core.run import RunInfo
from clausewatch.history.store import HistoryStore
from clausewatch.policies.load import load_contract

PROVIDERS = ("Infogérance Atlantique", "Nordic Managed IT", "Alpine Ops")
SUBJECTS = 6

CONTRACT = """\
contract:
  id: {id}
  title: "Security schedule, {customer}"
  provider: "{provider}"
  customer: "{customer}"
  effective_from: "2026-01-01"
  timezone: Europe/Paris
  language: fr
commitments:
  - id: patch-prod
    clause: "PAS §4.2"
    title: Correctifs critiques sous 7 jours
    check: patch_lag
    responsible: provider
    params: {{deadlines_days: {{critical: 7}}}}
    target: 100%
    penalty: {{per_breach: 500, per_day_late: 100, cap_per_period: 5000}}
  - id: mfa-admins
    clause: "PAS §3.1"
    title: MFA des administrateurs
    check: mfa_coverage
    responsible: shared
    target: 100%
  - id: backups
    clause: "PAS §6.1"
    title: Sauvegardes quotidiennes
    check: backup_freshness
    responsible: provider
    params: {{rpo_hours: 24}}
    target: 95%
"""


def contract_text(index: int) -> str:
    return CONTRACT.format(
        id=f"customer-{index:04d}",
        customer=f"Client {index:04d}",
        provider=PROVIDERS[index % len(PROVIDERS)],
    )


def contracts(count: int) -> Iterator[tuple[Contract, str]]:
    """``count`` contracts, each with the text it was loaded from."""
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            text = contract_text(i)
            path = Path(tmp) / f"customer-{i:04d}.yaml"
            path.write_text(text, encoding="utf-8")
            yield load_contract(path, CHECKS, name=path.name), text


def _status(key: str, night: int) -> Status:
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    cycle = 9 + h % 23
    phase = (night + h) % cycle
    if phase == 0:
        return Status.NO_EVIDENCE
    if phase < 1 + h % 4:
        return Status.BREACHED
    return Status.COMPLIANT


def evaluation(contract: Contract, as_of: datetime, night: int) -> Evaluation:
    outcomes = []
    for c in contract.commitments:
        results = tuple(
            Result(
                commitment_id=c.id,
                subject=f"{contract.id}/{c.id}/s{n}",
                label=f"srv-{n:02d}",
                status=(s := _status(f"{contract.id}/{c.id}/{n}", night)),
                reason=f"srv-{n:02d} is {s}",
                evidence_ids=(f"ev:{n}",),
            )
            for n in range(SUBJECTS)
        )
        outcomes.append(Outcome(commitment=c, verdict=make_verdict(c, list(results)),
                                results=results))
    return Evaluation(contract=contract, as_of=as_of, outcomes=tuple(outcomes), waivers=(),
                      errors=(), evidence_count=SUBJECTS * len(outcomes))


def fill(store: HistoryStore, count: int, nights: int, last_night: datetime) -> int:
    """Record ``nights`` nightly runs of ``count`` contracts ending at ``last_night``."""
    recorded = 0
    for contract, text in contracts(count):
        for k in range(nights - 1, -1, -1):
            as_of = last_night - timedelta(days=k)
            ev = evaluation(contract, as_of, nights - 1 - k)
            info = RunInfo(as_of=as_of, started_at=as_of, finished_at=as_of,
                           run_id=f"{contract.id}-{as_of:%Y%m%d}", command="portfolio-fill")
            store.record(ev, info, contract_text=text)
            recorded += 1
    return recorded

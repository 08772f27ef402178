"""Scripted nightly runs for the history and alerts tests: statuses in, an Evaluation out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from clausewatch.checks.engine import make_verdict
from clausewatch.core.contract import Commitment, Contract, Party, Penalty, Scope, Waiver
from clausewatch.core.evaluation import Evaluation, Outcome, WaiverState
from clausewatch.core.evidence import CollectionError
from clausewatch.core.result import Result, Status
from clausewatch.core.run import RunInfo

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)  # 03:00 Paris, the first night of October


def commitment(cid: str = "PATCH", *, penalty: Penalty | None = None,
               target: float = 1.0) -> Commitment:
    return Commitment(
        id=cid,
        clause=f"§{cid}",
        title=f"Commitment {cid}",
        check="patch_lag",
        responsible=Party.PROVIDER,
        scope=Scope(),
        params={"deadlines_days": {"critical": 7}},
        target=target,
        timezone=PARIS,
        penalty=penalty,
    )


def contract(*commitments: Commitment, waivers: Sequence[Waiver] = ()) -> Contract:
    return Contract(
        id="ctr-1",
        title="Test contract",
        provider="Provider SAS",
        customer="Customer SA",
        effective_from=date(2026, 1, 1),
        effective_to=None,
        timezone=PARIS,
        commitments=tuple(commitments) or (commitment(),),
        waivers=tuple(waivers),
        digest="d" * 64,
        source_file="contract.yaml",
    )


def night(n: int) -> datetime:
    """The instant of night ``n`` (0 = 1 October 2026, 03:00 Paris)."""
    return START + timedelta(days=n)


def evaluation(
    k: Contract,
    as_of: datetime,
    statuses: Mapping[str, Mapping[str, Status]] | Mapping[str, Status],
    *,
    due: Mapping[str, datetime] | None = None,
    errors: Sequence[CollectionError] = (),
    waivers: Sequence[WaiverState] = (),
) -> Evaluation:
    """``statuses``: subject -> status (first commitment) or commitment -> subject -> status."""
    if statuses and all(isinstance(v, Status) for v in statuses.values()):
        statuses = {k.commitments[0].id: statuses}  # type: ignore[dict-item]
    outcomes = []
    for c in k.commitments:
        results = [
            Result(
                commitment_id=c.id,
                subject=s,
                label=s.upper(),
                status=st,
                reason=f"{s} is {st}",
                due=(due or {}).get(s),
                evidence_ids=(f"ev:{s}",),
            )
            for s, st in statuses.get(c.id, {}).items()  # type: ignore[union-attr]
        ]
        outcomes.append(Outcome(commitment=c, verdict=make_verdict(c, results),
                                results=tuple(results)))
    return Evaluation(contract=k, as_of=as_of, outcomes=tuple(outcomes), waivers=tuple(waivers),
                      errors=tuple(errors), evidence_count=len(statuses))


def info(as_of: datetime, n: int | str = "") -> RunInfo:
    return RunInfo(as_of=as_of, started_at=as_of, finished_at=as_of, run_id=f"run-{n or as_of}")


OUTAGE = CollectionError(source="aws.ssm", origin="aws/111", kinds=("patch",),
                         message="AccessDenied")

C, R, B, W, N = (Status.COMPLIANT, Status.AT_RISK, Status.BREACHED, Status.WAIVED,
                 Status.NO_EVIDENCE)

"""One fixed clock and small builders for evidence and commitments (tests import it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from clausewatch.core.contract import Commitment, Party, Scope
from clausewatch.core.evidence import Evidence, default_evidence_id

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


def days_ago(days: float, hours: float = 0) -> datetime:
    return AS_OF - timedelta(days=days, hours=hours)


def ev(
    kind: str,
    subject: str,
    facts: Mapping[str, Any],
    *,
    source: str = "test",
    observed_at: datetime | None = None,
    origin: str = "",
) -> Evidence:
    facts = dict(facts)
    return Evidence(
        id=default_evidence_id(kind, source, subject, facts),
        kind=kind,
        source=source,
        subject=subject,
        observed_at=observed_at or days_ago(0, 1),
        facts=facts,
        origin=origin,
    )


def asset(subject: str, kind: str = "server", **facts: Any) -> Evidence:
    base: dict[str, Any] = {"asset_kind": kind, "name": subject, "tags": {}}
    origin = facts.pop("origin", "")
    observed = facts.pop("observed_at", None)
    base.update(facts)
    return ev("asset", subject, base, origin=origin, observed_at=observed)


def patch(subject: str, update: str, severity: str, state: str, **facts: Any) -> Evidence:
    base: dict[str, Any] = {"update_id": update, "severity": severity, "state": state}
    observed = facts.pop("observed_at", None)
    base.update(facts)
    return ev("patch", subject, base, observed_at=observed)


def identity(subject: str, **facts: Any) -> Evidence:
    base: dict[str, Any] = {
        "account": subject,
        "enabled": True,
        "account_type": "member",
        "privileged": False,
        "mfa_registered": True,
        "mfa_enforced": True,
    }
    origin = facts.pop("origin", "")
    observed = facts.pop("observed_at", None)
    source = facts.pop("source", "test")
    base.update(facts)
    return ev("identity", subject, base, origin=origin, observed_at=observed, source=source)


def commitment(
    check: str,
    params: Mapping[str, Any],
    *,
    target: float = 1.0,
    warning_days: float = 0,
    tz: ZoneInfo = PARIS,
    cid: str = "C1",
    **scope: Any,
) -> Commitment:
    return Commitment(
        id=cid,
        clause="PAS §1",
        title="test commitment",
        check=check,
        responsible=Party.PROVIDER,
        scope=Scope(**scope),
        params=dict(params),
        target=target,
        warning_days=warning_days,
        timezone=tz,
    )


def contract(*commitments: Commitment, waivers: tuple[Any, ...] = ()) -> Any:
    from clausewatch.core.contract import Contract

    return Contract(
        id="k",
        title="Test contract",
        provider="Provider",
        customer="Customer",
        effective_from=AS_OF.date(),
        effective_to=None,
        timezone=PARIS,
        commitments=commitments,
        waivers=waivers,
    )

"""A small fixed run for tests/reports: every status, both waiver states, a collection error.

The clock, the run id and the host are fixed, so every output is byte-for-byte reproducible and
can be compared with the golden files in tests/fixtures/golden/ (``UPDATE_GOLDEN=1`` rewrites
them; review the diff before committing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import CollectionError, Evidence, default_evidence_id
from clausewatch.core.run import RunInfo
from clausewatch.policies.load import load_contract
from clausewatch.reports.formats import FORMATS, RunView

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden"
CLIENT_SECRET = "cs~Q8f2-TEST-client-secret-value"
ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.TEST-access-token"


def ago(days: float = 0, hours: float = 0) -> datetime:
    return AS_OF - timedelta(days=days, hours=hours)


def record(kind: str, source: str, subject: str, origin: str, **facts: Any) -> Evidence:
    return Evidence(
        id=default_evidence_id(kind, source, subject, facts),
        kind=kind,
        source=source,
        subject=subject,
        observed_at=ago(hours=2),
        facts=facts,
        origin=origin,
        raw_ref=f"raw/{source}/{origin.replace('/', '_')}.json",
    )


def identity(upn: str, *, enforced: bool, registered: bool = True) -> Evidence:
    return record(
        "identity", "entra", upn, "entra/tenant-1",
        account=upn, account_type="member", enabled=True, privileged=True,
        privileged_reason="Global Administrator", mfa_registered=registered,
        mfa_enforced=enforced, mfa_enforced_by="CA01" if enforced else None,
        created_at=ago(400),
    )  # fmt: skip


def server(name: str, origin: str = "aws/111111111111/eu-west-3", **tags: str) -> Evidence:
    return record(
        "asset", "aws.ec2", f"arn:aws:ec2:eu-west-3:111111111111:instance/{name}", origin,
        asset_kind="server", name=name, last_seen=ago(hours=1),
        patch_assessed_at=ago(hours=3), tags={"env": "prod", **tags},
    )  # fmt: skip


def patch(asset: Evidence, update: str, severity: str, released_days: float, **extra: Any):
    facts = {"update_id": update, "severity": severity, "state": "missing",
             "released_at": ago(released_days), "first_seen_at": ago(released_days), **extra}
    return record("patch", "aws.ssm", asset.subject, asset.origin, **facts)


def database(name: str, origin: str, **tags: str) -> Evidence:
    return record(
        "asset", "aws.rds", f"arn:aws:rds:{origin.split('/')[-1]}:{origin.split('/')[1]}:db:{name}",
        origin, asset_kind="database", name=name, last_seen=ago(hours=1), tags=tags,
    )  # fmt: skip


def case_records() -> list[Evidence | CollectionError]:
    srv_a, srv_b, srv_c = server("srv-a"), server("srv-b", role="batch"), server("srv-c")
    srv_old, legacy = server("srv-old"), server("srv-legacy", app="legacy")
    db1 = database("db-1", "aws/111111111111/eu-west-3", restore_test="required")
    db2 = database("db-2", "aws/222222222222/eu-west-1", restore_test="required")
    srv_c = Evidence(**_no_patch(srv_c))  # in inventory, never assessed: no_evidence
    return [
        identity("alice@client.test", enforced=True),
        identity("bob@client.test", enforced=False),
        identity("carol@client.test", enforced=True),
        srv_a, srv_b, srv_c, srv_old, legacy, db1, db2,
        patch(srv_a, "KB-CRIT-1", "critical", 10),
        patch(srv_b, "KB-IMP-2", "important", 29),
        patch(srv_old, "KB-IMP-3", "important", 5),
        patch(legacy, "KB-CRIT-9", "critical", 40),
        record("backup", "aws.backup", db1.subject, db1.origin, outcome="success",
               completed_at=ago(hours=5)),
        record("restore_test", "aws.backup", db1.subject, db1.origin, outcome="success",
               completed_at=ago(30), duration_minutes=40, method="automated"),
        CollectionError(
            source="aws.backup", origin="aws/222222222222/eu-west-1",
            kinds=("backup", "restore_test"), operation="ListBackupJobs",
            message="AccessDenied: not allowed to perform backup:ListBackupJobs",
            occurred_at=ago(hours=2),
        ),
    ]  # fmt: skip


def _no_patch(asset: Evidence) -> dict[str, Any]:
    facts = {k: v for k, v in asset.facts.items() if k != "patch_assessed_at"}
    return {
        "id": asset.id, "kind": asset.kind, "source": asset.source, "subject": asset.subject,
        "observed_at": asset.observed_at, "facts": facts, "origin": asset.origin,
        "raw_ref": asset.raw_ref,
    }  # fmt: skip


def case_info() -> RunInfo:
    return RunInfo(
        as_of=AS_OF,
        started_at=AS_OF,
        finished_at=AS_OF + timedelta(seconds=42),
        run_id="0123456789abcdef0123456789abcdef",
        tool_version="0.1.0",
        command="evaluate",
        inputs={
            "policy": "contract.yaml",
            "evidence": "evidence.jsonl",
            "sources": [
                {
                    "source": "entra",
                    "endpoint": "https://graph.microsoft.com/v1.0",
                    "identity": "app 7d0c-clausewatch-reader",
                    "client_secret": CLIENT_SECRET,
                },
                {
                    "source": "aws",
                    "endpoint": "https://sts.eu-west-3.amazonaws.com",
                    "identity": "arn:aws:iam::111111111111:role/ClauseWatchReadOnly",
                    "note": f"session opened with {ACCESS_TOKEN}",
                },
            ],
        },
    )


@dataclass(frozen=True)
class Case:
    contract_path: Path
    records: list[Evidence | CollectionError]
    ev: Evaluation
    info: RunInfo

    @property
    def evidence(self) -> list[Evidence]:
        return [r for r in self.records if isinstance(r, Evidence)]


def build_case() -> Case:
    path = GOLDEN / "contract.yaml"
    contract = load_contract(path, CHECKS, name="contract.yaml")
    records = case_records()
    evidence = [r for r in records if isinstance(r, Evidence)]
    errors = [r for r in records if isinstance(r, CollectionError)]
    return Case(path, records, evaluate(contract, evidence, errors, AS_OF), case_info())


def render(name: str, ev: Evaluation, info: RunInfo, lang: str | None = None, **view: Any) -> str:
    """Output format ``name`` of a run, as text (``view``: more ``RunView.of`` arguments)."""
    return FORMATS[name].render(RunView.of(ev, info, lang=lang, **view)).decode("utf-8")

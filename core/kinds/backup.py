"""Evidence kind ``backup``: one backup run (or recovery point) of one asset."""

from __future__ import annotations

from clausewatch.core.kinds.spec import EvidenceKind, Fact, FactType

KIND = EvidenceKind(
    name="backup",
    description="One backup run, or recovery point, of one asset (one record per run).",
    facts=(
        Fact(name="outcome", type=FactType.CHOICE, required=True, shared=True,
             choices=("success", "failed", "partial", "expired", "aborted")),
        Fact(name="completed_at", type=FactType.TIMESTAMP, required=True),
        Fact(name="started_at", type=FactType.TIMESTAMP, nullable=True),
        Fact(name="job_id", type=FactType.STRING, nullable=True),
        Fact(name="backup_type", type=FactType.STRING, nullable=True, shared=True),
        Fact(name="size_bytes", type=FactType.INTEGER, nullable=True, minimum=0),
    ),
    id_facts=("completed_at",),
)

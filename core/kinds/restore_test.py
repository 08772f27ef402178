"""Evidence kind ``restore_test``: one restore test of one system, automated or attested."""

from __future__ import annotations

from clausewatch.core.kinds.spec import EvidenceKind, Fact, FactType

KIND = EvidenceKind(
    name="restore_test",
    description="One restore test of one system, run by a tool or attested by a person (one "
                "record per test).",
    facts=(
        Fact(name="outcome", type=FactType.CHOICE, required=True, shared=True,
             choices=("success", "failed", "partial")),
        Fact(name="completed_at", type=FactType.TIMESTAMP, required=True),
        Fact(name="duration_minutes", type=FactType.NUMBER, nullable=True, minimum=0),
        Fact(name="method", type=FactType.CHOICE, shared=True,
             choices=("automated", "attested")),
        Fact(name="attested_by", type=FactType.STRING, nullable=True),
        Fact(name="note", type=FactType.STRING, nullable=True),
    ),
    id_facts=("completed_at",),
)

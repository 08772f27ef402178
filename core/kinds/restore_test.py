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
        Fact(name="attested", type=FactType.BOOLEAN,
             description="True: a person attests the test (clausewatch attest), not a tool."),
        Fact(name="report_sha256", type=FactType.STRING, nullable=True,
             description="SHA-256 of the signed report an attestation rests on."),
        Fact(name="report_path", type=FactType.STRING, nullable=True,
             description="Where that report lies in the attestation store."),
        Fact(name="report_problem", type=FactType.STRING, nullable=True,
             description="Why the attested report cannot be trusted (missing, hash mismatch): "
                         "such a test never counts."),
    ),
    id_facts=("completed_at",),
)

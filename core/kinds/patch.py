"""Evidence kind ``patch``: one update on one asset (one record per asset x update)."""

from __future__ import annotations

from clausewatch.core.kinds.spec import EvidenceKind, Fact, FactType

KIND = EvidenceKind(
    name="patch",
    description="One update on one asset and its state: missing, installed, failed or not "
                "applicable.",
    facts=(
        Fact(name="update_id", type=FactType.TEXT, required=True, shared=True,
             description="KB number, advisory id"),
        Fact(name="severity", type=FactType.TEXT, required=True, shared=True),
        Fact(name="state", type=FactType.CHOICE, required=True, shared=True,
             choices=("missing", "installed", "failed", "not_applicable")),
        Fact(name="released_at", type=FactType.TIMESTAMP, nullable=True),
        Fact(name="first_seen_at", type=FactType.TIMESTAMP, nullable=True),
        Fact(name="installed_at", type=FactType.TIMESTAMP, nullable=True),
        Fact(name="classification", type=FactType.STRING, nullable=True, shared=True),
        Fact(name="title", type=FactType.STRING, nullable=True),
        Fact(name="cves", type=FactType.STRINGS, shared=True),
    ),
    id_facts=("update_id",),
)

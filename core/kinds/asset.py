"""Evidence kind ``asset``: something to protect (server, workstation, database, volume...)."""

from __future__ import annotations

from clausewatch.core.kinds.spec import EvidenceKind, Fact, FactType

KIND = EvidenceKind(
    name="asset",
    description="Something to protect and its last sighting: a server, a workstation, a "
                "database, a volume, a bucket.",
    facts=(
        Fact(name="asset_kind", type=FactType.TEXT, required=True, shared=True,
             description="server, workstation, database, volume, bucket, ..."),
        Fact(name="name", type=FactType.STRING, nullable=True),
        Fact(name="tags", type=FactType.LABELS),
        Fact(name="os", type=FactType.STRING, nullable=True, shared=True),
        Fact(name="os_version", type=FactType.STRING, nullable=True, shared=True),
        Fact(name="last_seen", type=FactType.TIMESTAMP, nullable=True),
        Fact(name="patch_assessed_at", type=FactType.TIMESTAMP, nullable=True,
             description="When the patch tool last assessed this asset."),
    ),
)

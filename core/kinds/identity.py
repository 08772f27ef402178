"""Evidence kind ``identity``: one account, and what its source says of its MFA and privileges."""

from __future__ import annotations

from clausewatch.core.kinds.spec import EvidenceKind, Fact, FactType

KIND = EvidenceKind(
    name="identity",
    description="An account: a member, guest, service or root account, a shared mailbox, a room.",
    facts=(
        Fact(name="account", type=FactType.TEXT, required=True),
        Fact(name="display_name", type=FactType.STRING, nullable=True),
        Fact(name="enabled", type=FactType.BOOLEAN, required=True, nullable=True,
             description="null: the source cannot tell (counted as enabled)"),
        Fact(name="account_type", type=FactType.CHOICE, required=True, shared=True,
             choices=("member", "guest", "service", "root", "shared_mailbox", "room")),
        Fact(name="privileged", type=FactType.BOOLEAN, nullable=True,
             description="null or absent: the source cannot tell (no_evidence in a "
                         "privileged-only population)"),
        Fact(name="privileged_reason", type=FactType.STRING, nullable=True),
        Fact(name="mfa_registered", type=FactType.BOOLEAN, required=True, nullable=True,
             description="null: the source cannot tell"),
        Fact(name="mfa_enforced", type=FactType.BOOLEAN, required=True, nullable=True,
             description="null: the source cannot tell"),
        Fact(name="mfa_enforced_by", type=FactType.STRING, nullable=True),
        Fact(name="created_at", type=FactType.TIMESTAMP, nullable=True),
    ),
)

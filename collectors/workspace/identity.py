"""A Workspace user as an ``identity`` record, in the shape Entra ID and AWS identities have.

Subject: the primary email (as Entra's is the UPN). ``account_type`` is ``member``, or
``service`` for accounts matching the entry's ``service_accounts`` globs (Workspace has no
guest accounts in the Directory). ``privileged`` comes from :mod:`.roles`; ``mfa_*``,
``enabled`` and the Directory facts from ``collectors.google.workspace_user``. The demo builds
its Workspace identities with this same function.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from clausewatch.collectors.google.workspace_user import DirectoryUser, account_facts
from clausewatch.collectors.workspace.privilege import AdminRoles, privilege
from clausewatch.core.evidence import Evidence, Kind, default_evidence_id

SOURCE = "workspace"


def account_type(user: DirectoryUser, service_patterns: Sequence[str] = ()) -> str:
    email = user.email.lower()
    if any(fnmatch.fnmatch(email, p.lower()) for p in service_patterns):
        return "service"
    return "member"


def workspace_identity(user: DirectoryUser, roles: AdminRoles, *, origin: str,
                       observed_at: datetime, service_patterns: Sequence[str] = ()) -> Evidence:
    """The identity record of one Directory user."""
    privileged, reason, note = privilege(user, roles)
    facts: dict[str, Any] = {
        "account": user.email,
        **account_facts(user),
        "account_type": account_type(user, service_patterns),
        "privileged": privileged,
        "privileged_reason": reason,
        "is_super_admin": user.is_admin,
        "is_delegated_admin": user.is_delegated_admin,
        "raw_pages": list(dict.fromkeys([user.raw_ref, *roles.raw_refs])),
    }
    if note:
        facts["privileged_note"] = note
    return Evidence(
        id=default_evidence_id(Kind.IDENTITY, SOURCE, user.email, facts),
        kind=Kind.IDENTITY.value,
        source=SOURCE,
        subject=user.email,
        observed_at=observed_at,
        facts=facts,
        origin=origin,
        raw_ref=user.raw_ref,
    )

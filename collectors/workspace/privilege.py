"""Who is a Workspace admin, from what the Directory and the role assignments say (pure).

``AdminRoles`` is what :mod:`.roles` read (reasons per user id, and whether the picture is
whole); :func:`privilege` decides one user: a super admin (``isAdmin``), a delegated admin, or a
holder of a role assignment is privileged; when the assignments could not be read, a user the
Directory does not flag is of unknown privilege, never "not privileged".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from clausewatch.collectors.google.workspace_user import DirectoryUser


@dataclass
class AdminRoles:
    """Role reasons per user id; ``known`` False when the picture is incomplete (``note``)."""

    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    known: bool = True
    note: str | None = None
    raw_refs: list[str] = field(default_factory=list)


def privilege(user: DirectoryUser, roles: AdminRoles) -> tuple[bool | None, str | None, str | None]:
    """(privileged, privileged_reason, privileged_note) of one user."""
    reasons = list(dict.fromkeys(roles.reasons.get(user.id, [])))
    if user.is_admin:
        reasons = ["Super Admin", *(r for r in reasons if r != "Super Admin")]
    if user.is_delegated_admin and not reasons:
        reasons.append("delegated admin")
    if reasons:
        return True, ", ".join(reasons), None
    if not roles.known:
        return None, None, roles.note
    if user.is_admin is None or user.is_delegated_admin is None:
        return None, None, "the Directory record does not say whether the user is an admin"
    return False, None, None

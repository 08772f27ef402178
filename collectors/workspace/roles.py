"""Who holds a Workspace admin role, and why: role assignments, group assignees expanded.

``roleAssignments.list`` (no ``userKey``) lists every direct assignment; an assignment to a group
(``assigneeType`` ``group``; the discovery enum says lower case, the reference page upper case:
compared case-insensitively) is expanded to the group's users, nested groups included. An
assignment whose ``expirationDetails.expireTime`` has passed is not held. System roles carry
names such as ``_SEED_ADMIN_ROLE``; their ``roleDescription`` ("Super Admin") is shown instead.

If roles or assignments cannot be read, or a group assignee cannot be expanded, ``known`` is
False: a user the Directory itself does not flag (``isAdmin``, ``isDelegatedAdmin``) is then
of unknown privilege, never "not privileged".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clausewatch.collectors.google.directory import Directory, Expansion
from clausewatch.collectors.google.errors import GOOGLE_FAILURES, describe
from clausewatch.collectors.google.workspace_user import instant
from clausewatch.collectors.workspace.privilege import AdminRoles


def role_label(role: Mapping[str, Any] | None, role_id: str) -> str:
    if role is None:
        return f"role {role_id}"
    name = str(role.get("roleName") or role_id)
    if name.startswith("_") and role.get("roleDescription"):
        return str(role["roleDescription"])
    return name


def admin_roles(directory: Directory, as_of: datetime) -> AdminRoles:
    """Every user's active admin roles (see the module docstring)."""
    out = AdminRoles()
    expansions: dict[str, Expansion] = {}  # a group holding several roles is listed once
    try:
        roles = {str(r.get("roleId")): r for r, _ in directory.roles()}
        assignments = directory.role_assignments()
    except GOOGLE_FAILURES as exc:
        out.known = False
        out.note = f"admin roles could not be read ({describe(exc)})"
        return out
    for assignment, ref in assignments:
        expires = instant((assignment.get("expirationDetails") or {}).get("expireTime"))
        if expires is not None and expires <= as_of:
            continue
        role_id = str(assignment.get("roleId"))
        label = role_label(roles.get(role_id), role_id)
        if str(assignment.get("scopeType", "")).upper() == "ORG_UNIT":
            label += f" (org unit {assignment.get('orgUnitId', '?')})"
        if assignment.get("condition"):
            label += f" [condition: {assignment['condition']}]"
        if expires is not None:
            label += f" (until {expires.isoformat()})"
        assignee = str(assignment.get("assignedTo", ""))
        out.raw_refs.append(ref)
        if str(assignment.get("assigneeType", "user")).lower() == "group":
            try:
                expansion = expansions.get(assignee.lower()) or directory.expand(assignee)
                expansions[assignee.lower()] = expansion
            except GOOGLE_FAILURES as exc:
                out.known = False
                out.note = f"members of group {assignee} ({label}) could not be read " \
                           f"({describe(exc)})"
                continue
            out.raw_refs += expansion.raw_refs
            if expansion.whole_domain:
                out.known = False
                out.note = f"group {assignee} ({label}) includes the whole domain"
            for member in expansion.users:
                out.reasons[member.id].append(f"{label} via group {' > '.join(member.path)}")
        else:
            out.reasons[assignee].append(label)
    out.raw_refs = list(dict.fromkeys(out.raw_refs))  # each page once (every record lists them)
    return out

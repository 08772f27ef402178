"""Which IAM roles make a principal privileged.

By default (``privileged_roles`` in the entry replaces the list, ``extra_privileged_roles`` adds
to it), the basic roles that can do anything (``roles/owner``, ``roles/editor``), the roles that
change who may do what (organisation admin, folder admin and IAM admin, project IAM admin,
security admin), and the roles that let a principal mint a service account's credentials
(service-account admin, key admin, token creator). A custom role (``organizations/O/roles/R`` or
``projects/P/roles/R``) is privileged when one of its ``includedPermissions`` matches a pattern of
``privileged_permissions`` (default ``*.setIamPolicy``: whoever can rewrite an allow policy can
grant themselves anything). Custom roles are resolved with IAM v1 ``roles.get``
(https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/get); a role marked
``deleted`` or at stage ``DISABLED`` grants nothing ("will not contribute permissions to any
principals"), and is recorded as such; a custom role that cannot be read makes its holders'
privilege unknown, never "not privileged".
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from clausewatch.collectors.google.errors import GOOGLE_FAILURES, describe
from clausewatch.collectors.google.pages import PageSink, discovery_get
from clausewatch.collectors.google.retry import RetrySettings

DEFAULT_PRIVILEGED_ROLES: tuple[str, ...] = (
    "roles/owner",
    "roles/editor",
    "roles/resourcemanager.organizationAdmin",
    "roles/resourcemanager.folderAdmin",
    "roles/resourcemanager.folderIamAdmin",
    "roles/resourcemanager.projectIamAdmin",
    "roles/iam.securityAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountKeyAdmin",
    "roles/iam.serviceAccountTokenCreator",
)
DEFAULT_PRIVILEGED_PERMISSIONS: tuple[str, ...] = ("*.setIamPolicy",)


class Grade(StrEnum):
    PRIVILEGED = "privileged"
    NOT_PRIVILEGED = "not_privileged"
    INERT = "inert"  # a deleted or disabled custom role: grants nothing
    UNKNOWN = "unknown"  # a custom role that could not be read


@dataclass(frozen=True, slots=True)
class RoleGrade:
    grade: Grade
    why: str = ""
    raw_ref: str | None = None


@dataclass
class RoleBook:
    """Grades roles, reading each custom role once (thread-safe cache)."""

    iam: Any  # discovery client for iam/v1, or None when no custom role is to be read
    sink: PageSink
    retry: RetrySettings
    privileged_roles: frozenset[str] = frozenset(DEFAULT_PRIVILEGED_ROLES)
    permissions: tuple[str, ...] = DEFAULT_PRIVILEGED_PERMISSIONS
    _cache: dict[str, RoleGrade] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def grade(self, role: str) -> RoleGrade:
        if role in self.privileged_roles:
            return RoleGrade(Grade.PRIVILEGED, "privileged role")
        if role.startswith("roles/"):
            return RoleGrade(Grade.NOT_PRIVILEGED)
        with self._lock:
            known = self._cache.get(role)
        if known is None:
            known = self._read(role)
            with self._lock:
                self._cache[role] = known
        return known

    def _read(self, role: str) -> RoleGrade:
        if self.iam is None:
            return RoleGrade(Grade.UNKNOWN, "custom roles are not read")
        parts = role.split("/")
        if len(parts) != 4 or parts[0] not in ("organizations", "projects") or parts[2] != "roles":
            return RoleGrade(Grade.UNKNOWN, f"unrecognised role name {role}")
        parent = self.iam.organizations() if parts[0] == "organizations" else self.iam.projects()
        try:
            body, ref = discovery_get(parent.roles().get(name=role), self.sink, self.retry,
                                      "roles-get")
        except GOOGLE_FAILURES as exc:
            return RoleGrade(Grade.UNKNOWN, f"custom role {role} could not be read "
                                            f"({describe(exc)})")
        if body.get("deleted") or str(body.get("stage", "")).upper() == "DISABLED":
            state = "deleted" if body.get("deleted") else "disabled"
            return RoleGrade(Grade.INERT, f"custom role {role} is {state}: grants nothing", ref)
        matched = matching(body.get("includedPermissions", []), self.permissions)
        if matched:
            return RoleGrade(Grade.PRIVILEGED, f"custom role with {', '.join(matched[:3])}", ref)
        return RoleGrade(Grade.NOT_PRIVILEGED, "custom role", ref)


def matching(permissions: Iterable[Any], patterns: Iterable[str]) -> list[str]:
    """The permissions that match any of the glob ``patterns``."""
    pats = list(patterns)
    return sorted({str(p) for p in permissions
                   if any(fnmatch.fnmatchcase(str(p), pat) for pat in pats)})

"""The Admin SDK Directory API, read through the discovery client with the bundled document.

Methods (https://developers.google.com/workspace/admin/directory/reference/rest): ``users.list``
(``customer``, at most 500 a page), ``users.get`` (a primary email, an alias or an id),
``roles.list`` (100 a page), ``roleAssignments.list`` (200 a page; without ``userKey`` it lists
every direct assignment, users and groups), ``members.list`` (200 a page). Every listing is
read whole (``pages.discovery_pages``); the users page by page (``user_pages``) for a collector
that records each as it comes and yields nothing before the last.

Nested groups: ``members.list`` returns a member group as one ``type: GROUP`` entry, unexpanded.
``includeDerivedMembership`` exists but users report it returning fewer members than recursion
(GAM-team/GAM#1210), so :meth:`Directory.expand` recurses itself, with a visited set (the API
refuses cycles, ``GROUP_CANNOT_CONTAIN_CYCLE``, but a guard costs nothing). A ``CUSTOMER``
member (every user of the domain) is reported as such. A member ``status`` other than ACTIVE
(``SUSPENDED`` is seen) is kept with the member: the user's own record decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from clausewatch.collectors.google.errors import not_found
from clausewatch.collectors.google.pages import (
    Json,
    PageSink,
    discovery_get,
    discovery_pages,
    each_discovery_body,
)
from clausewatch.collectors.google.retry import RetrySettings

USER_FIELDS = ("nextPageToken,users(id,primaryEmail,name,isAdmin,isDelegatedAdmin,"
               "isEnrolledIn2Sv,isEnforcedIn2Sv,suspended,suspensionReason,archived,"
               "orgUnitPath,customerId,creationTime,lastLoginTime,aliases,nonEditableAliases)")
#: OAuth scopes, read-only (docs/gcp.md says why each).
USER_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
ROLE_SCOPE = "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly"
GROUP_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.readonly"


@dataclass(frozen=True, slots=True)
class Member:
    """A user reached through a group: its id and email, and the groups on the way."""

    id: str
    email: str
    status: str | None
    path: tuple[str, ...]  # group emails from the expanded group down to the direct one


@dataclass
class Expansion:
    """The users of a group, nested groups expanded; ``whole_domain`` for a CUSTOMER member."""

    users: list[Member] = field(default_factory=list)
    whole_domain: bool = False
    groups: list[str] = field(default_factory=list)
    raw_refs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Directory:
    """One customer's Directory, as one collector reads it."""

    service: Any  # googleapiclient Resource for admin/directory_v1
    sink: PageSink
    retry: RetrySettings
    customer: str = "my_customer"

    def user_pages(self) -> Iterator[Json]:
        """The pages of ``users`` as they come, not yet recorded (``record_users`` each; a
        failure raises after the pages before it)."""
        return each_discovery_body(self.service.users(), "list", self.retry, "users",
                                   customer=self.customer, maxResults=500, orderBy="email",
                                   fields=USER_FIELDS)

    def record_users(self, page: Json) -> str:
        """Keep a page of ``user_pages`` raw; its ``raw_ref``."""
        return self.sink.save("users", page)

    def user(self, key: str) -> tuple[Json, str] | None:
        """One user by primary email, alias or id; None if the Directory has no such user."""
        request = self.service.users().get(userKey=key)
        try:
            return discovery_get(request, self.sink, self.retry, "users-get")
        except Exception as exc:
            if not_found(exc):
                return None
            raise

    def roles(self) -> list[tuple[Json, str]]:
        pages = discovery_pages(self.service.roles(), "list", self.sink, self.retry, "roles",
                                customer=self.customer, maxResults=100)
        return [(r, ref) for body, ref in pages for r in body.get("items", [])]

    def role_assignments(self) -> list[tuple[Json, str]]:
        pages = discovery_pages(self.service.roleAssignments(), "list", self.sink, self.retry,
                                "role-assignments", customer=self.customer, maxResults=200)
        return [(a, ref) for body, ref in pages for a in body.get("items", [])]

    def members(self, group_key: str) -> list[tuple[Json, str]]:
        """Direct members of a group."""
        pages = discovery_pages(self.service.members(), "list", self.sink, self.retry,
                                "members", groupKey=group_key, maxResults=200)
        return [(m, ref) for body, ref in pages for m in body.get("members", [])]

    def expand(self, group_key: str, label: str | None = None) -> Expansion:
        """Every user in a group, through nested groups (raises if any listing fails)."""
        out = Expansion()
        seen: set[str] = set()
        for member, path, ref in self._walk(group_key, (label or group_key,), seen):
            out.raw_refs.append(ref)
            kind = str(member.get("type", "")).upper()
            if kind == "CUSTOMER":
                out.whole_domain = True
            elif kind == "USER" or (not kind and member.get("email")):
                out.users.append(Member(str(member.get("id") or member.get("email")),
                                        str(member.get("email") or ""),
                                        member.get("status"), path))
        out.groups = sorted(seen)
        out.raw_refs = list(dict.fromkeys(out.raw_refs))
        return out

    def _walk(self, key: str, path: tuple[str, ...],
              seen: set[str]) -> Iterator[tuple[Json, tuple[str, ...], str]]:
        if key.lower() in seen:
            return
        seen.add(key.lower())
        for member, ref in self.members(key):
            if str(member.get("type", "")).upper() == "GROUP":
                nested = str(member.get("id") or member.get("email"))
                yield from self._walk(nested, (*path, str(member.get("email") or nested)), seen)
            else:
                yield member, path, ref

"""The Google Cloud IAM collector: privileged principals of one organisation (or project set).

It reads the allow policy of every node of the hierarchy, grades the roles, drops what has
expired, expands ``group:`` members through the Workspace Directory (nested groups), and yields
one ``identity`` record per principal holding a privileged role anywhere (origin
``gcp/<root>``). What it cannot read becomes a ``CollectionError`` of kind ``identity`` at the
place it concerns: ``gcp/<root>/<project>`` for a project's policy (403 on one project leaves
the others judged), ``gcp/<root>/folders/N`` for a folder's (its projects inherit it),
``gcp/<root>/groups/<email>`` for a group whose members are unknown, ``gcp/<root>/domain/<d>``
for a role granted to a whole domain. None of these covers the principals already known: those
hold a privileged role whatever else they hold, and are judged on their 2SV; the error stands
for the holders nobody could see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import ClassVar

from clausewatch.collectors.gcp.hierarchy import Hierarchy
from clausewatch.collectors.gcp.members import Member, MemberKind, parse_member
from clausewatch.collectors.gcp.policies import Binding, read_policy
from clausewatch.collectors.gcp.principals import SOURCE, Holder, principal_identity
from clausewatch.collectors.gcp.privilege import Grant, grants
from clausewatch.collectors.gcp.roles import RoleBook
from clausewatch.collectors.gcp.workspace_link import Lookup, WorkspaceLink, no_directory
from clausewatch.collectors.google.clients import ResourceManager
from clausewatch.collectors.google.errors import GOOGLE_FAILURES, collection_error
from clausewatch.collectors.google.pages import PageSink
from clausewatch.collectors.google.retry import RetrySettings
from clausewatch.core.evidence import CollectionError, Evidence, Kind


@dataclass(frozen=True, slots=True)
class GcpIamCollector:
    """Privileged principals of one hierarchy."""

    tree: Hierarchy
    rm: ResourceManager
    book: RoleBook
    sink: PageSink
    retry: RetrySettings
    observed_at: datetime
    _: KW_ONLY
    workspace: WorkspaceLink | None = None
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (Kind.IDENTITY.value,)

    @property
    def origin(self) -> str:
        return f"gcp/{self.tree.root}"

    def _error(self, exc: BaseException, origin: str, operation: str) -> CollectionError:
        return collection_error(exc, source=self.source, origin=origin, kinds=self.kinds,
                                operation=operation, redact=self.sink.raw.redact)

    def collect(self) -> Iterator[Evidence | CollectionError]:
        bindings: list[Binding] = []
        for name in sorted(self.tree.nodes):
            node = self.tree.nodes[name]
            origin = self.tree.node_origin(name)
            try:
                bindings += read_policy(self.rm, node, self.sink, self.retry, origin)
            except GOOGLE_FAILURES as exc:
                yield self._error(exc, origin, f"getIamPolicy {node.resource}")
        held, dropped = grants(self.tree, bindings, self.book, self.observed_at)
        holders: dict[str, Holder] = {}
        for grant in held:
            yield from self._hold(holders, grant)
        for d in dropped:
            member = parse_member(d.member)
            if member.text in holders:
                holders[member.text].dropped.append(d)
        lookup: Callable[[str], Lookup] = (self.workspace.lookup if self.workspace
                                           else no_directory)
        for key in sorted(holders):
            yield principal_identity(holders[key], root=self.tree.root,
                                     observed_at=self.observed_at, lookup=lookup)

    def _hold(self, holders: dict[str, Holder],
              grant: Grant) -> Iterator[CollectionError]:
        member = grant.member
        if member.kind is MemberKind.GROUP:
            yield from self._expand(holders, grant)
        elif member.kind is MemberKind.DOMAIN:
            yield CollectionError(
                source=self.source, origin=f"{self.origin}/domain/{member.value}",
                kinds=self.kinds, operation="expand domain",
                message=f"{grant.describe()}: every account of domain {member.value} holds "
                        "it; they are not listed one by one",
            )
        else:
            holders.setdefault(member.text, Holder(member)).grants.append((grant, None))

    def _expand(self, holders: dict[str, Holder], grant: Grant) -> Iterator[CollectionError]:
        group = grant.member.value
        origin = f"{self.origin}/groups/{group}"
        if self.workspace is None:
            yield CollectionError(
                source=self.source, origin=origin, kinds=self.kinds, operation="members.list",
                message=f"{grant.describe()}: the members of group {group} cannot be read "
                        "without a Workspace Directory (workspace:)")
            return
        try:
            expansion = self.workspace.expand(group)
        except LookupError as exc:
            yield CollectionError(source=self.source, origin=origin, kinds=self.kinds,
                                  operation="members.list", message=f"{grant.describe()}: {exc}")
            return
        except GOOGLE_FAILURES as exc:
            yield self._error(exc, origin, f"members.list {group}")
            return
        if expansion.whole_domain:
            yield CollectionError(
                source=self.source, origin=origin, kinds=self.kinds, operation="members.list",
                message=f"{grant.describe()}: group {group} includes every user of the "
                        "domain; they are not listed one by one")
        for user in expansion.users:
            if not user.email:
                continue
            member = Member(f"user:{user.email.lower()}", MemberKind.USER, user.email.lower())
            holder = holders.setdefault(member.text, Holder(member))
            holder.grants.append((grant, "group " + " > ".join(user.path)))
            holder.member_status = holder.member_status or user.status


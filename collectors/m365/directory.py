"""Directory roles (who is privileged, and why) and transitive group membership."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from msgraph.generated.groups.item.transitive_members.graph_user.graph_user_request_builder import (  # noqa: E501
    GraphUserRequestBuilder,
)
from msgraph.generated.role_management.directory.role_assignments.role_assignments_request_builder import (  # noqa: E501
    RoleAssignmentsRequestBuilder,
)
from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365.graph import GraphFailure, GraphReader


@dataclass
class RoleHolding:
    """Active directory roles per user id: role template ids and a readable reason."""

    templates: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    raw_refs: set[str] = field(default_factory=set)


async def group_members(client: GraphServiceClient, reader: GraphReader,
                        group_ids: Iterable[str],
                        missing: Callable[[str, GraphFailure], None] | None = None,
                        ) -> dict[str, frozenset[str]]:
    """Transitive user members of each group (nested groups expanded by Graph).

    With ``missing``, a group Graph answers 404 for (deleted, yet still named by a
    Conditional Access policy) has no members and is reported to ``missing``; any other
    failure, or a 404 without ``missing``, raises.
    """
    query = GraphUserRequestBuilder.GraphUserRequestBuilderGetQueryParameters(
        select=["id"], top=999)
    out: dict[str, frozenset[str]] = {}
    for gid in sorted(set(group_ids)):
        builder = client.groups.by_group_id(gid).transitive_members.graph_user
        try:
            out[gid] = frozenset(
                [u.id async for u, _ in reader.items(builder, "group-members", query)])
        except GraphFailure as exc:
            if missing is None or exc.status != 404:
                raise
            missing(gid, exc)
            out[gid] = frozenset()
    return out


async def role_holdings(client: GraphServiceClient, reader: GraphReader) -> RoleHolding:
    """Active role assignments (``$expand=principal``); group principals are expanded.

    PIM *eligible* assignments are not active and do not appear here (see the permissions doc).
    """
    names: dict[str, tuple[str, str]] = {}  # definition id -> (display name, template id)
    async for d, _ in reader.items(client.role_management.directory.role_definitions,
                                   "role-definitions"):
        names[d.id] = (d.display_name or d.id, d.template_id or d.id)
    holding = RoleHolding()
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    query = RoleAssignmentsRequestBuilder.RoleAssignmentsRequestBuilderGetQueryParameters(
        expand=["principal"])
    async for a, ref in reader.items(client.role_management.directory.role_assignments,
                                     "role-assignments", query):
        rid = a.role_definition_id
        name, template = names.get(rid, (rid, rid))
        principal = a.principal
        kind = (getattr(principal, "odata_type", "") or "").lower()
        pid = a.principal_id or getattr(principal, "id", None)
        if pid is None:
            continue
        scope = a.directory_scope_id or "/"
        label = name if scope == "/" else f"{name} (scope {scope})"
        if kind.endswith(".group"):
            groups[pid].append((template, f"{label} via group "
                                f"{getattr(principal, 'display_name', None) or pid}"))
        elif kind.endswith(".user") or not kind:
            holding.templates[pid].add(template)
            holding.reasons[pid].append(label)
        holding.raw_refs.add(ref)
    members = await group_members(client, reader, groups) if groups else {}
    for gid, grants in groups.items():
        for uid in members.get(gid, ()):
            for template, label in grants:
                holding.templates[uid].add(template)
                holding.reasons[uid].append(label)
    return holding

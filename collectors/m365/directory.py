"""Directory roles (who is privileged, and why) and transitive group membership."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgraph.generated.groups.item.transitive_members.graph_user.graph_user_request_builder import (  # noqa: E501
    GraphUserRequestBuilder,
)
from msgraph.generated.role_management.directory.role_assignments.role_assignments_request_builder import (  # noqa: E501
    RoleAssignmentsRequestBuilder,
)
from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365.batch import BatchReader, Request
from clausewatch.collectors.m365.graph import GraphFailure, GraphReader
from clausewatch.collectors.m365.listing import Row, rows
from clausewatch.collectors.m365.users import MAX_PAGE


class RoleDefinitionRow(msgspec.Struct, frozen=True, rename="camel"):
    """A ``unifiedRoleDefinition`` as read here
    (https://learn.microsoft.com/graph/api/resources/unifiedroledefinition: ``id``,
    ``displayName`` and ``templateId`` String)."""

    id: str
    display_name: str | None = None
    template_id: str | None = None


class PrincipalRow(msgspec.Struct, frozen=True, rename="camel"):
    """An assignment's expanded ``principal`` (a ``directoryObject``: user, group, service
    principal), told apart by its ``@odata.type``."""

    odata_type: str | None = msgspec.field(default=None, name="@odata.type")
    id: str | None = None
    display_name: str | None = None


class RoleAssignmentRow(msgspec.Struct, frozen=True, rename="camel"):
    """A ``unifiedRoleAssignment`` as read here
    (https://learn.microsoft.com/graph/api/resources/unifiedroleassignment:
    ``roleDefinitionId`` (required here: an assignment of no role cannot be read),
    ``principalId`` and ``directoryScopeId`` String, ``principal`` with ``$expand``)."""

    role_definition_id: str
    principal_id: str | None = None
    directory_scope_id: str | None = None
    principal: PrincipalRow | None = None


@dataclass
class RoleHolding:
    """Active directory roles per user id: role template ids and a readable reason."""

    templates: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    raw_refs: set[str] = field(default_factory=set)


async def group_members(client: GraphServiceClient, batch: BatchReader,
                        group_ids: Iterable[str],
                        missing: Callable[[str, GraphFailure], None] | None = None,
                        ) -> dict[str, frozenset[str]]:
    """Transitive user members of each group (nested groups expanded by Graph), 20 groups per
    ``$batch``, ``$top=999`` (the directory maximum), every page followed.

    With ``missing``, a group Graph answers 404 for (deleted, yet still named by a
    Conditional Access policy) has no members and is reported to ``missing``; any other
    failure, or a 404 without ``missing``, raises (the first, in group id order).
    """
    query = GraphUserRequestBuilder.GraphUserRequestBuilderGetQueryParameters(
        select=["id"], top=MAX_PAGE)
    ids = sorted(set(group_ids))
    outcomes = await batch.get(
        (Request(gid, client.groups.by_group_id(gid).transitive_members.graph_user, query)
         for gid in ids), "group-members")
    out: dict[str, frozenset[str]] = {}
    for gid in ids:
        outcome = outcomes[gid]
        if isinstance(outcome, GraphFailure):
            if missing is None or outcome.status != 404:
                raise outcome
            missing(gid, outcome)
            out[gid] = frozenset()
            continue
        members: set[str] = set()
        for page in outcome:
            found = page.values("group-members")
            members.update(str(u["id"]) for u in found if isinstance(u, dict) and u.get("id"))
        out[gid] = frozenset(members)
    return out


async def role_holdings(client: GraphServiceClient, reader: GraphReader,
                        batch: BatchReader) -> RoleHolding:
    """Active role assignments (``$expand=principal``); group principals are expanded.

    Role definitions and assignments are read concurrently. PIM *eligible* assignments are not
    active and do not appear here (see the permissions doc).
    """
    query = RoleAssignmentsRequestBuilder.RoleAssignmentsRequestBuilderGetQueryParameters(
        expand=["principal"])
    got: list[Any] = list(await asyncio.gather(
        _all(rows(reader, client.role_management.directory.role_definitions,
                  "role-definitions", None, RoleDefinitionRow, _with_ref)),
        _all(rows(reader, client.role_management.directory.role_assignments,
                  "role-assignments", query, RoleAssignmentRow, _with_ref)),
        return_exceptions=True))
    for result in got:
        if isinstance(result, BaseException):
            raise result
    definitions: list[tuple[RoleDefinitionRow, str]] = got[0]
    assignments: list[tuple[RoleAssignmentRow, str]] = got[1]
    names: dict[str, tuple[str, str]] = {}  # definition id -> (name, template id)
    for d, _ in definitions:
        names[d.id] = (d.display_name or d.id, d.template_id or d.id)
    holding = RoleHolding()
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a, ref in assignments:
        rid = a.role_definition_id
        name, template = names.get(rid, (rid, rid))
        principal = a.principal or PrincipalRow()
        kind = (principal.odata_type or "").lower()
        pid = a.principal_id or principal.id
        if pid is None:
            continue
        scope = a.directory_scope_id or "/"
        label = name if scope == "/" else f"{name} (scope {scope})"
        if kind.endswith(".group"):
            groups[pid].append((template, f"{label} via group "
                                f"{principal.display_name or pid}"))
        elif kind.endswith(".user") or not kind:
            holding.templates[pid].add(template)
            holding.reasons[pid].append(label)
        holding.raw_refs.add(ref)
    members = await group_members(client, batch, groups) if groups else {}
    for gid, grants in groups.items():
        for uid in members.get(gid, ()):
            for template, label in grants:
                holding.templates[uid].add(template)
                holding.reasons[uid].append(label)
    return holding


def _with_ref(row: Row, ref: str) -> tuple[Row, str]:
    return row, ref


async def _all(pages: AsyncIterator[tuple[list[Row], str]]) -> list[Row]:
    return [x async for page, _ in pages for x in page]

"""The Entra ID collector: one ``identity`` record per user, MFA registration and enforcement.

``mfa_enforced`` is True when security defaults are on (Microsoft's baseline: MFA for admins on
every sign-in, for users when Entra judges it necessary) or when an enabled Conditional Access
policy enforces MFA on every cloud app for the user (``conditional_access`` says exactly when);
it names the policy in ``mfa_enforced_by``. ``mfa_registered`` is None for guests (their methods
live in their home tenant) and for users the registration report does not list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, cast

from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365 import conditional_access as ca
from clausewatch.collectors.m365.batch import BatchReader
from clausewatch.collectors.m365.clients import RetryPolicy
from clausewatch.collectors.m365.directory import RoleHolding, group_members, role_holdings
from clausewatch.collectors.m365.graph import GraphFailure, GraphReader, Item, run_tenant
from clausewatch.collectors.m365.mfa import Enforcement, Registration, enforcement, registrations
from clausewatch.collectors.m365.users import (
    EntraUser,
    account_type,
    user_pages,
    with_mailbox_purpose,
)
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.evidence import Evidence, Kind, RunWarning, default_evidence_id

SOURCE = "entra"


@dataclass(frozen=True, slots=True)
class EntraCollector:
    """Identities of one tenant."""

    tenant_id: str
    client: GraphServiceClient
    raw: RawRecorder
    observed_at: datetime
    _: KW_ONLY
    classify_mailboxes: bool = True
    service_accounts: Sequence[str] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # the entry's: budget and gate
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (Kind.IDENTITY.value,)

    @property
    def origin(self) -> str:
        return f"entra/{self.tenant_id}"

    def collect(self) -> Iterator[Item]:
        return run_tenant(self.source, self.origin, self.kinds, self.raw,
                          f"Entra ID tenant {self.tenant_id}: ", self._collect,
                          facts={"tenant_id": self.tenant_id})

    async def _collect(self, reader: GraphReader) -> list[Item]:
        """Independent listings run concurrently (the tenant gate bounds what is in flight):
        users (each page's mailboxes batched as soon as it arrives), the registration report,
        security defaults and Conditional Access (then its groups' members), role definitions
        and assignments (then role groups' members). Of several failures, the first in that
        order is the one reported."""
        client = self.client
        batch = BatchReader(reader, client.request_adapter, self.retry)
        users = asyncio.ensure_future(self._users(reader, batch))
        regs = asyncio.ensure_future(registrations(client, reader, batch, users))

        async def premium() -> bool:
            return (await regs)[1]

        warnings: list[Item] = []

        async def policies() -> tuple[Enforcement, dict[str, frozenset[str]]]:
            enf = await enforcement(client, reader, premium)

            def deleted(group: str, exc: GraphFailure) -> None:
                """A group a policy still names but Graph no longer has: no members, said
                aloud."""
                names = [p.label for p in enf.policies
                         if group in p.include_groups or group in p.exclude_groups]
                warnings.append(RunWarning(
                    source=self.source, origin=self.origin, operation="group-members",
                    message=f"group {group} named by {', '.join(names) or 'a policy'} no longer "
                    f"exists (HTTP 404): read as a group without members",
                    details={"group": group, "policies": names, "code": exc.code}))

            members = await group_members(client, batch, ca.referenced_groups(enf.policies),
                                          missing=deleted)
            return enf, members

        done = await asyncio.gather(users, regs, policies(), role_holdings(client, reader, batch),
                                    return_exceptions=True)
        for result in done:
            if isinstance(result, BaseException):
                raise result
        found, (reg_map, _), (enf, members), roles = cast(
            tuple[list[EntraUser], tuple[dict[str, Registration], bool],
                  tuple[Enforcement, dict[str, frozenset[str]]], RoleHolding], tuple(done))
        return [*(self._identity(u, reg_map.get(u.id), enf, roles, members) for u in found),
                *warnings]

    async def _users(self, reader: GraphReader, batch: BatchReader) -> list[EntraUser]:
        """Every user; with ``classify_mailboxes``, each page's mailboxes are read (batched)
        while the next page is fetched."""
        pages: list[asyncio.Future[list[EntraUser]]] = []
        async for page in user_pages(self.client, reader):
            if self.classify_mailboxes:
                pages.append(asyncio.ensure_future(
                    with_mailbox_purpose(self.client, batch, page)))
            else:
                pages.append(_done(page))
        out: list[EntraUser] = []
        for part in await asyncio.gather(*pages):
            out += part
        return out

    def _identity(self, user: EntraUser, reg: Registration | None, enf: Enforcement,
                  roles: RoleHolding, members: dict[str, frozenset[str]]) -> Evidence:
        who = ca.Principal(
            id=user.id,
            is_guest=user.is_guest,
            groups=frozenset(g for g, ids in members.items() if user.id in ids),
            roles=frozenset(roles.templates.get(user.id, ())),
        )
        policy = ca.enforcing(enf.policies, who)
        if enf.security_defaults:
            enforced, by = True, "security defaults"
        elif policy is not None:
            enforced, by = True, policy.label
        else:
            enforced, by = False, None
        reasons = roles.reasons.get(user.id, [])
        registered = None if user.is_guest or reg is None else reg.registered
        facts: dict[str, Any] = {
            "account": user.upn,
            "display_name": user.display_name,
            "enabled": user.enabled,  # None (not returned) stays unknown: never "disabled"
            "account_type": account_type(user, self.service_accounts),
            "privileged": bool(reasons),
            "privileged_reason": ", ".join(sorted(set(reasons))) or None,
            "mfa_registered": registered,
            "mfa_enforced": enforced,
            "mfa_enforced_by": by,
            "created_at": user.created_at,
            "object_id": user.id,
            "tenant_id": self.tenant_id,
            "mfa_methods": list(reg.methods) if reg else [],
            "mfa_registration_source": reg.via if reg else None,
            "mfa_report_only_policies": [p.label for p in ca.report_only(enf.policies, who)],
            "mailbox_purpose": user.mailbox_purpose,
        }
        if enf.note:
            facts["mfa_enforcement_note"] = enf.note
        pages = [user.raw_ref, *(x for x in [reg.raw_ref if reg else None, user.mailbox_ref]
                                 if x), *enf.raw_refs]
        facts["raw_pages"] = list(dict.fromkeys(pages))
        return Evidence(
            id=default_evidence_id(Kind.IDENTITY, self.source, user.upn, facts),
            kind=Kind.IDENTITY.value,
            source=self.source,
            subject=user.upn,
            observed_at=self.observed_at,
            facts=facts,
            origin=self.origin,
            raw_ref=user.raw_ref,
        )


def _done(value: list[EntraUser]) -> asyncio.Future[list[EntraUser]]:
    future: asyncio.Future[list[EntraUser]] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future

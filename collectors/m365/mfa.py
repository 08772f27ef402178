"""MFA registration per user, and the tenant settings that enforce MFA.

Registration comes from ``reports/authenticationMethods/userRegistrationDetails`` (needs Entra ID
P1/P2). A tenant without it answers 403 ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``;
the collector then reads each user's ``authentication/methods`` and counts the strong ones.
Enforcement comes from security defaults or Conditional Access (see ``conditional_access``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365.conditional_access import CaPolicy, from_sdk
from clausewatch.collectors.m365.graph import GraphFailure, GraphReader
from clausewatch.collectors.m365.users import PARALLEL_CALLS, EntraUser

NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
#: authentication method types that are a second factor (password and email are not)
STRONG_METHODS = frozenset({
    "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
    "#microsoft.graph.phoneAuthenticationMethod",
    "#microsoft.graph.fido2AuthenticationMethod",
    "#microsoft.graph.softwareOathAuthenticationMethod",
    "#microsoft.graph.hardwareOathAuthenticationMethod",
    "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
    "#microsoft.graph.platformCredentialAuthenticationMethod",
    "#microsoft.graph.x509CertificateAuthenticationMethod",
})


@dataclass(frozen=True, slots=True)
class Registration:
    """What a user has registered: ``registered`` is None when the source cannot tell."""

    registered: bool | None
    methods: tuple[str, ...]
    raw_ref: str
    via: str  # "registration report" | "authentication methods"


@dataclass(frozen=True, slots=True)
class Enforcement:
    """The tenant's MFA enforcement settings."""

    security_defaults: bool
    policies: tuple[CaPolicy, ...]
    raw_refs: tuple[str, ...]
    note: str | None = None


async def registrations(client: GraphServiceClient, reader: GraphReader,
                        users: Sequence[EntraUser]) -> tuple[dict[str, Registration], bool]:
    """Registration per user id, and whether the tenant is premium (P1/P2)."""
    out: dict[str, Registration] = {}
    builder = client.reports.authentication_methods.user_registration_details
    try:
        async for r, ref in reader.items(builder, "registration-details"):
            capable = r.is_mfa_capable if r.is_mfa_capable is not None else r.is_mfa_registered
            out[r.id] = Registration(capable, tuple(r.methods_registered or ()), ref,
                                     "registration report")
        return out, True
    except GraphFailure as exc:
        if exc.status != 403 or exc.code != NON_PREMIUM:
            raise
    return await _methods_per_user(client, reader, users), False


async def _methods_per_user(client: GraphServiceClient, reader: GraphReader,
                            users: Sequence[EntraUser]) -> dict[str, Registration]:
    gate = asyncio.Semaphore(PARALLEL_CALLS)

    async def one(user: EntraUser) -> tuple[str, Registration]:
        async with gate:
            page = await reader.get(client.users.by_user_id(user.id).authentication.methods,
                                    "authentication-methods")
        kinds = tuple(m.odata_type or "" for m in page.model.value or [])
        strong = tuple(k.rsplit(".", 1)[-1] for k in kinds if k in STRONG_METHODS)
        return user.id, Registration(bool(strong), strong, page.raw_ref,
                                     "authentication methods")

    pairs = await asyncio.gather(*(one(u) for u in users if not u.is_guest))
    return dict(pairs)


async def enforcement(client: GraphServiceClient, reader: GraphReader,
                      premium: bool) -> Enforcement:
    """Security defaults and Conditional Access policies."""
    page = await reader.get(client.policies.identity_security_defaults_enforcement_policy,
                            "security-defaults")
    defaults = bool(page.model.is_enabled)
    refs = [page.raw_ref]
    policies: list[CaPolicy] = []
    note = None
    try:
        async for pg in reader.pages(client.identity.conditional_access.policies,
                                     "conditional-access"):
            policies += [from_sdk(p) for p in pg.model.value or []]
            refs.append(pg.raw_ref)
    except GraphFailure as exc:
        # Conditional Access needs Entra ID P1: a tenant known to lack it has no policy in force.
        if premium or exc.status != 403:
            raise
        note = f"no Conditional Access (tenant without Entra ID P1/P2: {exc.code or 'HTTP 403'})"
    return Enforcement(defaults, tuple(policies), tuple(dict.fromkeys(refs)), note)

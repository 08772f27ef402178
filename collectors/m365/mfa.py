"""MFA registration per user, and the tenant settings that enforce MFA.

Registration comes from ``reports/authenticationMethods/userRegistrationDetails`` (needs Entra ID
P1/P2). A tenant without it answers 403 ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``;
the collector then reads each user's ``authentication/methods`` (20 users per ``$batch``) and
counts the strong ones.
Enforcement comes from security defaults or Conditional Access (see ``conditional_access``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import msgspec
from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365.batch import BatchReader, Request
from clausewatch.collectors.m365.conditional_access import CaPolicy, from_sdk
from clausewatch.collectors.m365.graph import GraphFailure, GraphReader
from clausewatch.collectors.m365.listing import one, rows
from clausewatch.collectors.m365.users import EntraUser

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


class RegistrationRow(msgspec.Struct, frozen=True, rename="camel"):
    """The properties of a ``userRegistrationDetails`` read here
    (https://learn.microsoft.com/graph/api/resources/userregistrationdetails: ``id`` String,
    the user's object id; ``isMfaCapable`` and ``isMfaRegistered`` Boolean;
    ``methodsRegistered`` String collection)."""

    id: str
    is_mfa_capable: bool | None = None
    is_mfa_registered: bool | None = None
    methods_registered: list[str] | None = None


class SecurityDefaults(msgspec.Struct, frozen=True, rename="camel"):
    """The property of ``identitySecurityDefaultsEnforcementPolicy`` read here
    (https://learn.microsoft.com/graph/api/resources/identitysecuritydefaultsenforcementpolicy:
    ``isEnabled`` Boolean). Read light: the SDK's model of this one object made kiota import
    every ``directoryObject`` model (about 0.9 s of CPU). Missing reads as not enabled, as the
    SDK's ``None`` did; a value not Boolean fails the read."""

    is_enabled: bool | None = None


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


async def registrations(client: GraphServiceClient, reader: GraphReader, batch: BatchReader,
                        users: Awaitable[Sequence[EntraUser]]
                        ) -> tuple[dict[str, Registration], bool]:
    """Registration per user id, and whether the tenant is premium (P1/P2). ``users`` (a task:
    it may be awaited again) is awaited only for a tenant without the registration report.

    The report supports only ``$filter`` and ``$orderby``
    (https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails):
    no ``$top`` is sent, its pages are as large as Graph makes them."""
    out: dict[str, Registration] = {}
    builder = client.reports.authentication_methods.user_registration_details
    try:
        async for page, _ in rows(reader, builder, "registration-details", None,
                                  RegistrationRow, _registration):
            out.update(page)
        return out, True
    except GraphFailure as exc:
        if exc.status != 403 or exc.code != NON_PREMIUM:
            raise
    return await _methods_per_user(client, batch, await users), False


def _registration(r: RegistrationRow, ref: str) -> tuple[str, Registration]:
    capable = r.is_mfa_capable if r.is_mfa_capable is not None else r.is_mfa_registered
    return r.id, Registration(capable, tuple(r.methods_registered or ()), ref,
                              "registration report")


async def _methods_per_user(client: GraphServiceClient, batch: BatchReader,
                            users: Sequence[EntraUser]) -> dict[str, Registration]:
    """Each member's ``authentication/methods``, 20 users per ``$batch``, every page read."""
    asked = [u for u in users if not u.is_guest]
    outcomes = await batch.get(
        (Request(u.id, client.users.by_user_id(u.id).authentication.methods) for u in asked),
        "authentication-methods")
    out: dict[str, Registration] = {}
    for user in asked:
        outcome = outcomes[user.id]
        if isinstance(outcome, GraphFailure):
            raise outcome
        kinds = []
        for page in outcome:
            found = page.values("authentication-methods")
            kinds += [str(m.get("@odata.type") or "") for m in found if isinstance(m, dict)]
        strong = tuple(k.rsplit(".", 1)[-1] for k in kinds if k in STRONG_METHODS)
        out[user.id] = Registration(bool(strong), strong, outcome[0].raw_ref,
                                    "authentication methods")
    return out


async def enforcement(client: GraphServiceClient, reader: GraphReader,
                      premium: Callable[[], Awaitable[bool]]) -> Enforcement:
    """Security defaults and Conditional Access policies, read concurrently; ``premium()`` is
    awaited only when Conditional Access answers 403."""
    defaults_read, ca = await asyncio.gather(
        one(reader, client.policies.identity_security_defaults_enforcement_policy,
            "security-defaults", SecurityDefaults),
        _policies(client, reader), return_exceptions=True)
    if isinstance(defaults_read, BaseException):
        raise defaults_read
    defaults = bool(defaults_read[0].is_enabled)
    refs = [defaults_read[1]]
    policies: list[CaPolicy] = []
    note = None
    if isinstance(ca, GraphFailure):
        exc = ca
        # Conditional Access needs Entra ID P1: a tenant known to lack it has no policy in force.
        if exc.status != 403 or await premium():
            raise exc
        note = f"no Conditional Access (tenant without Entra ID P1/P2: {exc.code or 'HTTP 403'})"
    elif isinstance(ca, BaseException):
        raise ca
    else:
        for found, ref in ca:
            policies += found
            refs.append(ref)
    return Enforcement(defaults, tuple(policies), tuple(dict.fromkeys(refs)), note)


async def _policies(client: GraphServiceClient, reader: GraphReader
                    ) -> list[tuple[list[CaPolicy], str]]:
    """Conditional Access policies, page by page with each page's ``raw_ref``."""
    return [([from_sdk(p) for p in pg.model.value or []], pg.raw_ref)
            async for pg in reader.pages(client.identity.conditional_access.policies,
                                         "conditional-access")]

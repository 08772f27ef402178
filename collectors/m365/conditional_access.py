"""Does a Conditional Access policy *enforce* MFA on a given user? Pure functions, no I/O.

A policy enforces MFA for a user when all of these hold:

* its state is ``enabled`` (``enabledForReportingButNotEnforced`` is report-only: it enforces
  nothing; ``disabled`` neither);
* it targets all cloud apps (``includeApplications`` has ``All``) with no excluded app, user
  action, authentication context or app filter;
* nothing narrows when it applies: client app types other than all, platforms, locations,
  device filters, sign-in / user / service principal / insider risk, authentication flows (a
  policy that asks for MFA only from outside the office or on risky sign-ins is conditional MFA);
* its grant requires MFA: ``mfa`` among the built-in controls or an authentication strength, and
  no alternative control can satisfy it instead (``OR`` with ``compliantDevice`` means a
  compliant device alone lets the user in without MFA); ``block`` is not MFA;
* it includes the user (``All`` users, the user directly, one of the user's groups, transitive
  membership expanded by the caller, or a directory role the user holds, or guests for a guest)
  and does not exclude them by any of the same routes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

ALL = "All"
GUESTS = "GuestsOrExternalUsers"


def _v(value: Any) -> str:
    """An SDK enum or string as its wire value."""
    return str(getattr(value, "value", value))


def _vs(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(_v(v) for v in values or ())


@dataclass(frozen=True, slots=True, kw_only=True)
class CaPolicy:
    """What matters of a Conditional Access policy, in wire terms."""

    id: str
    name: str
    state: str
    include_users: tuple[str, ...] = ()
    exclude_users: tuple[str, ...] = ()
    include_groups: tuple[str, ...] = ()
    exclude_groups: tuple[str, ...] = ()
    include_roles: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()
    include_guests: bool = False  # includeGuestsOrExternalUsers covers B2B collaboration guests
    exclude_guests: bool = False  # excludeGuestsOrExternalUsers set at all
    gaps: tuple[str, ...] = ()  # why it is not "MFA for all cloud apps" (empty: it is)

    @property
    def label(self) -> str:
        return f"Conditional Access policy {self.id} ({self.name})"

    @property
    def requires_mfa_everywhere(self) -> bool:
        return not self.gaps

    @property
    def enforced(self) -> bool:
        return self.state == "enabled"


@dataclass(frozen=True, slots=True)
class Principal:
    """A user as Conditional Access sees it."""

    id: str
    is_guest: bool
    groups: frozenset[str] = field(default_factory=frozenset)  # transitive group ids
    roles: frozenset[str] = field(default_factory=frozenset)  # active role template ids


def from_sdk(policy: Any) -> CaPolicy:
    """Convert an SDK ``ConditionalAccessPolicy``."""
    cond = policy.conditions
    users = getattr(cond, "users", None)
    inc_guests = getattr(users, "include_guests_or_external_users", None)
    exc_guests = getattr(users, "exclude_guests_or_external_users", None)
    return CaPolicy(
        id=policy.id,
        name=policy.display_name or policy.id,
        state=_v(policy.state),
        include_users=_vs(getattr(users, "include_users", None)),
        exclude_users=_vs(getattr(users, "exclude_users", None)),
        include_groups=_vs(getattr(users, "include_groups", None)),
        exclude_groups=_vs(getattr(users, "exclude_groups", None)),
        include_roles=_vs(getattr(users, "include_roles", None)),
        exclude_roles=_vs(getattr(users, "exclude_roles", None)),
        include_guests=_covers_collaboration_guests(inc_guests),
        exclude_guests=exc_guests is not None,
        gaps=tuple(_scope_gaps(cond) + _grant_gaps(policy.grant_controls)),
    )


def _covers_collaboration_guests(spec: Any) -> bool:
    if spec is None:
        return False
    types = _v(getattr(spec, "guest_or_external_user_types", "") or "")
    tenants = getattr(spec, "external_tenants", None)
    kind = _v(getattr(tenants, "membership_kind", "all") or "all") if tenants else "all"
    return "b2bCollaborationGuest" in types and kind == "all"


def _scope_gaps(cond: Any) -> list[str]:
    gaps: list[str] = []
    if cond is None:
        return ["no conditions"]
    apps = cond.applications
    if apps is None or ALL not in _vs(apps.include_applications):
        gaps.append("does not target all cloud apps")
    else:
        if apps.exclude_applications:
            gaps.append(f"excludes apps {', '.join(_vs(apps.exclude_applications))}")
        if apps.include_user_actions:
            gaps.append("targets user actions, not sign-ins")
        if apps.include_authentication_context_class_references:
            gaps.append("targets authentication contexts")
        if apps.application_filter is not None:
            gaps.append("filters applications")
    client_apps = set(_vs(cond.client_app_types))
    if client_apps and "all" not in client_apps and not {
        "browser", "mobileAppsAndDesktopClients"} <= client_apps:
        gaps.append(f"only for client apps {', '.join(sorted(client_apps))}")
    platforms = cond.platforms
    if platforms is not None and (
        set(_vs(platforms.include_platforms)) - {"all"} or platforms.exclude_platforms
    ):
        gaps.append("narrowed by device platform")
    locations = cond.locations
    if locations is not None and (
        set(_vs(locations.include_locations)) - {ALL} or locations.exclude_locations
    ):
        gaps.append("narrowed by location")
    if cond.devices is not None and getattr(cond.devices, "device_filter", None) is not None:
        gaps.append("narrowed by a device filter")
    for name in ("sign_in_risk_levels", "user_risk_levels", "service_principal_risk_levels"):
        if getattr(cond, name, None):
            gaps.append(f"only at {name.replace('_', ' ').removesuffix(' levels')}")
    if cond.insider_risk_levels is not None:
        gaps.append("only at insider risk")
    if cond.authentication_flows is not None:
        gaps.append("narrowed by authentication flow")
    return gaps


def _grant_gaps(grant: Any) -> list[str]:
    if grant is None:
        return ["grants access without controls"]
    controls = _vs(grant.built_in_controls)
    strength = grant.authentication_strength is not None
    if "block" in controls:
        return ["blocks access (not MFA)"]
    if "mfa" not in controls and not strength:
        return [f"grant does not require MFA ({', '.join(controls) or 'no control'})"]
    alternatives = len(controls) + int(strength)
    if (grant.operator or "AND").upper() == "OR" and alternatives > 1:
        others = [c for c in controls if c != "mfa"]
        return [f"MFA is one option among others (OR {', '.join(others) or 'strength'})"]
    return []


def targets(policy: CaPolicy, who: Principal) -> bool:
    """The policy includes the principal and does not exclude them."""
    included = (
        ALL in policy.include_users
        or who.id in policy.include_users
        or (who.is_guest and (GUESTS in policy.include_users or policy.include_guests))
        or bool(who.groups.intersection(policy.include_groups))
        or bool(who.roles.intersection(policy.include_roles))
    )
    excluded = (
        who.id in policy.exclude_users
        or (who.is_guest and (GUESTS in policy.exclude_users or policy.exclude_guests))
        or bool(who.groups.intersection(policy.exclude_groups))
        or bool(who.roles.intersection(policy.exclude_roles))
    )
    return included and not excluded


def enforcing(policies: Sequence[CaPolicy], who: Principal) -> CaPolicy | None:
    """The first enabled policy that enforces MFA on every cloud app for this principal."""
    for p in policies:
        if p.enforced and p.requires_mfa_everywhere and targets(p, who):
            return p
    return None


def report_only(policies: Sequence[CaPolicy], who: Principal) -> list[CaPolicy]:
    """Report-only policies that would enforce MFA on this principal (they do not, yet)."""
    return [
        p for p in policies
        if p.state == "enabledForReportingButNotEnforced" and p.requires_mfa_everywhere
        and targets(p, who)
    ]


def referenced_groups(policies: Sequence[CaPolicy]) -> set[str]:
    """Group ids that candidate policies include or exclude (to expand transitively)."""
    out: set[str] = set()
    for p in policies:
        if p.requires_mfa_everywhere and p.state != "disabled":
            out.update(p.include_groups, p.exclude_groups)
    return out

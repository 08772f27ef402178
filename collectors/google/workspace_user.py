"""What a Directory user says: account state and 2-Step Verification, as identity facts.

One normalisation for every path that meets a Workspace user: the ``workspace`` source, the
``gcp`` source (a privileged Google Cloud principal's 2SV comes from the same Directory record)
and the demo. Fields from the Admin SDK Directory API ``users`` resource
(https://developers.google.com/workspace/admin/directory/reference/rest/v1/users):

* ``mfa_registered`` = ``isEnrolledIn2Sv``, ``mfa_enforced`` = ``isEnforcedIn2Sv`` (output-only
  booleans). A missing flag stays ``None`` (the source cannot tell): never compliant.
* ``enabled`` is False for a ``suspended`` or ``archived`` user (neither can sign in), True when
  ``suspended`` is false, None when the record does not say.
* ``lastLoginTime`` of ``1970-01-01T00:00:00Z`` means "never signed in" (seen in real answers,
  not documented): kept as ``last_login_at: None`` with ``never_signed_in: true``.
* Booleans are JSON booleans per the discovery document; ``"true"``/``"false"`` strings are
  accepted too (one third-party report), anything else is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clausewatch.core.clock import parse_utc

NEVER = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def flag(value: Any) -> bool | None:
    """A Directory boolean: True/False, or None when absent or unreadable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_utc(value, "Directory timestamp")
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """One Directory user, as read."""

    id: str
    email: str
    display_name: str | None
    suspended: bool | None
    archived: bool | None
    is_admin: bool | None
    is_delegated_admin: bool | None
    enrolled_2sv: bool | None
    enforced_2sv: bool | None
    org_unit: str | None
    customer_id: str | None
    created_at: datetime | None
    last_login_at: datetime | None
    never_signed_in: bool
    aliases: tuple[str, ...]
    raw_ref: str

    @property
    def enabled(self) -> bool | None:
        if self.suspended is True or self.archived is True:
            return False
        return True if self.suspended is False else None


def parse_user(doc: Mapping[str, Any], raw_ref: str) -> DirectoryUser:
    """A ``users`` resource (a dict as the API returns it) as a :class:`DirectoryUser`."""
    name = doc.get("name") if isinstance(doc.get("name"), Mapping) else {}
    last = instant(doc.get("lastLoginTime"))
    never = last is not None and last <= NEVER
    email = str(doc.get("primaryEmail") or doc.get("id") or "")
    aliases = tuple(str(a).lower() for a in [*doc.get("aliases", ()),
                                              *doc.get("nonEditableAliases", ())])
    return DirectoryUser(
        id=str(doc.get("id") or email),
        email=email,
        display_name=(name.get("fullName") or name.get("displayName")) if name else None,
        suspended=flag(doc.get("suspended")),
        archived=flag(doc.get("archived")),
        is_admin=flag(doc.get("isAdmin")),
        is_delegated_admin=flag(doc.get("isDelegatedAdmin")),
        enrolled_2sv=flag(doc.get("isEnrolledIn2Sv")),
        enforced_2sv=flag(doc.get("isEnforcedIn2Sv")),
        org_unit=str(doc["orgUnitPath"]) if doc.get("orgUnitPath") else None,
        customer_id=str(doc["customerId"]) if doc.get("customerId") else None,
        created_at=instant(doc.get("creationTime")),
        last_login_at=None if never else last,
        never_signed_in=never,
        aliases=aliases,
        raw_ref=raw_ref,
    )


def mfa_facts(user: DirectoryUser) -> dict[str, Any]:
    """``mfa_registered``, ``mfa_enforced`` and ``mfa_enforced_by`` of a Directory user."""
    by = None
    if user.enforced_2sv:
        by = f"Workspace 2-Step Verification enforcement (org unit {user.org_unit or '/'})"
    return {"mfa_registered": user.enrolled_2sv, "mfa_enforced": user.enforced_2sv,
            "mfa_enforced_by": by}


def account_facts(user: DirectoryUser) -> dict[str, Any]:
    """The Directory facts every identity built from this user carries."""
    return {
        "display_name": user.display_name,
        "enabled": user.enabled,
        **mfa_facts(user),
        "created_at": user.created_at,
        "workspace_user_id": user.id,
        "customer_id": user.customer_id,
        "org_unit_path": user.org_unit,
        "suspended": user.suspended,
        "archived": user.archived,
        "last_login_at": user.last_login_at,
        "never_signed_in": user.never_signed_in,
    }

"""IAM member strings, told apart (``Binding.members`` in Resource Manager v3).

Formats (https://cloud.google.com/iam/docs/principal-identifiers): ``user:EMAIL``,
``serviceAccount:EMAIL``, ``group:EMAIL``, ``domain:DOMAIN``, ``allUsers``,
``allAuthenticatedUsers``, ``principal://…/workforcePools/…`` and
``principal://…/workloadIdentityPools/…`` (one federated identity), ``principalSet://…`` (a set
of them), and ``deleted:user:EMAIL?uid=N`` (also ``deleted:serviceAccount:``, ``deleted:group:``,
``deleted:principal://``) for a principal deleted since it was granted the role. The
``principal``/``principalSet``/``deleted`` forms are checked first; email forms split on the
first ``:`` only. Emails compare lower-case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MemberKind(StrEnum):
    USER = "user"
    SERVICE_ACCOUNT = "serviceAccount"
    GROUP = "group"
    DOMAIN = "domain"
    ALL_USERS = "allUsers"
    ALL_AUTHENTICATED = "allAuthenticatedUsers"
    WORKFORCE = "workforce"  # principal://…/workforcePools/… : a person, federated
    WORKLOAD = "workload"  # principal://…/workloadIdentityPools/… : a machine
    PRINCIPAL_SET = "principalSet"
    DELETED = "deleted"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Member:
    """One parsed member: its kind and its value (an email, a domain, a URI)."""

    text: str  # as written in the policy, normalised (email lower-case)
    kind: MemberKind
    value: str

    @property
    def email_domain(self) -> str | None:
        return self.value.rsplit("@", 1)[1] if "@" in self.value else None


_EMAIL_KINDS = {"user": MemberKind.USER, "serviceaccount": MemberKind.SERVICE_ACCOUNT,
                "group": MemberKind.GROUP, "domain": MemberKind.DOMAIN}


def parse_member(text: str) -> Member:
    raw = text.strip()
    if raw.startswith("deleted:"):
        return Member(raw, MemberKind.DELETED, raw[len("deleted:"):])
    if raw.startswith("principalSet://"):
        return Member(raw, MemberKind.PRINCIPAL_SET, raw)
    if raw.startswith("principal://"):
        kind = MemberKind.WORKLOAD if "/workloadIdentityPools/" in raw else MemberKind.WORKFORCE
        return Member(raw, kind, raw)
    if raw == "allUsers":
        return Member(raw, MemberKind.ALL_USERS, raw)
    if raw == "allAuthenticatedUsers":
        return Member(raw, MemberKind.ALL_AUTHENTICATED, raw)
    prefix, sep, value = raw.partition(":")
    email_kind = _EMAIL_KINDS.get(prefix.lower()) if sep else None
    if email_kind is None:
        return Member(raw, MemberKind.OTHER, raw)
    value = value.lower()
    return Member(f"{email_kind.value}:{value}", email_kind, value)

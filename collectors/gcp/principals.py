"""Google Cloud principals holding privileged roles, as ``identity`` records.

Subject ``gcp:<root>:<member>`` (``gcp:123456789012:user:alice@example.com``), never the bare
email: the same person's Workspace record (source ``workspace``) stays a separate subject, so a
commitment over both sources counts the Cloud privilege on its own instead of one record
hiding the other. ``account`` is the email (what ``break_glass`` and waivers name).

* ``user:`` (direct, or through a group, nested groups expanded): ``account_type`` member; 2SV,
  ``enabled`` and the display name from the Directory (:mod:`.workspace_link`); without a
  Directory record, ``mfa_*`` are null and ``mfa_note`` says why: ``no_evidence``.
* ``serviceAccount:`` and workload-identity ``principal://``: ``account_type`` service (out of
  a human population unless the contract includes service accounts); no 2SV (null).
* workforce-identity ``principal://`` / ``principalSet://``: federated people; their second
  factor is their identity provider's: null, with the reason.
* ``allUsers`` / ``allAuthenticatedUsers`` on a privileged role: anyone (signed in or not);
  ``mfa_enforced: false``: a breach, never compliant.
* ``privileged`` is true when one grant is of a privileged role, null when the only grants are
  of custom roles that could not be read (``privileged_note``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clausewatch.collectors.gcp.members import Member, MemberKind
from clausewatch.collectors.gcp.privilege import Dropped, Grant
from clausewatch.collectors.gcp.roles import Grade
from clausewatch.collectors.gcp.workspace_link import Lookup
from clausewatch.collectors.google.workspace_user import account_facts
from clausewatch.core.evidence import Evidence, Kind, default_evidence_id

SOURCE = "gcp"
MAX_REASONS = 6


@dataclass
class Holder:
    """One principal and the grants it holds (directly or through groups)."""

    member: Member
    grants: list[tuple[Grant, str | None]] = field(default_factory=list)  # (grant, via)
    dropped: list[Dropped] = field(default_factory=list)
    member_status: str | None = None  # status in the group listing, if reached through one

    @property
    def privileged(self) -> bool | None:
        if any(g.grade.grade is Grade.PRIVILEGED for g, _ in self.grants):
            return True
        return None

    def reason(self) -> str:
        parts = list(dict.fromkeys(g.describe(via) for g, via in self.grants))
        more = len(parts) - MAX_REASONS
        return "; ".join(parts[:MAX_REASONS]) + (f"; and {more} more" if more > 0 else "")


def _kind_facts(member: Member, lookup: Callable[[str], Lookup]) -> dict[str, Any]:
    kind = member.kind
    if kind is MemberKind.USER:
        found = lookup(member.value)
        if found.user is not None:
            return {"account_type": "member", **account_facts(found.user),
                    "workspace_raw_ref": found.user.raw_ref}
        return {"account_type": "member", "enabled": None, "mfa_registered": None,
                "mfa_enforced": None, "mfa_enforced_by": None, "mfa_note": found.note,
                "external": found.external}
    if kind in (MemberKind.SERVICE_ACCOUNT, MemberKind.WORKLOAD):
        return {"account_type": "service", "enabled": None, "mfa_registered": None,
                "mfa_enforced": None, "mfa_enforced_by": None,
                "mfa_note": "a service identity signs in with keys or tokens, not 2-Step "
                            "Verification"}
    if kind in (MemberKind.ALL_USERS, MemberKind.ALL_AUTHENTICATED):
        who = "anyone on the internet" if kind is MemberKind.ALL_USERS else \
            "any Google account"
        return {"account_type": "member", "enabled": True, "mfa_registered": False,
                "mfa_enforced": False, "mfa_enforced_by": None,
                "mfa_note": f"{who} holds this role: no second factor can be required"}
    note = ("a federated identity (workforce identity federation): its second factor is the "
            "identity provider's") if kind in (MemberKind.WORKFORCE,
                                                MemberKind.PRINCIPAL_SET) else \
        f"member type not understood ({member.text})"
    return {"account_type": "member", "enabled": None, "mfa_registered": None,
            "mfa_enforced": None, "mfa_enforced_by": None, "mfa_note": note}


def principal_identity(holder: Holder, *, root: str, observed_at: datetime,
                       lookup: Callable[[str], Lookup]) -> Evidence:
    """The identity record of one principal."""
    member = holder.member
    subject = f"gcp:{root}:{member.text}"
    facts: dict[str, Any] = {
        "account": member.value,
        "display_name": None,
        **_kind_facts(member, lookup),
        "privileged": holder.privileged,
        "privileged_reason": holder.reason() or None,
        "member": member.text,
        "member_kind": member.kind.value,
        "gcp_grants": [{**g.as_fact(), "via": via} for g, via in holder.grants],
        "gcp_projects": sorted({p for g, _ in holder.grants for p in g.projects}),
        "gcp_dropped_grants": [{"role": d.role, "on": d.node, "why": d.why}
                               for d in holder.dropped],
    }
    if holder.privileged is None:
        facts["privileged_note"] = "its only administrative grants are of custom roles that " \
                                   "could not be read"
    if holder.member_status:
        facts["group_member_status"] = holder.member_status
    refs = [g.raw_ref for g, _ in holder.grants]
    if facts.get("workspace_raw_ref"):
        refs.append(str(facts["workspace_raw_ref"]))
    refs += [r for g, _ in holder.grants if (r := g.grade.raw_ref)]
    facts["raw_pages"] = list(dict.fromkeys(refs))
    return Evidence(
        id=default_evidence_id(Kind.IDENTITY, SOURCE, subject, facts),
        kind=Kind.IDENTITY.value,
        source=SOURCE,
        subject=subject,
        observed_at=observed_at,
        facts=facts,
        origin=f"gcp/{root}",
        raw_ref=refs[0] if refs else None,
    )

"""Where a Google Cloud principal's 2-Step Verification is read: the Workspace Directory.

A ``user:`` principal of a domain the entry lists under ``workspace.domains`` is looked up with
``users.get`` (primary email or alias); its 2SV flags and account state come from the same
normalisation as the ``workspace`` source. Everything else stays unknown, with the reason: a
user outside those domains (a consumer Gmail account, another company's Workspace: its second
factor cannot be seen), a user the Directory does not know, a Directory that cannot be read.
No principal ever gets ``mfa_enforced: true`` without a Directory record saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clausewatch.collectors.google.directory import Directory, Expansion
from clausewatch.collectors.google.errors import GOOGLE_FAILURES, describe
from clausewatch.collectors.google.workspace_user import DirectoryUser, parse_user


@dataclass(frozen=True, slots=True)
class Lookup:
    """A principal's Directory record, or why there is none (``note``)."""

    user: DirectoryUser | None
    note: str | None
    external: bool = False


@dataclass
class WorkspaceLink:
    """The Directory of the Workspace the organisation's users belong to."""

    directory: Directory
    domains: frozenset[str]
    _users: dict[str, Lookup] = field(default_factory=dict)
    _groups: dict[str, Expansion] = field(default_factory=dict)
    _broken: str | None = None

    def in_domain(self, email: str) -> bool:
        domain = email.rsplit("@", 1)[-1].lower()
        return any(domain == d or domain.endswith("." + d) for d in self.domains)

    def lookup(self, email: str) -> Lookup:
        key = email.lower()
        if key in self._users:
            return self._users[key]
        found = self._lookup(key)
        self._users[key] = found
        return found

    def _lookup(self, email: str) -> Lookup:
        if not self.in_domain(email):
            return Lookup(None, f"outside the Workspace domain(s) {', '.join(sorted(self.domains))}"
                                ": its second factor cannot be seen", external=True)
        if self._broken is not None:
            return Lookup(None, self._broken)
        try:
            got = self.directory.user(email)
        except GOOGLE_FAILURES as exc:
            # one failure is enough: the next lookups would fail alike
            self._broken = f"the Workspace Directory could not be read ({describe(exc)})"
            return Lookup(None, self._broken)
        if got is None:
            return Lookup(None, "not a user of the Workspace Directory (deleted, or never "
                                "created there)")
        doc, ref = got
        return Lookup(parse_user(doc, ref), None)

    def expand(self, email: str) -> Expansion:
        """The users of a group (raises a Google failure, or ``LookupError`` outside the
        domains)."""
        if not self.in_domain(email):
            raise LookupError(f"group {email} is outside the Workspace domain(s) "
                              f"{', '.join(sorted(self.domains))}: its members cannot be read")
        key = email.lower()
        if key not in self._groups:  # a group holding several roles is read once
            self._groups[key] = self.directory.expand(email)
        return self._groups[key]


def no_directory(_: Any = None) -> Lookup:
    return Lookup(None, "no Workspace Directory configured for this source (workspace:): "
                        "2-Step Verification unknown")

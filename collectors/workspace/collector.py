"""The Workspace collector: one ``identity`` record per Directory user of one customer.

The user listing is read whole first: if any page fails, the collector yields only the
collection error (origin ``workspace/<customer>``, kind ``identity``), never the users of the
pages read so far as if they were all. Admin roles are read next; their failure leaves the
privilege of unflagged users unknown (``privileged: null`` with ``privileged_note``) rather than
failing the 2-Step Verification picture, which does not depend on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import ClassVar

from clausewatch.collectors.google.directory import Directory
from clausewatch.collectors.google.errors import GOOGLE_FAILURES, collection_error
from clausewatch.collectors.google.workspace_user import parse_user
from clausewatch.collectors.workspace.identity import SOURCE, workspace_identity
from clausewatch.collectors.workspace.roles import admin_roles
from clausewatch.core.evidence import CollectionError, Evidence, Kind


@dataclass(frozen=True, slots=True)
class WorkspaceCollector:
    """Identities of one Workspace customer."""

    label: str  # the customer id, or the entry name when the customer is ``my_customer``
    directory: Directory
    observed_at: datetime
    _: KW_ONLY
    service_accounts: Sequence[str] = ()
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (Kind.IDENTITY.value,)

    @property
    def origin(self) -> str:
        return f"workspace/{self.label}"

    def collect(self) -> Iterator[Evidence | CollectionError]:
        redact = self.directory.sink.raw.redact
        try:
            users = self.directory.users()
        except GOOGLE_FAILURES as exc:
            yield collection_error(exc, source=self.source, origin=self.origin,
                                   kinds=self.kinds, operation="users.list", redact=redact)
            return
        roles = admin_roles(self.directory, self.observed_at)
        for doc, ref in users:
            yield workspace_identity(parse_user(doc, ref), roles, origin=self.origin,
                                     observed_at=self.observed_at,
                                     service_patterns=self.service_accounts)

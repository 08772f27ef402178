"""The Workspace collector: one ``identity`` record per Directory user of one customer.

The admin roles are read first, then the user listing on a thread of its own
(``google.together.Prefetch``): each page is recorded and its users made records while the
next page is asked for. The customer's requests stay one at a time
(``source.DIRECTORY_REQUESTS_AT_ONCE``): this only overlaps the collector's own work with the
wait. The listing is read whole before anything is
yielded: if any page fails, the collector yields only the collection error (origin
``workspace/<customer>``, kind ``identity``), never the users of the pages read so far as if
they were all. A failure of the admin roles leaves the privilege of unflagged users unknown
(``privileged: null`` with ``privileged_note``) rather than failing the 2-Step Verification
picture, which does not depend on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import ClassVar

from clausewatch.collectors.google.directory import Directory
from clausewatch.collectors.google.errors import GOOGLE_FAILURES, collection_error
from clausewatch.collectors.google.together import Prefetch
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
        records: list[Evidence] = []
        failure: CollectionError | None = None
        roles = admin_roles(self.directory, self.observed_at)
        with Prefetch(self.directory.user_pages) as pages:
            try:
                for body in pages:  # each page recorded and its users made records while
                    ref = self.directory.record_users(body)  # the next page is asked for
                    records += [workspace_identity(
                        parse_user(doc, ref), roles, origin=self.origin,
                        observed_at=self.observed_at, service_patterns=self.service_accounts)
                        for doc in body.get("users", [])]
            except GOOGLE_FAILURES as exc:
                failure = collection_error(exc, source=self.source, origin=self.origin,
                                           kinds=self.kinds, operation="users.list",
                                           redact=redact)
        if failure is not None:
            yield failure  # and none of the users of the pages read before it
            return
        yield from records

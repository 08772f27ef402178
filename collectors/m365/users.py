"""Entra ID users, and what tells a person apart from a shared mailbox, a room or a guest."""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import msgspec
from msgraph.generated.users.item.mailbox_settings.mailbox_settings_request_builder import (
    MailboxSettingsRequestBuilder,
)
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365.batch import BatchReader, Request
from clausewatch.collectors.m365.graph import GraphFailure, GraphReader
from clausewatch.collectors.m365.listing import instant, rows
from clausewatch.core.clock import require_utc


class UserRow(msgspec.Struct, frozen=True, rename="camel"):
    """The properties of a ``user`` read here (https://learn.microsoft.com/graph/api/resources/
    user: ``id`` String, ``userPrincipalName`` String, ``displayName`` String,
    ``accountEnabled`` Boolean, ``userType`` String, ``createdDateTime`` DateTimeOffset,
    ``mail`` String); exactly these are asked with ``$select``."""

    id: str
    user_principal_name: str | None = None
    display_name: str | None = None
    account_enabled: bool | None = None
    user_type: str | None = None
    created_date_time: str | None = None
    mail: str | None = None


USER_FIELDS = [f.encode_name for f in msgspec.structs.fields(UserRow)]
#: Exchange answers 404 for a user without a mailbox: an ordinary account, not an error.
NO_MAILBOX_CODES = frozenset({"MailboxNotEnabledForRESTAPI", "ErrorItemNotFound",
                              "ResourceNotFound", "ErrorMailboxNotFound"})
MAX_PAGE = 999  # $top maximum of directory collections (users, transitiveMembers)


@dataclass(frozen=True, slots=True)
class EntraUser:
    id: str
    upn: str
    display_name: str | None
    enabled: bool | None
    user_type: str | None  # "Member" | "Guest" | None
    created_at: datetime | None
    mail: str | None
    raw_ref: str
    mailbox_purpose: str | None = None  # user | shared | room | equipment | ... (None: unknown)
    mailbox_ref: str | None = None  # raw_ref of the mailboxSettings answer it was read from

    @property
    def is_guest(self) -> bool:
        return (self.user_type or "").lower() == "guest" or "#EXT#" in self.upn


def account_type(user: EntraUser, service_patterns: Sequence[str] = ()) -> str:
    """member / guest / service / shared_mailbox / room."""
    if any(fnmatch.fnmatch(user.upn.lower(), p.lower()) for p in service_patterns):
        return "service"
    if user.is_guest:
        return "guest"
    if user.mailbox_purpose == "shared":
        return "shared_mailbox"
    if user.mailbox_purpose in ("room", "equipment"):
        return "room"
    return "member"


async def user_pages(client: GraphServiceClient, reader: GraphReader
                     ) -> AsyncIterator[list[EntraUser]]:
    """The tenant's users a page at a time (``$top=999``, the largest page Graph allows on
    ``/users``: https://learn.microsoft.com/graph/paging, "must be between 1 and 999")."""
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=USER_FIELDS,
                                                                      top=MAX_PAGE)
    async for page, _ in rows(reader, client.users, "users", query, UserRow, _user):
        yield page


async def list_users(client: GraphServiceClient, reader: GraphReader) -> list[EntraUser]:
    return [u async for page in user_pages(client, reader) for u in page]


def _user(u: UserRow, ref: str) -> EntraUser:
    created = instant(u.created_date_time)
    return EntraUser(
        id=u.id,
        upn=u.user_principal_name or u.id,
        display_name=u.display_name,
        enabled=u.account_enabled,
        user_type=u.user_type,
        created_at=require_utc(created) if created else None,
        mail=u.mail,
        raw_ref=ref,
    )


async def with_mailbox_purpose(client: GraphServiceClient, batch: BatchReader,
                               users: Sequence[EntraUser]) -> list[EntraUser]:
    """Each member with a mailbox gets its ``mailboxSettings.userPurpose`` (shared, room...),
    read 20 users per ``$batch``; a 404 for a user without a mailbox reads as an ordinary
    account, any other failure raises (the first one, in the users' order)."""
    query = MailboxSettingsRequestBuilder.MailboxSettingsRequestBuilderGetQueryParameters(
        select=["userPurpose"])
    asked = [u for u in users if u.mail and not u.is_guest]
    each = client.users  # one builder for the page: by_user_id copies its path parameters
    outcomes = await batch.get(
        (Request(u.id, each.by_user_id(u.id).mailbox_settings, query) for u in asked),
        "mailbox-settings")
    out = []
    for user in users:
        outcome = outcomes.get(user.id)
        if outcome is None:
            out.append(user)
        elif isinstance(outcome, GraphFailure):
            if outcome.status == 404 and (outcome.code in NO_MAILBOX_CODES or outcome.code is None):
                out.append(replace(user, mailbox_purpose="user"))
            else:
                raise outcome
        else:
            body = outcome[0].body if outcome else None
            purpose = body.get("userPurpose") if isinstance(body, dict) else None
            out.append(replace(user, mailbox_purpose=purpose if isinstance(purpose, str)
                               and purpose else None,
                               mailbox_ref=outcome[0].raw_ref if outcome else None))
    return out

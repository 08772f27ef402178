"""Entra ID users, and what tells a person apart from a shared mailbox, a room or a guest."""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from msgraph.generated.users.item.mailbox_settings.mailbox_settings_request_builder import (
    MailboxSettingsRequestBuilder,
)
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph.graph_service_client import GraphServiceClient

from clausewatch.collectors.m365.graph import GraphFailure, GraphReader
from clausewatch.core.clock import require_utc

USER_FIELDS = ["id", "userPrincipalName", "displayName", "accountEnabled", "userType",
               "createdDateTime", "mail"]
#: Exchange answers 404 for a user without a mailbox: an ordinary account, not an error.
NO_MAILBOX_CODES = frozenset({"MailboxNotEnabledForRESTAPI", "ErrorItemNotFound",
                              "ResourceNotFound", "ErrorMailboxNotFound"})
PARALLEL_CALLS = 8


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


async def list_users(client: GraphServiceClient, reader: GraphReader) -> list[EntraUser]:
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=USER_FIELDS, top=999)
    users = []
    async for u, ref in reader.items(client.users, "users", query):
        created = u.created_date_time
        users.append(EntraUser(
            id=u.id,
            upn=u.user_principal_name or u.id,
            display_name=u.display_name,
            enabled=u.account_enabled,
            user_type=u.user_type,
            created_at=require_utc(created) if created else None,
            mail=u.mail,
            raw_ref=ref,
        ))
    return users


async def with_mailbox_purpose(client: GraphServiceClient, reader: GraphReader,
                               users: Sequence[EntraUser]) -> list[EntraUser]:
    """Each member with a mailbox gets its ``mailboxSettings.userPurpose`` (shared, room...)."""
    gate = asyncio.Semaphore(PARALLEL_CALLS)

    async def one(user: EntraUser) -> EntraUser:
        if not user.mail or user.is_guest:
            return user
        query = MailboxSettingsRequestBuilder.MailboxSettingsRequestBuilderGetQueryParameters(
            select=["userPurpose"])
        async with gate:
            try:
                page = await reader.get(client.users.by_user_id(user.id).mailbox_settings,
                                        "mailbox-settings", query)
            except GraphFailure as exc:
                if exc.status == 404 and (exc.code in NO_MAILBOX_CODES or exc.code is None):
                    return replace(user, mailbox_purpose="user")
                raise
        purpose: Any = getattr(page.model, "user_purpose", None)
        value = getattr(purpose, "value", purpose)
        return replace(user, mailbox_purpose=str(value) if value else None)

    return list(await asyncio.gather(*(one(u) for u in users)))

"""Graph $batch through the emulator: one item's failure is that item's alone, a throttled item
is retried in a following batch within the entry's retry budget (and slows the tenant's gate)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from m365_routes import entry

from clausewatch.collectors.m365.batch import BatchReader, Request
from clausewatch.collectors.m365.clients import GraphEndpoint, RetryPolicy, graph_v1
from clausewatch.collectors.m365.graph import GraphFailure, GraphReader
from clausewatch.collectors.m365.users import MailboxSettingsRequestBuilder
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.retry_budget import RetryBudget

USERS = ["00000001-0000-4000-8000-000000000001", "00000002-0000-4000-8000-000000000002",
         "00000003-0000-4000-8000-000000000003"]
THROTTLED = {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}


def mailbox(uid: str) -> str:
    return f"GET /v1.0/users/{uid}/mailboxSettings"


def read(emu: Any, context: Any, credential: Any, retry: RetryPolicy) -> dict[str, Any]:
    """The mailbox settings of USERS through one BatchReader on a real Graph client."""
    client = graph_v1(credential, GraphEndpoint(emu.base, "api://graph/.default"), retry)
    batch = BatchReader(GraphReader("entra", "entra/t", context.raw), client.request_adapter,
                        retry)
    query = MailboxSettingsRequestBuilder.MailboxSettingsRequestBuilderGetQueryParameters(
        select=["userPurpose"])
    requests = [Request(u, client.users.by_user_id(u).mailbox_settings, query) for u in USERS]
    return asyncio.run(batch.get(requests, "mailbox-settings"))


def batches(emu: Any) -> int:
    return emu.hits("POST", "/v1.0/$batch")


def item_hits(emu: Any, uid: str) -> int:
    return sum(1 for r in emu.requests
               if r["batch"] and r["path"] == f"/v1.0/users/{uid}/mailboxSettings")


def test_one_failed_item_fails_alone_and_is_not_asked_again(emulator, context,
                                                            credential) -> None:
    emu = emulator(routes={mailbox(USERS[0]): {"body": {"userPurpose": "user"}},
                           mailbox(USERS[1]): {"status": 403, "body": {"error": {
                               "code": "ErrorAccessDenied", "message": "Access is denied."}}},
                           mailbox(USERS[2]): {"body": {"userPurpose": "shared"}}})
    out = read(emu, context, credential, RetryPolicy())
    assert [a.body for a in out[USERS[0]]] == [{"userPurpose": "user"}]
    assert [a.body for a in out[USERS[2]]] == [{"userPurpose": "shared"}]
    failed = out[USERS[1]]
    assert isinstance(failed, GraphFailure)
    assert (failed.status, failed.code, failed.retryable) == (403, "ErrorAccessDenied", False)
    assert "MailboxSettings.Read" in failed.message  # the permission it needs
    assert failed.details["url"].startswith(f"/users/{USERS[1]}/mailboxSettings")
    assert batches(emu) == 1 and item_hits(emu, USERS[1]) == 1
    raw_pages = sorted(p.name for p in (context.raw.root / "raw/entra/entra/t").iterdir())
    assert raw_pages == ["mailbox-settings-0001.json"]  # one page per answer, its 2xx items
    for uid, purpose in ((USERS[0], "user"), (USERS[2], "shared")):
        found = entry(context.raw.root, out[uid][0].raw_ref)  # exactly this item's answer
        assert found["url"] == f"{emu.base}/v1.0/users/{uid}/mailboxSettings?%24select=userPurpose"
        assert (found["status"], found["body"]) == (200, {"userPurpose": purpose})


def test_a_throttled_item_is_retried_in_a_following_batch_within_the_budget(
        emulator, context, credential) -> None:
    emu = emulator(routes={
        mailbox(USERS[0]): {"body": {"userPurpose": "user"}},
        mailbox(USERS[1]): [{"status": 429, "headers": {"Retry-After": "0.05"},
                             "body": THROTTLED}, {"body": {"userPurpose": "room"}}],
        mailbox(USERS[2]): {"body": {"userPurpose": "shared"}}})
    retry = RetryPolicy(budget=RetryBudget(10))
    out = read(emu, context, credential, retry)
    assert [a.body for a in out[USERS[1]]] == [{"userPurpose": "room"}]
    assert batches(emu) == 2  # the retry went in a second batch, with that item alone
    assert [item_hits(emu, u) for u in USERS] == [1, 2, 1]
    assert retry.budget.spent == 0.05  # Retry-After, taken from the entry's budget
    assert retry.gate.throttled_count == 1 and retry.gate.allowed == 2  # the tenant slows


def test_a_throttled_item_beyond_the_budget_is_reported_not_retried(emulator, context,
                                                                   credential) -> None:
    emu = emulator(routes={
        mailbox(USERS[0]): {"body": {"userPurpose": "user"}},
        mailbox(USERS[1]): {"status": 429, "headers": {"Retry-After": "5"}, "body": THROTTLED},
        mailbox(USERS[2]): {"body": {"userPurpose": "shared"}}})
    out = read(emu, context, credential, RetryPolicy(budget=RetryBudget(1)))
    failed = out[USERS[1]]
    assert isinstance(failed, GraphFailure)
    assert failed.status == 429 and failed.retryable is True and "not retried" in failed.message
    assert batches(emu) == 1 and item_hits(emu, USERS[1]) == 1
    assert [a.body for a in out[USERS[2]]] == [{"userPurpose": "shared"}]


@pytest.mark.parametrize("uid", ["00000001-0000-4000-8000-000000000001", "a~b._c", "x y", "é",
                                 "A/B", "", "{user%2Did}"])
def test_an_item_url_is_what_the_sdk_expands(uid: str, credential: Any) -> None:
    client = graph_v1(credential, GraphEndpoint("https://graph.test", "s"), RetryPolicy())
    batch = BatchReader(GraphReader("entra", "entra/t", RawRecorder(None, str)),
                        client.request_adapter, RetryPolicy())
    query = MailboxSettingsRequestBuilder.MailboxSettingsRequestBuilderGetQueryParameters(
        select=["userPurpose"])
    for builder, q in ((client.users.by_user_id("first").mailbox_settings, query),
                       (client.users.by_user_id(uid).mailbox_settings, query),
                       (client.users.by_user_id(uid).authentication.methods, None),
                       (client.groups.by_group_id(uid).transitive_members.graph_user, None)):
        request = Request(uid, builder, q)
        sdk = batch._expand(request, {})  # the SDK's own expansion, in full
        assert "https://graph.test/v1.0" + batch.relative(request) == sdk

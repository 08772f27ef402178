"""The tenant gate: never more than N Graph requests in flight for a tenant, whatever the number
of collectors (threads, event loops) sharing it; one tenant's throttling does not slow another;
and one token serves a tenant's concurrent collectors."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx

from clausewatch.collectors.m365 import source as m365_source
from clausewatch.collectors.m365.gate import GatedTransport, TenantGate, fan_out
from clausewatch.collectors.m365.token_cache import CachedCredential
from clausewatch.collectors.runner import collect_all
from clausewatch.core.redact import Redactor

CONTOSO = "11111111-1111-1111-1111-111111111111"


class Counting(httpx.AsyncBaseTransport):
    """An inner transport that holds each request briefly and records how many overlap."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers = status, headers or {}
        self.now = self.most = self.sent = 0
        self.lock = threading.Lock()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.now += 1
            self.sent += 1
            self.most = max(self.most, self.now)
        await asyncio.sleep(0.002)
        with self.lock:
            self.now -= 1
        return httpx.Response(self.status, headers=self.headers, request=request)


def send(transport: httpx.AsyncBaseTransport, count: int) -> list[int]:
    """``count`` concurrent GETs through ``transport`` on a fresh event loop."""
    async def run() -> list[int]:
        async with httpx.AsyncClient(transport=transport) as client:
            answers = await asyncio.gather(*(client.get("https://graph.test/v1.0/users")
                                             for _ in range(count)))
        return [a.status_code for a in answers]
    return asyncio.run(run())


def test_never_more_than_the_limit_in_flight_across_collectors() -> None:
    gate, inner = TenantGate(3), Counting()
    threads = [threading.Thread(target=send, args=(GatedTransport(inner, gate), 12))
               for _ in range(4)]  # four collectors, each its own thread and event loop
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inner.sent == 48
    assert inner.most == gate.peak == 3  # the limit was used, never passed
    assert gate.busy == 0  # every slot given back


def test_throttling_on_one_tenant_does_not_slow_another() -> None:
    throttled, calm = TenantGate(4), TenantGate(4)
    assert send(GatedTransport(Counting(429, {"Retry-After": "600"}), throttled), 1) == [429]
    assert throttled.paused_for() > 590 and throttled.allowed == 2
    inner = Counting()
    statuses = send(GatedTransport(inner, calm), 8)  # would wait 10 minutes if paused
    assert statuses == [200] * 8 and inner.most == 4
    assert calm.paused_for() == 0 and calm.allowed == 4 and calm.throttled_count == 0


class SlowCredential:
    """A credential that does not cache (like AzureCliCredential) and takes a while."""

    def __init__(self) -> None:
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.calls += 1
        time.sleep(0.05)
        return AccessToken(f"token-{self.calls}", 4102444800)


def test_concurrent_callers_share_one_token() -> None:
    inner = SlowCredential()
    cached = CachedCredential(inner, Redactor())
    start = threading.Barrier(8)
    tokens: list[str] = []

    def ask() -> None:
        start.wait()
        tokens.append(cached.get_token("https://graph.microsoft.com/.default").token)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inner.calls == 1 and tokens == ["token-1"] * 8


def test_a_tenants_collectors_run_concurrently_on_one_token(emulator, credential,
                                                            context) -> None:
    emu = emulator("contoso")
    entry = {"name": "t", "tenant_id": CONTOSO, "client_id": "app", "auth": "azure_cli",
             "graph_host": emu.base, "collect": ["entra", "intune", "windows_updates"]}
    collectors = m365_source.build(entry, context)
    assert {c.source for c in collectors} == {"entra", "intune"}
    batch = collect_all(collectors)
    assert batch.errors == []
    assert {e.source for e in batch.evidence} == {"entra", "intune"}
    assert len(credential.scopes) == 1  # the set-up probe's token serves both collectors


def test_a_listing_page_goes_before_waiting_batches() -> None:
    """A chain's next page is served before fan-out work queued earlier; nothing is lost."""
    gate, order = TenantGate(1), []

    async def take(name: str, bulk: bool) -> None:
        if bulk:
            with fan_out():
                await gate.acquire()
        else:
            await gate.acquire()
        order.append(name)
        await asyncio.sleep(0)
        gate.release()

    async def run() -> None:
        await gate.acquire()  # the slot is busy: everyone below waits
        waiting = [asyncio.ensure_future(take(f"batch-{n}", True)) for n in range(3)]
        await asyncio.sleep(0)
        waiting.append(asyncio.ensure_future(take("page", False)))
        await asyncio.sleep(0)
        gate.release()
        await asyncio.gather(*waiting)

    asyncio.run(run())
    assert order == ["page", "batch-0", "batch-1", "batch-2"]
    assert gate.busy == 0 and gate.peak == 1


def test_a_throttling_pause_is_bounded_by_the_entrys_longest_wait() -> None:
    """A Retry-After beyond ``throttling.max_wait_seconds`` fails the request it answered; the
    tenant's other requests wait at most that bound, not the whole Retry-After."""
    now = [100.0]
    gate = TenantGate(4, max_pause=5.0, clock=lambda: now[0])
    gate.throttled(3600.0)
    assert gate.paused_for() == 5.0
    gate.throttled(2.0)  # a shorter one does not shorten the pause
    assert gate.paused_for() == 5.0
    now[0] += 5.0
    assert gate.paused_for() == 0.0
    unbounded = TenantGate(4, clock=lambda: now[0])
    unbounded.throttled(3600.0)
    assert unbounded.paused_for() == 3600.0
    built = m365_source.retry_policy({"throttling": {"max_wait_seconds": 7}})
    assert built.gate.max_pause == 7.0

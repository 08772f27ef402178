"""One tenant's Graph concurrency: at most N requests in flight, shared back-off on throttling.

Each sources entry (one tenant, one app) builds one :class:`TenantGate`, shared by all its
collectors (``entra``, ``intune``, ``m365.backup``: each runs its own event loop in its own
thread, ``collectors/runner.py``), and every HTTP attempt of their Graph clients passes through it
(:class:`GatedTransport`, the innermost httpx transport, under kiota's middleware: retries are
attempts too). Two tenants have two gates: one tenant's throttling never slows another.

The limit defaults to 4 requests in flight: Graph documents *rates* for directory and Intune
reads (identity and access: 8,000 resource units per 10 s per app and tenant above 500 users;
Intune devices: 2,000 requests per 20 s per app and tenant). Outlook, which ``mailboxSettings``
is, limits *concurrency* to "4 concurrent requests" for each app ID and mailbox combination
(https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits); every item of our
``$batch`` reads a mailbox of its own, so 4 is a conservative default, not Outlook's bound.
``throttling: {concurrency: n}`` in the entry changes it.

Adaptive back-off: a 429 or 503 answer (of a request, or of one request inside a ``$batch``)
pauses the whole gate for its ``Retry-After`` (every worker of the tenant waits, not only the
throttled one), at most ``max_pause`` seconds (the entry's ``throttling.max_wait_seconds``, the
longest wait it allows a request: a longer ``Retry-After`` fails the request it answered
(``retry.py``), and holding the tenant's other requests longer would hang the night run for an
answer that is already an error; after the bound they are sent and get Graph's own answer), and
halves the limit; each run of successes as long as the limit gives one slot
back, up to the configured limit. Throttling slows the source; the retries themselves stay
bounded by the retry handler and the entry's ``RetryBudget``.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from clausewatch.collectors.m365.retry import parse_retry_after

DEFAULT_CONCURRENCY = 4
THROTTLED = frozenset({429, 503})
_FAN_OUT: contextvars.ContextVar[bool] = contextvars.ContextVar("graph_fan_out", default=False)
Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


@contextmanager
def fan_out() -> Iterator[None]:
    """Requests sent inside (in this task) wait behind the other waiting requests."""
    token = _FAN_OUT.set(True)
    try:
        yield
    finally:
        _FAN_OUT.reset(token)


class TenantGate:
    """A semaphore usable from several event loops in several threads, with a shared pause."""

    def __init__(self, limit: int = DEFAULT_CONCURRENCY, *, max_pause: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, int(limit))
        self.max_pause = max_pause  # the longest pause one throttling answer makes (None: any)
        self.clock = clock
        self.allowed = self.limit  # current limit (halved on throttling, regrown on success)
        self.busy = 0
        self.peak = 0  # most requests ever in flight at once (tests, logs)
        self.throttled_count = 0
        self._paused_until = 0.0
        self._successes = 0
        self._lock = threading.Lock()
        self._waiters: deque[Waiter] = deque()  # chains (listing pages): served first
        self._fan_out: deque[Waiter] = deque()  # fan-out work (batches)

    async def acquire(self) -> None:
        """Wait for a slot, then for any pause to end (the slot is kept during it)."""
        loop = asyncio.get_running_loop()
        queue = self._fan_out if _FAN_OUT.get() else self._waiters
        with self._lock:
            if self.busy < self.allowed and not self._waiters and not self._fan_out:
                self._take()
                future = None
            else:
                future = loop.create_future()
                queue.append((loop, future))
        if future is not None:
            try:
                await future  # the releaser hands its slot over
            except asyncio.CancelledError:
                with self._lock:
                    handed = (loop, future) not in queue
                    if not handed:
                        queue.remove((loop, future))
                if handed:
                    self.release()
                raise
        while (wait := self.paused_for()) > 0:
            await asyncio.sleep(wait)

    def _next(self) -> Waiter | None:
        """The next waiter to serve: a chain's page before fan-out work."""
        if self._waiters:
            return self._waiters.popleft()
        return self._fan_out.popleft() if self._fan_out else None

    def release(self) -> None:
        with self._lock:
            waiter = self._next() if self.busy <= self.allowed else None
            if waiter is not None:
                loop, future = waiter  # slot handed over: busy unchanged
                loop.call_soon_threadsafe(self._grant, future)
            else:
                self.busy -= 1

    def _grant(self, future: asyncio.Future[None]) -> None:
        if future.done():  # cancelled meanwhile: pass the slot on
            self.release()
        else:
            future.set_result(None)

    def _take(self) -> None:
        self.busy += 1
        self.peak = max(self.peak, self.busy)

    def paused_for(self) -> float:
        with self._lock:
            return max(0.0, self._paused_until - self.clock())

    def throttled(self, retry_after: float | None) -> None:
        """Graph said slow down: pause every worker (at most ``max_pause``), halve the limit."""
        with self._lock:
            self.throttled_count += 1
            self.allowed = max(1, self.allowed // 2)
            self._successes = 0
            if retry_after is not None and retry_after > 0:
                if self.max_pause is not None:
                    retry_after = min(retry_after, self.max_pause)
                self._paused_until = max(self._paused_until, self.clock() + retry_after)

    def succeeded(self) -> None:
        """One more answer that was not throttling: after ``allowed`` of them, one more slot."""
        with self._lock:
            if self.allowed >= self.limit:
                return
            self._successes += 1
            if self._successes >= self.allowed:
                self._successes = 0
                self.allowed += 1
                while self.busy < self.allowed and (waiter := self._next()) is not None:
                    loop, future = waiter
                    self._take()
                    loop.call_soon_threadsafe(self._grant, future)


class GatedTransport(httpx.AsyncBaseTransport):
    """The httpx transport under kiota's pipeline: each attempt takes a slot of the gate; a
    throttling answer pauses the gate for its ``Retry-After``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, gate: TenantGate) -> None:
        self.inner = inner
        self.gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.gate.acquire()
        try:
            response = await self.inner.handle_async_request(request)
        finally:
            self.gate.release()
        if response.status_code in THROTTLED:
            header = response.headers.get("retry-after")
            self.gate.throttled(parse_retry_after(header) if header is not None else None)
        else:
            self.gate.succeeded()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

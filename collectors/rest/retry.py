"""Retry a REST call on throttling, server errors and transport failures, within two bounds.

Built on tenacity (https://tenacity.readthedocs.io/): ``Retrying`` with ``retry_if_exception``,
``stop_after_attempt`` and a stop on the time budget, ``wait_exponential_jitter`` for back-off.

* Retried: statuses in ``statuses`` (default 408, 429, 500, 502, 503, 504) and httpx transport
  errors (timeouts, refused or reset connections), except a TLS certificate that fails
  verification (retrying cannot fix it); a token endpoint failing with one of those statuses.
  Never retried: other 4xx (a 401 is the auth's business, refreshed once there).
* Wait: the response's ``Retry-After`` when it has one (RFC 9110 §10.2.3: ``delay-seconds`` or
  an ``HTTP-date``; a date counts from the response's own ``Date`` header when present, so the
  two clocks' skew does not matter), capped at ``retry_after_cap``; otherwise exponential
  back-off with jitter, ``initial_backoff`` doubling up to ``max_backoff``.
* Bounds: at most ``attempts`` attempts (``retry.max_attempts``, or ``retry.attempts``), and no
  sleep that would end past ``budget_seconds`` after the first attempt started; and all the
  calls of the entry together wait at most ``budget_seconds`` (a ``RetryBudget`` shared by the
  entry's sessions, ``collectors/retry_budget.py``). Any bound raises ``GaveUp`` carrying the
  last failure.

``sleep``, ``clock`` (monotonic seconds) and ``now`` (wall clock, for a date without a ``Date``
header) are injectable: tests never sleep. The clock must advance with the fake sleep.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential_jitter

from clausewatch.collectors.rest.errors import GaveUp, TokenError
from clausewatch.collectors.retry_budget import DEFAULT_BUDGET_SECONDS, RetryBudget
from clausewatch.core.clock import utc_now

T = TypeVar("T")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Keys a REST source entry takes for its retry (merge into its ENTRY_SCHEMA properties).
RETRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "retry on 408/429/5xx and transport errors; default 5 attempts, 300 s for "
                   "the whole entry",
    "properties": {
        "attempts": {"type": "integer", "minimum": 1, "maximum": 20},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20,
                         "description": "same as attempts"},
        "budget_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
        "retry_after_cap_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
    },
}
_HTTP_DATES = ("%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How long and how often one call may be retried."""

    attempts: int = 5
    budget_seconds: float = DEFAULT_BUDGET_SECONDS
    statuses: frozenset[int] = RETRY_STATUSES
    retry_after_cap: float = 120.0
    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    jitter: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = utc_now
    budget: RetryBudget | None = None  # shared by every call of the entry (None: per call only)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], **overrides: Any) -> RetryPolicy:
        """The policy an entry's ``retry`` key asks for (defaults where it is silent);
        ``overrides`` (a source's own back-off, a test's clock) win."""
        retry = entry.get("retry", {})
        given = {"attempts": retry.get("max_attempts", retry.get("attempts")),
                 "budget_seconds": retry.get("budget_seconds"),
                 "retry_after_cap": retry.get("retry_after_cap_seconds")}
        settings = {**{k: v for k, v in given.items() if v is not None}, **overrides}
        if "budget" not in settings:
            settings["budget"] = RetryBudget(
                float(settings.get("budget_seconds", DEFAULT_BUDGET_SECONDS)),
                clock=settings.get("clock", time.monotonic),
                sleep=settings.get("sleep", time.sleep))
        return cls(**settings)

    def retryable(self, exc: BaseException) -> bool:
        """Whether one more attempt could succeed where this one failed."""
        if isinstance(exc, httpx.HTTPStatusError):
            return exc.response.status_code in self.statuses
        if isinstance(exc, TokenError):
            return exc.status in self.statuses
        if isinstance(exc, httpx.ConnectError) and tls_refused(exc):
            return False
        return isinstance(exc, httpx.TransportError) and not isinstance(
            exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError)

    def call(self, attempt: Callable[[], T], *, url: str = "") -> T:
        """``attempt()`` until it returns, a failure is not retryable, or a bound is reached."""
        start = self.clock()
        retrying = Retrying(
            retry=retry_if_exception(self.retryable),
            stop=stop_after_attempt(self.attempts) | _Budget(self, start),
            wait=_Wait(self),
            sleep=self.sleep,
            retry_error_callback=lambda state: self._give_up(state, start, url),
        )
        return retrying(attempt)

    def _give_up(self, state: RetryCallState, start: float, url: str) -> Any:
        assert state.outcome is not None
        last = state.outcome.exception()
        assert last is not None
        by_attempts = state.attempt_number >= self.attempts
        shared = self.budget is not None and not by_attempts and \
            self.clock() - start + (state.upcoming_sleep or 0) <= self.budget_seconds
        reason = "attempts" if by_attempts else (
            "the entry's retry budget" if shared else "time budget")
        limit = self.attempts if by_attempts else (
            self.budget.seconds if shared and self.budget else self.budget_seconds)
        raise GaveUp(url or _url_of(last), last, attempts=state.attempt_number,
                     elapsed=self.clock() - start, reason=reason, limit=limit) from last


class _Budget(stop_base):
    """Stop before a sleep that would end past the budget (tenacity's ``stop_before_delay``,
    on the policy's clock rather than tenacity's own)."""

    def __init__(self, policy: RetryPolicy, start: float) -> None:
        self.policy = policy
        self.start = start

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = self.policy.clock() - self.start
        if elapsed + retry_state.upcoming_sleep > self.policy.budget_seconds:
            return True
        shared = self.policy.budget
        return shared is not None and not shared.reserve(retry_state.upcoming_sleep)


class _Wait(wait_base):
    """Retry-After when the server gave one, else exponential back-off with jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = wait_exponential_jitter(
            multiplier=policy.initial_backoff, max=policy.max_backoff, jitter=policy.jitter)

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, httpx.HTTPStatusError):
            delay = retry_after(exc.response, self.policy.now)
            if delay is not None:
                return min(delay, self.policy.retry_after_cap)
        return float(self.backoff(retry_state))


def retry_after(response: httpx.Response, now: Callable[[], datetime] = utc_now) -> float | None:
    """Seconds the response asks to wait (RFC 9110 §10.2.3), None when absent or unreadable.

    ``Retry-After: 120`` is delay-seconds; ``Retry-After: Fri, 31 Dec 1999 23:59:59 GMT`` an
    HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms RFC 9110 §5.6.7 says
    recipients accept), counted from the response's ``Date`` when it has one. A date already
    past means no wait.
    """
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    when = http_date(value)
    if when is None:
        return None
    sent = http_date(response.headers.get("Date", "")) or now()
    return max(0.0, (when - sent).total_seconds())


def http_date(value: str) -> datetime | None:
    """An HTTP-date (RFC 9110 §5.6.7) as an aware UTC datetime, None when not one."""
    for fmt in _HTTP_DATES:
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def tls_refused(exc: BaseException) -> bool:
    """True when a connection failed on certificate verification (anywhere in the chain)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
                seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _url_of(exc: BaseException) -> str:
    try:
        request = getattr(exc, "request", None)
    except RuntimeError:  # an httpx error raised without its request
        return ""
    return str(request.url) if isinstance(request, httpx.Request) else getattr(exc, "url", "")

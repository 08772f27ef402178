"""One retry for every Google call: google-api-core ``Retry``, bounded three ways.

Over REST the client libraries map an HTTP status to an exception class by the code alone
(``google.api_core.exceptions.exception_class_for_http_status``): 429 raises
``TooManyRequests``, 500 ``InternalServerError``, 502 ``BadGateway``, 503
``ServiceUnavailable``, 504 ``GatewayTimeout`` and 403 ``Forbidden``, never their gRPC-named
subclasses (``ResourceExhausted``, ``DeadlineExceeded``, ``PermissionDenied``), so a predicate
written for those would never match. The discovery clients (Admin SDK, IAM) raise
``googleapiclient.errors.HttpError`` instead; ``execute()`` is called with ``num_retries=0`` and
wrapped in the same ``Retry``, so there is one retry machinery, not two.

Retried: 429, 500, 502, 503, 504, a 403 whose reason is ``rateLimitExceeded`` or
``userRateLimitExceeded`` (the Directory API's throttling, documented at
https://developers.google.com/workspace/admin/directory/v1/limits), and connection failures.
Not retried: any other 403 (a missing permission), a 403 ``quotaExceeded`` (a daily quota:
waiting minutes does not help), other 4xx.

Concurrency. ``gate`` bounds the entry's requests in flight at once (every discovery request,
and each Resource Manager policy read, holds it while it runs): ``REQUESTS_AT_ONCE`` (8), as
many as the collectors the runner runs at once (``collect_all(workers=8)``), so reading a
project's zones together never asks more of the APIs than eight collectors asking one page
each did. Google's Compute Engine, OS Config, Resource Manager and IAM quotas are requests per
minute ("Google enforces rate quotas at a per-minute interval", https://cloud.google.com/
compute/api-quota), with no concurrency limit documented.

Bounds. ``Retry`` has a time bound (``timeout``: no sleep that would end past it) but no bound on
attempts (googleapis/python-api-core#535); ``on_error`` counts the retries of each request (its
method and URL, so every page of a listing has its own count) and raises :class:`GaveUp` at
``attempts``; it also draws on a :class:`RetryBudget` shared by all the collectors of one entry,
so a throttled API cannot make a night's run last for hours. ``budget_seconds`` bounds the time
all the entry's calls spend retrying (``collectors/retry_budget.py``): each ``Retry``'s
``timeout=`` is capped by what is left of it, the time between a request's failures is charged
to it, and a spent budget raises :class:`GaveUp`. A time bound that runs out raises
``google.api_core.exceptions.RetryError`` (the last failure in ``.cause``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.api_core.retry import retry_unary

from clausewatch.collectors.retry_budget import DEFAULT_BUDGET_SECONDS
from clausewatch.collectors.retry_budget import RetryBudget as TimeBudget

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Retried whatever their body says (REST status classes of google-api-core).
TRANSIENT: tuple[type[Exception], ...] = (
    gexc.TooManyRequests,
    gexc.InternalServerError,
    gexc.BadGateway,
    gexc.ServiceUnavailable,
    gexc.GatewayTimeout,
)
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
#: 403 reasons that mean "slow down" (legacy ``errors[].reason`` or an ErrorInfo reason).
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded",
                                "RATE_LIMIT_EXCEEDED"})
#: Requests of one entry in flight at once (``RetrySettings.gate``).
REQUESTS_AT_ONCE = 8
#: Keys a source entry takes for its retry (``retry:`` in the sources file).
RETRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "retry of 429, 5xx and rate-limit 403: attempts per request, seconds per "
                   "call, retries per entry",
    "properties": {
        "attempts": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20,
                         "description": "same as attempts"},
        "budget_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                           "default": DEFAULT_BUDGET_SECONDS,
                           "description": "seconds all the entry's calls may spend retrying"},
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                            "default": 120},
        "budget_retries": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 200},
        "initial_backoff_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 60,
                                    "default": 1},
        "max_backoff_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 300,
                                "default": 30},
        "request_timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 600,
                                    "default": 60},
    },
}


class GaveUp(Exception):
    """Retrying stopped before the time bound: too many attempts, or the budget is spent."""

    def __init__(self, detail: str, last: BaseException, attempts: int) -> None:
        super().__init__(f"{detail}: {last}")
        self.detail = detail
        self.last = last
        self.attempts = attempts


class RetryBudget:
    """Retries left for all the collectors of one entry (thread-safe)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._left = total
        self._lock = threading.Lock()

    def spend(self) -> bool:
        """Take one retry; False when none is left."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    @property
    def left(self) -> int:
        with self._lock:
            return self._left


def _time_budget(seconds: float) -> TimeBudget:
    """A time budget on the clock google-api-core's retry loop sleeps by."""
    # retry_unary's own ``time`` (what it sleeps by; tests put a virtual clock there)
    return TimeBudget(seconds, clock=lambda: float(
        retry_unary.time.monotonic()))  # type: ignore[attr-defined]


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a Google failure (google-api-core or googleapiclient), if any."""
    if isinstance(exc, gexc.GoogleAPICallError):
        return exc.code if isinstance(exc.code, int) else None
    resp = getattr(exc, "resp", None)
    status = getattr(resp, "status", None)
    return int(status) if isinstance(status, int | str) and str(status).isdigit() else None


def error_reason(exc: BaseException) -> str | None:
    """The machine reason: an ErrorInfo ``reason``, else the legacy ``errors[0].reason``."""
    if isinstance(exc, gexc.GoogleAPICallError):
        if exc.reason:
            return str(exc.reason)
        errors = list(exc.errors or ())
        first = errors[0] if errors else None
        return str(first.get("reason")) if isinstance(first, Mapping) and first.get(
            "reason") else None
    content = getattr(exc, "content", None)
    if not isinstance(content, bytes | str):
        return None
    try:
        body = json.loads(content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    for item in [*(error.get("details") or ()), *(error.get("errors") or ())]:
        if isinstance(item, dict) and item.get("reason"):
            return str(item["reason"])
    return None


def retryable(exc: BaseException) -> bool:
    """Whether one more attempt could succeed where this one failed."""
    if isinstance(exc, TRANSIENT):
        return True
    status = http_status(exc)
    if status is not None:
        if status in TRANSIENT_STATUSES:
            return True
        return status == 403 and error_reason(exc) in RATE_LIMIT_REASONS
    return _transport_failure(exc)


def _transport_failure(exc: BaseException) -> bool:
    """A connection refused, reset or timed out (requests, httplib2 or the socket itself)."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    try:
        import requests
    except ImportError:  # pragma: no cover - a dependency of google-api-core
        return False
    return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout)


def _request_key(exc: BaseException) -> str:
    """Method and URL of the request that failed, so each page is counted on its own."""
    response = getattr(exc, "response", None)
    request = getattr(response, "request", None)
    if request is not None:
        return f"{getattr(request, 'method', '')} {getattr(request, 'url', '')}"
    uri = getattr(exc, "uri", None)
    return str(uri) if uri else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySettings:
    """How one entry's Google calls are retried (see the module docstring)."""

    attempts: int = 5
    timeout_seconds: float = 120.0
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    multiplier: float = 2.0
    request_timeout: float = 60.0
    budget: RetryBudget = field(default_factory=lambda: RetryBudget(200))
    time_budget: TimeBudget = field(default_factory=lambda: _time_budget(DEFAULT_BUDGET_SECONDS))
    gate: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(REQUESTS_AT_ONCE))

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> RetrySettings:
        given = entry.get("retry", {})
        return cls(
            attempts=int(given.get("max_attempts", given.get("attempts", 5))),
            time_budget=_time_budget(float(given.get("budget_seconds", DEFAULT_BUDGET_SECONDS))),
            timeout_seconds=float(given.get("timeout_seconds", 120.0)),
            initial_backoff=float(given.get("initial_backoff_seconds", 1.0)),
            max_backoff=float(given.get("max_backoff_seconds", 30.0)),
            request_timeout=float(given.get("request_timeout_seconds", 60.0)),
            budget=RetryBudget(int(given.get("budget_retries", 200))),
        )

    def retry(self) -> gretry.Retry:
        """A ``Retry`` for one call (or one listing: each page request is counted apart)."""
        counts: dict[str, int] = {}
        failed_at: dict[str, float] = {}
        lock = threading.Lock()
        clock = self.time_budget.clock

        def on_error(exc: Exception) -> None:
            key = _request_key(exc)
            now = clock()
            with lock:
                failures = counts[key] = counts.get(key, 0) + 1
                previous, failed_at[key] = failed_at.get(key), now
            if previous is not None:  # the wait and the attempt since the last failure
                self.time_budget.charge(now - previous)
            if failures >= self.attempts:
                raise GaveUp(f"gave up after {failures} attempts", exc, failures) from exc
            if self.time_budget.remaining <= 0:
                raise GaveUp(f"the entry's retry budget of {self.time_budget.seconds:g} s is "
                             "spent", exc, failures) from exc
            if not self.budget.spend():
                raise GaveUp(f"the entry's budget of {self.budget.total} retries is spent",
                             exc, failures) from exc
            log.warning("Google API: retrying after %s (attempt %d of %d)",
                        type(exc).__name__, failures + 1, self.attempts)

        return gretry.Retry(
            predicate=retryable,
            initial=self.initial_backoff,
            maximum=self.max_backoff,
            multiplier=self.multiplier,
            # the call's own bound, capped by what is left of the entry's retry time
            timeout=max(0.001, min(self.timeout_seconds, self.time_budget.remaining)),
            on_error=on_error,
        )

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` under a fresh ``Retry`` (a discovery request's ``execute``)."""
        wrapped: Callable[[], T] = self.retry()(fn)
        return wrapped()

"""Graph throttling: the SDK's own ``RetryHandler``, with its traps fixed and a bound.

kiota's ``RetryHandler`` (msgraph-core's default pipeline) retries 429/503/504, but as shipped:

* a fractional ``Retry-After`` (Microsoft's own throttling sample sends ``2.128``) fails its
  ``int()`` parse and silently falls back to exponential backoff;
* ``Retry-After: 0`` also falls back to backoff, and the backoff adds the option's ``delay``
  (3 s by default: a base delay, not a cap, despite the ``max_delay`` name);
* a ``Retry-After`` is obeyed uncapped up to 180 s per attempt.

``BoundedRetryHandler`` keeps the SDK's loop and status codes and changes only the delay: a
``Retry-After`` (integer, fractional or HTTP date) is honoured exactly when it is within
``max_wait``; above it the request is not retried (the 429 surfaces and the collector reports it
as a retryable collection error rather than hammering Graph early or hanging the night run).
Without ``Retry-After`` the backoff is ``base * 2**n`` plus jitter, capped at ``max_wait``.
Every wait is taken from the entry's ``RetryBudget`` (``retry.budget_seconds``); a wait that
does not fit in what is left is not made, and the 429/503 surfaces as above.
"""

from __future__ import annotations

import logging
import random
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from kiota_http.middleware import RetryHandler
from kiota_http.middleware.options import RetryHandlerOption

from clausewatch.collectors.retry_budget import RetryBudget

log = logging.getLogger(__name__)
_NUMBER = re.compile(r"^\s*\d+(\.\d+)?\s*$")


class BoundedRetryHandler(RetryHandler):
    """kiota's ``RetryHandler`` honouring ``Retry-After`` exactly, within ``max_wait`` seconds."""

    def __init__(
        self,
        max_retries: int = 3,
        max_wait: float = 60.0,
        backoff_base: float = 0.5,
        *,
        budget: RetryBudget | None = None,
    ) -> None:
        # delay=0: the SDK's "max_delay" is added to every backoff; our backoff owns the delay.
        super().__init__(RetryHandlerOption(delay=0, max_retries=max_retries))
        self.max_wait = float(max_wait)
        self.backoff_factor = backoff_base
        self.budget = budget

    def get_delay_time(
        self,
        retry_count: int,
        response: httpx.Response | None = None,
        delay: float = 0.0,
    ) -> float:
        """Seconds to wait before the next attempt; ``MAX_DELAY`` or more means "do not retry"."""
        status = response.status_code if response is not None else None
        header = response.headers.get("retry-after") if response is not None else None
        wait = parse_retry_after(header) if header is not None else None
        if wait is not None and wait > self.max_wait:
            log.warning("Graph answered %s with Retry-After %s s, above the %g s bound: "
                        "not retrying", status, header, self.max_wait)
            return RetryHandlerOption.MAX_DELAY
        if wait is None:
            wait = self.backoff_factor * 2 ** max(retry_count, 0) + random.uniform(0, 0.25)
            wait = min(wait, self.max_wait)
        will_retry = (status in self.retry_on_status_codes
                       and retry_count < self.options.max_retry)
        if will_retry and self.budget is not None and not self.budget.reserve(wait):
            log.warning("Graph answered %s: not retrying: %s", status, self.budget.describe())
            return RetryHandlerOption.MAX_DELAY
        if status in self.retry_on_status_codes:
            log.info("Graph answered %s (attempt %d): waiting %.3f s (%s)", status,
                     retry_count + 1, wait, "Retry-After" if header is not None else "backoff")
        return wait


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: integer or fractional seconds, or an HTTP date."""
    if _NUMBER.match(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


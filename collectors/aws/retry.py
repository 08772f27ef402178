"""botocore's retries, bounded by attempts *and* by the source's time budget.

Clients are made in botocore's ``adaptive`` retry mode (the ``standard`` mode's retry rules —
throttling, transient errors and 5xx retried with exponential back-off and a retry quota — plus
client-side rate limiting; https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html,
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html) with
``total_max_attempts``. botocore has no time bound, so :func:`install` replaces the client's
``needs-retry`` handler (botocore registers it with the unique id ``retry-config-<service>``)
with the same ``botocore.retries.standard.RetryHandler`` wrapped by :class:`BudgetedRetry`: a
retry whose back-off does not fit in the entry's :class:`RetryBudget` is not made, and the call
fails with its last error. The wait is slept by the budget's ``sleep`` (botocore is then told
to sleep 0 s), so tests run on a virtual clock.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from botocore.retries import quota, standard

from clausewatch.collectors.retry_budget import RetryBudget

log = logging.getLogger(__name__)


class BudgetedRetry:
    """A ``needs-retry`` handler: botocore's decision, then the budget's."""

    def __init__(self, inner: standard.RetryHandler, budget: RetryBudget, label: str) -> None:
        self.inner = inner
        self.budget = budget
        self.label = label
        self._resumed: dict[int, float] = {}  # request -> when its last back-off ended
        self._lock = threading.Lock()

    def needs_retry(self, **kwargs: Any) -> float | None:
        key = id(kwargs.get("request_dict"))
        now = self.budget.clock()
        with self._lock:
            resumed = self._resumed.pop(key, None)
        if resumed is not None:  # this attempt was itself a retry: its time counts
            self.budget.charge(now - resumed)
        delay = self.inner.needs_retry(**kwargs)
        if delay is None or delay is False:
            return delay
        wait = float(delay)
        if not self.budget.reserve(wait):
            operation = getattr(kwargs.get("operation"), "name", "call")
            log.warning("%s %s: not retrying: %s", self.label, operation, self.budget.describe())
            return None
        self.budget.sleep(wait)
        with self._lock:
            self._resumed[key] = self.budget.clock()
        return 0.0


def install(client: Any, budget: RetryBudget, max_attempts: int, label: str = "aws") -> Any:
    """Put ``client``'s retries under ``budget`` (``max_attempts`` total attempts per call)."""
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
    adapter = standard.RetryEventAdapter()
    detector = standard.ThrottlingErrorDetector(adapter)
    retry_quota = standard.RetryQuotaChecker(quota.RetryQuota(), detector)
    inner = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=max_attempts),
            retry_backoff=standard.ExponentialBackoff(service_name=service,
                                                      throttling_detector=detector),
        ),
        retry_event_adapter=adapter,
        retry_quota=retry_quota,  # type: ignore[arg-type]  # botocore passes the checker
        service_name=service,
    )
    events.register(f"after-call.{service}", retry_quota.release_retry_quota)
    handler = BudgetedRetry(inner, budget, label)
    events.register(f"needs-retry.{service}", handler.needs_retry,
                    unique_id=f"clausewatch-retry-{service}")
    return client

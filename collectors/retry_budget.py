"""A time budget for the retries of one source, shared by all its collectors.

Attempts alone do not bound a night: a source whose API answers 500 to every call would retry
each call its full count, call after call. ``retry: {max_attempts: 5, budget_seconds: 60}`` in
a sources entry bounds both: each call makes at most ``max_attempts`` attempts, and all the
calls of the entry together spend at most ``budget_seconds`` retrying (the back-off waits and
the attempts after a first failure). A wait that does not fit in what is left is not made: the
call fails with its last error, which the collector reports (naming the budget). Each retry
machinery draws on it: botocore (``collectors/aws/retry.py``), the REST kit's ``RetryPolicy``,
google-api-core's ``Retry`` (its ``timeout=`` is capped by what is left) and the Graph retry
handler.

``clock`` and ``sleep`` are injectable (tests use a virtual clock whose sleep advances it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

DEFAULT_BUDGET_SECONDS = 300.0
#: ``retry:`` of a sources entry (aws, m365); REST and Google sources add their own keys.
RETRY_PROPERTIES: dict[str, Any] = {
    "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20,
                     "description": "attempts per call, the first included"},
    "budget_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                       "description": "seconds all the calls of this entry may spend retrying "
                                      f"(default {DEFAULT_BUDGET_SECONDS:g})"},
}
RETRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "retries: attempts per call, and a time budget for the whole entry",
    "properties": RETRY_PROPERTIES,
}


class RetryBudget:
    """Seconds of retrying left for one source (thread-safe)."""

    def __init__(self, seconds: float = DEFAULT_BUDGET_SECONDS, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.seconds = float(seconds)
        self.clock = clock
        self.sleep = sleep
        self._spent = 0.0
        self._refused = 0
        self._lock = threading.Lock()

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], **kwargs: Any) -> RetryBudget:
        """The budget ``retry.budget_seconds`` of an entry asks for (default 300 s)."""
        seconds = entry.get("retry", {}).get("budget_seconds", DEFAULT_BUDGET_SECONDS)
        return cls(float(seconds), **kwargs)

    @property
    def spent(self) -> float:
        with self._lock:
            return self._spent

    @property
    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self.seconds - self._spent)

    @property
    def exhausted(self) -> bool:
        """True once a retry was refused for want of budget."""
        with self._lock:
            return self._refused > 0

    def charge(self, seconds: float) -> None:
        """Count time already spent retrying (an attempt made after a failure)."""
        with self._lock:
            self._spent += max(0.0, seconds)

    def reserve(self, wait: float) -> bool:
        """Take ``wait`` seconds for a back-off if they fit in what is left; False (and nothing
        taken) when they do not: the caller gives up instead of waiting."""
        with self._lock:
            if self._spent + max(0.0, wait) > self.seconds:
                self._refused += 1
                return False
            self._spent += max(0.0, wait)
            return True

    def describe(self) -> str:
        return f"retry budget of {self.seconds:g} s for the source spent"

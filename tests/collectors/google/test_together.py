"""Listings read together: every result in order, failures handed back, the gate held."""

from __future__ import annotations

import dataclasses
import threading
import time

from google_helpers import retry_settings

from clausewatch.collectors.google import pages
from clausewatch.collectors.google.together import together


def test_results_come_back_in_order_and_a_failure_is_handed_back_not_raised():
    def boom() -> int:
        raise ValueError("page 2 was not JSON")

    got = together([lambda: 1, boom, lambda: 3], workers=2)
    assert got[0] == 1 and got[2] == 3
    assert isinstance(got[1], ValueError) and "page 2" in str(got[1])


def test_no_more_requests_are_in_flight_than_the_entry_gate_allows():
    retry = dataclasses.replace(retry_settings(), gate=threading.BoundedSemaphore(2))
    lock, now, peak = threading.Lock(), [0], [0]

    class Request:
        def execute(self, num_retries: int = 0) -> dict[str, int]:
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
            time.sleep(0.02)
            with lock:
                now[0] -= 1
            return {}

    got = together([lambda: pages._execute(Request(), retry) for _ in range(6)], workers=6)
    assert got == [{}] * 6 and peak[0] == 2

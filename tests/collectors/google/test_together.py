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


def test_a_shared_discovery_client_builds_each_threads_requests_on_its_own_connection(stub):
    from google.auth.credentials import AnonymousCredentials
    from google_helpers import endpoints_for

    from clausewatch.collectors.google import clients

    client = clients.discovery("admin", "directory_v1", AnonymousCredentials(),
                               endpoints_for(stub({})), "admin", 10.0)
    users = clients.collection(client, "users")
    assert clients.collection(client, "users") is users  # built once per client
    seen: list[object] = []

    def build() -> None:
        seen.extend([users.list(customer="C1").http, users.list(customer="C2").http])

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen[0] is seen[1] and seen[2] is seen[3] and seen[0] is not seen[2]


def test_ahead_runs_while_the_caller_waits_and_hands_back_its_result_or_its_failure():
    from clausewatch.collectors.google.together import Ahead

    started = threading.Event()

    def make() -> str:
        started.set()
        return threading.current_thread().name

    ahead = Ahead(make)
    assert started.wait(5)  # running before anyone asks for the result
    assert ahead.result() == "google-ahead" and ahead.result() == "google-ahead"

    def boom() -> str:
        raise ValueError("no client")

    failed = Ahead(boom)  # raises nothing here...
    for _ in range(2):  # ...but at every result(), the same exception
        try:
            failed.result()
        except ValueError as exc:
            assert str(exc) == "no client"
        else:
            raise AssertionError("the failure was lost")
    now = Ahead.now(boom)
    try:
        now.result()
    except ValueError:
        pass
    else:
        raise AssertionError("the failure was lost")
    assert Ahead.now(lambda: threading.current_thread().name).result() == (
        threading.current_thread().name)

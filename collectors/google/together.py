"""Run a few independent listings of one collector at once, losing nothing.

A VM collector reads each zone's OS Config inventories and vulnerability reports: page
chains that do not depend on each other. ``together`` runs them on daemon threads (a run
stopped by a signal is not held up by a listing still waiting, as ``collectors/runner.py``
says of its workers) and returns every result or the exception it raised, in the order
given; the entry's ``RetrySettings.gate`` still bounds the requests in flight.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

T = TypeVar("T")


def together(calls: Sequence[Callable[[], T]], workers: int = 8) -> list[T | BaseException]:
    """``[call() for call in calls]`` on up to ``workers`` threads; a call that raised gives its
    exception (any exception: the caller decides what is a collection error)."""
    out: list[T | BaseException | None] = [None] * len(calls)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(calls)):
        todo.put(i)

    def work() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                out[i] = calls[i]()
            except BaseException as exc:  # noqa: BLE001 - handed back, never dropped
                out[i] = exc

    threads = [threading.Thread(target=work, name="google-listing", daemon=True)
               for _ in range(min(workers, len(calls)) - 1)]
    for thread in threads:
        thread.start()
    work()  # this thread takes its share too
    for thread in threads:
        thread.join()
    return cast(list[T | BaseException], out)

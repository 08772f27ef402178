"""Run a few independent listings of one collector at once, losing nothing.

A VM collector reads each zone's OS Config inventories and vulnerability reports: page
chains that do not depend on each other. ``together`` runs them on daemon threads (a run
stopped by a signal is not held up by a listing still waiting, as ``collectors/runner.py``
says of its workers) and returns every result or the exception it raised, in the order
given. ``Prefetch`` reads one listing's pages on a thread of its own while the collector
reads something else and then works on the pages already come. ``Ahead`` does one piece of
work on a thread of its own while the caller waits for something else (a client built while
the hierarchy is read). The entry's ``RetrySettings.gate`` still bounds the requests in
flight.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Generic, TypeVar, cast

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


class Prefetch(Generic[T]):
    """The items of ``produce()``, produced on a daemon thread from the start, taken in order
    by iterating; an exception of the producer is raised there, after the items before it.
    Leaving the ``with`` block stops the producer after the item it is on and waits for it,
    so nothing it records outlives the collector."""

    def __init__(self, produce: Callable[[], Iterable[T]]) -> None:
        self._items: queue.SimpleQueue[tuple[bool, T | BaseException | None]] = (
            queue.SimpleQueue())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(produce,),
                                        name="google-listing", daemon=True)
        self._thread.start()

    def _run(self, produce: Callable[[], Iterable[T]]) -> None:
        try:
            for item in produce():
                self._items.put((True, item))
                if self._stop.is_set():
                    return
        except BaseException as exc:  # noqa: BLE001 - raised in the consumer
            self._items.put((False, exc))
            return
        self._items.put((False, None))

    def __iter__(self) -> Iterator[T]:
        while True:
            ok, value = self._items.get()
            if ok:
                yield cast(T, value)
            elif value is None:
                return
            else:
                raise cast(BaseException, value)

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()


class Ahead(Generic[T]):
    """``make()`` started on a daemon thread now; ``result()`` waits for it and returns what it
    returned, or raises what it raised (there, as a call of ``make()`` there would have).

    For CPU work that can run while the caller waits on the network (building discovery clients
    while Resource Manager answers): it sends no request and changes no order of requests.
    ``Ahead.now(make)`` runs ``make()`` on the calling thread, its outcome kept the same way."""

    def __init__(self, make: Callable[[], T] | None = None) -> None:
        self._out: list[T] = []
        self._failure: list[BaseException] = []
        self._thread: threading.Thread | None = None
        if make is not None:
            self._thread = threading.Thread(target=self._run, args=(make,),
                                            name="google-ahead", daemon=True)
            self._thread.start()

    @classmethod
    def now(cls, make: Callable[[], T]) -> Ahead[T]:
        done: Ahead[T] = cls()
        done._run(make)
        return done

    def _run(self, make: Callable[[], T]) -> None:
        try:
            self._out.append(make())
        except BaseException as exc:  # noqa: BLE001 - raised in result()
            self._failure.append(exc)

    def result(self) -> T:
        if self._thread is not None:
            self._thread.join()
        if self._failure:
            raise self._failure[0]
        return self._out[0]

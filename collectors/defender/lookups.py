"""KB release lookups run beside the export and the records that need them.

One worker thread (``run``) does all of MSRC's work, one request at a time (MSRC documents no
concurrency; see releases.py), in two steps:

* while the export is read, each CVE that a row fixed by a KB names is given to it as soon as
  it is read (``hint``) and asked ahead (``ahead``: the requests its lookup will make, their
  answers kept, nothing saved), so MSRC's waits overlap the export's;
* once the export is read, the (CVE, KB) pairs are given (``start``) and looked up in that
  order, reading the answers asked ahead (the hints not asked yet are dropped: the lookups
  ask what they need themselves, publishing each release as they go, not after every
  hint): what is saved, and every release, is what looking them up in that order alone
  gives. Each result is published as soon as it is known: the
  collector builds the records whose release is known (``ready``) while the next lookups
  run, and waits (``wait``) only for the rest.

A hint or lookup that raises stops the worker; ``wait`` raises it again in the caller, and so
does the worker's own result, so it is never lost. ``stop`` ends a worker never started (the
export failed, or the collector crashed): called in a ``finally``, so the worker never waits
for work that will not come.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence

from clausewatch.collectors.defender.releases import Release

Pair = tuple[str, str]  # (CVE, KB)
_END = None  # on the queue: no pairs will come


class Lookups:
    """The releases of the pairs given to ``start``, looked up by ``lookup`` in that order when
    ``run`` runs; ``ahead(cve)`` is called first for each CVE hinted before them."""

    def __init__(self, lookup: Callable[[str, str], Release],
                 ahead: Callable[[str], None] | None = None) -> None:
        self._lookup = lookup
        self._ahead = ahead
        self._work: queue.SimpleQueue[str | list[Pair] | None] = queue.SimpleQueue()
        self._hinted: set[str] = set()
        self._pairs: list[Pair] = []
        self._wanted: frozenset[Pair] = frozenset()
        self._started = False  # the pairs given (or none will come)
        self._done: dict[Pair, Release] = {}
        self._failed: BaseException | None = None
        self._finished = False
        self._changed = threading.Condition()

    @property
    def pairs(self) -> list[Pair]:
        return list(self._pairs)

    @property
    def running(self) -> bool:
        """Whether the worker may still ask MSRC (not ended yet): read without the lock."""
        return not self._finished

    def __contains__(self, pair: object) -> bool:
        """Whether ``pair`` is one of those looked up."""
        return pair in self._wanted

    def hint(self, cve: str) -> None:
        """``cve`` will (likely) be looked up: asked ahead by the worker, once."""
        if cve not in self._hinted and not self._started:
            self._hinted.add(cve)
            self._work.put(cve)

    def start(self, pairs: Sequence[Pair]) -> None:
        """Look ``pairs`` up, in this order (once only); the hints not asked ahead yet are
        dropped."""
        if self._started:
            raise RuntimeError("the lookups were started already")
        self._pairs = list(pairs)
        self._wanted = frozenset(self._pairs)
        self._started = True
        self._work.put(list(self._pairs))

    def stop(self) -> None:
        """No pairs will come (if none came): the worker ends, the hints not asked yet
        dropped."""
        if not self._started:
            self._started = True
            self._work.put(_END)

    def run(self) -> None:
        """Ask the hinted CVEs ahead, then look every pair up, in order (the worker's job)."""
        try:
            while True:
                item = self._work.get()
                if item is _END:
                    return
                if isinstance(item, str):
                    if self._ahead is not None and not self._started:
                        self._ahead(item)
                    continue
                for pair in item:
                    release = self._lookup(*pair)
                    with self._changed:
                        self._done[pair] = release
                        self._changed.notify_all()
                return
        except BaseException as exc:
            with self._changed:
                self._failed = exc
            raise
        finally:
            with self._changed:
                self._finished = True
                self._changed.notify_all()

    def ready(self, pair: Pair) -> Release | None:
        """``pair``'s release if it is known already, else None (without waiting: a dict
        read, atomic under the interpreter lock)."""
        return self._done.get(pair)

    def wait(self, pair: Pair) -> Release:
        """``pair``'s release, once looked up; raises what stopped the worker before it."""
        with self._changed:
            while pair not in self._done:
                if self._failed is not None:
                    raise self._failed
                if self._finished:
                    raise KeyError(f"{pair} is not looked up")
                self._changed.wait()
            return self._done[pair]

"""KB release lookups run beside the records that need them.

The (CVE, KB) pairs are looked up one at a time, in the order given (MSRC documents no
concurrency; see releases.py), by a worker thread (``run``), and each result is published as
soon as it is known: the collector builds the records whose release is known (``ready``)
while the next lookups wait on MSRC, and waits (``wait``) only for the rest. A lookup that
raises stops the worker; ``wait`` raises it again in the caller, so it is never lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from clausewatch.collectors.defender.releases import Release

Pair = tuple[str, str]  # (CVE, KB)


class Lookups:
    """The releases of ``pairs``, looked up by ``lookup`` in that order when ``run`` runs."""

    def __init__(self, pairs: Sequence[Pair], lookup: Callable[[str, str], Release]) -> None:
        self._pairs = list(pairs)
        self._wanted = frozenset(self._pairs)
        self._lookup = lookup
        self._done: dict[Pair, Release] = {}
        self._failed: BaseException | None = None
        self._finished = False
        self._changed = threading.Condition()

    @property
    def pairs(self) -> list[Pair]:
        return list(self._pairs)

    def __contains__(self, pair: object) -> bool:
        """Whether ``pair`` is one of those looked up."""
        return pair in self._wanted

    def run(self) -> None:
        """Look every pair up, in order (the worker's job)."""
        try:
            for pair in self._pairs:
                release = self._lookup(*pair)
                with self._changed:
                    self._done[pair] = release
                    self._changed.notify_all()
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

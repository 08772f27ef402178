"""The cyclic garbage collector's settings: paused while a large structure is built or judged,
collecting less often while collectors run (one policy each, one place)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Generation-0 threshold while collectors run (CPython's default is 700). Each youngest
#: collection then looks at ~10,000 new containers instead of 700: a 100 MB page parses into
#: millions of them, all alive, that every youngest, middle and full collection walked again.
COLLECTING_THRESHOLD0 = 10_000


@contextmanager
def collecting() -> Iterator[None]:
    """Collect cycles less often, and never among what was alive before, while collectors run;
    restored as it was on the way out (errors, ``Stopped`` on Ctrl-C/SIGTERM included).

    * ``gc.freeze()`` moves every object the collector tracks into the permanent generation,
      ignored by every collection after (https://docs.python.org/3.11/library/gc.html#gc.freeze):
      the modules, contract, configuration and the collectors' clients, alive before the first
      request, are no longer walked by each full collection. ``gc.unfreeze()`` puts them back
      into the oldest generation on exit, where the next full collection finds any cycle among
      them that died meanwhile. Only when nothing is frozen on entry: an outer freeze (a bench's
      fake estate, evidence read from a file) is its owner's, and unfreezing would undo it.
    * ``gc.set_threshold`` (https://docs.python.org/3.11/library/gc.html#gc.set_threshold): a
      collection of generation 0 starts when allocations minus deallocations exceed threshold0;
      raised to ``COLLECTING_THRESHOLD0``, the older thresholds kept.

    The collector is not disabled: the SDKs (asyncio, httpx, kiota, botocore) leave cyclic
    garbage, holding response bodies, all through a collection that can last minutes; it is
    still found, though later: what is old when it dies waits for a full collection, and those
    come far less often (their count gate moves from 70,000 to 1,000,000 net allocations). An
    httpx ``Response`` is such a cycle (its ``stream``, a ``BoundSyncStream``, holds the
    response), so a body read whole lives until one: on the Defender bench the 100 MB export
    page raises the peak RSS from 1.14 to 1.24 GB. Reference counting frees everything else at
    once, as before. GC only reclaims memory: no record or
    verdict can depend on it.
    """
    thresholds = gc.get_threshold()
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    gc.set_threshold(COLLECTING_THRESHOLD0, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if ours:
            gc.unfreeze()


@contextmanager
def paused(*, then_freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside; restored as it was on the way out (errors included).

    For work that builds or walks a large, long-lived structure (a million records read, the
    evaluation's indexes, a big YAML tree, publishing a million results): each collection of
    a generation would traverse everything in it again, for nothing to collect. Reference
    counting still frees everything as usual; a cycle, if any, waits for the next collection.
    ``then_freeze``: what is alive on the way out is moved to the permanent generation
    (``gc.freeze``), for data that lives to the end of the process (nothing if the collector
    was already off: the caller's choice stands).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if then_freeze:
                gc.freeze()
            gc.enable()

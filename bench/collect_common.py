"""Shared pieces of the collection benchmark (bench/collect_bench.py).

Each source has its own module ``bench/collect_<source>.py`` exposing
``measure(latency: float) -> list[Figure]``: it builds a large synthetic estate on a local
counterpart of the vendor's API, injects ``latency`` seconds on every request, runs the real
collector against it, counts the requests it made and computes the *floor*: the fewest pages the
documented API needs for that estate times the latency, divided by the concurrency the vendor
documents as allowed. ``collect_bench.py`` discovers the modules by name; adding a source is one
new file.

Every module runs its collectors through ``collectors.runner.collect_all``, as ``clausewatch run``
does, so the figures include the collection's garbage-collector policy (``core.gc_policy``),
applied there and nowhere else. A module that freezes its fake's estate (``gc.freeze``) right
before collecting keeps that freeze: the runner then freezes nothing more, and unfreezes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """What one source's collection took against its request floor."""

    source: str
    requests: int
    seconds: float
    floor_seconds: float

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor_seconds if self.floor_seconds > 0 else float("inf")

    def line(self) -> str:
        return (f"collect {self.source}: {self.requests} requests, {self.seconds:.2f} s, "
                f"floor {self.floor_seconds:.2f} s, ratio {self.ratio:.2f}")


def floor_seconds(pages: int, latency: float, concurrency: int) -> float:
    """The request floor: ``pages`` requests of ``latency`` s each, ``concurrency`` at a time."""
    waves = -(-pages // max(concurrency, 1))
    return waves * latency

"""What a collector is: something that, given ready clients, yields evidence and errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from clausewatch.core.evidence import CollectionError, Evidence


class Collector(Protocol):
    """A unit of collection work: one source at one origin (an account and region, a tenant).

    ``collect`` yields records as it goes and never raises for a failure of the API it reads:
    it yields a ``CollectionError`` naming the origin and the kinds it could not produce.
    """

    source: str
    origin: str

    def collect(self) -> Iterator[Evidence | CollectionError]: ...


class FailedCollector:
    """Stands for collectors that could not even be built (a credential missing, account
    discovery refused): yields the error that says why, so the gap reaches the verdicts."""

    def __init__(self, error: CollectionError) -> None:
        self.error = error
        self.source = error.source
        self.origin = error.origin
        self.kinds = error.kinds

    def collect(self) -> Iterator[Evidence | CollectionError]:
        yield self.error

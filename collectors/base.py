"""What a collector is: something that, given ready clients, yields evidence and errors.

One shape for every source (AWS, Microsoft 365, the REST sources of ``collectors/rest``): a
frozen dataclass whose leading fields are what it reads (ids, a client, the run's
``RawRecorder``) and ``observed_at``, the one clock name, the instant its records are stamped
with (the run's ``BuildContext.as_of``); options follow as keyword-only fields. ``source`` and
``kinds`` are class constants (or properties when an option changes them), ``origin`` a
property derived from the ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from clausewatch.core.evidence import CollectionError, Evidence, RunWarning


class Collector(Protocol):
    """A unit of collection work: one source at one origin (an account and region, a tenant).

    ``kinds`` are the evidence kinds it produces there: what a crash, or any failure it
    reports without naming narrower kinds, leaves without evidence. ``collect`` yields records
    as it goes and never raises for a failure of the API it reads: it yields a
    ``CollectionError`` naming the origin and the kinds it could not produce, and may yield a
    ``RunWarning`` for what it worked around (it takes no evidence away).
    """

    @property
    def source(self) -> str: ...

    @property
    def origin(self) -> str: ...

    @property
    def kinds(self) -> tuple[str, ...]: ...

    def collect(self) -> Iterator[Evidence | CollectionError | RunWarning]: ...


@dataclass(frozen=True, slots=True)
class FailedCollector:
    """Stands for collectors that could not even be built (a credential missing, account
    discovery refused): yields the error that says why, so the gap reaches the verdicts."""

    error: CollectionError

    @property
    def source(self) -> str:
        return self.error.source

    @property
    def origin(self) -> str:
        return self.error.origin

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.error.kinds

    def collect(self) -> Iterator[Evidence | CollectionError]:
        yield self.error

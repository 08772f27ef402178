"""A set of evidence kinds, in registration order: what the schema, fast path and tables read.

A registry is immutable once built, so what is derived from it (a JSON Schema, msgspec types,
the reader's tables) can be cached per registry. The one in use is ``clausewatch.core.kinds.KINDS``;
tests build their own with an extra kind to show that everything derived picks it up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from clausewatch.core.kinds.spec import EvidenceKind


class KindRegistry:
    """Name -> EvidenceKind, in the order given; a name may be registered once."""

    __slots__ = ("_kinds",)

    def __init__(self, kinds: Iterable[EvidenceKind]) -> None:
        self._kinds: dict[str, EvidenceKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"evidence kind {kind.name!r} registered twice")
            self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> EvidenceKind:
        return self._kinds[name]

    def get(self, name: str) -> EvidenceKind | None:
        return self._kinds.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[EvidenceKind]:
        return iter(self._kinds.values())

    def __len__(self) -> int:
        return len(self._kinds)

    def names(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def __repr__(self) -> str:
        return f"KindRegistry({', '.join(self._kinds)})"

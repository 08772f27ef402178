"""A read-only index over a run's evidence, built once and shared by every check."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from clausewatch.core.contract import Scope
from clausewatch.core.evidence import Evidence, Kind

_EMPTY: tuple[Evidence, ...] = ()


#: Kinds that define subjects: never attested, kept whatever evidence a commitment accepts.
_INVENTORY = frozenset({Kind.ASSET.value, Kind.IDENTITY.value})


def is_attested(ev: Evidence) -> bool:
    """Whether a person attests the record (``clausewatch attest``) rather than a tool."""
    return ev.facts.get("attested") is True or ev.facts.get("method") == "attested"


def source_matches(source: str, wanted: Iterable[str]) -> bool:
    """``aws`` matches ``aws`` and ``aws.ssm``; an empty ``wanted`` matches every source."""
    wanted = tuple(wanted)
    if not wanted:
        return True
    return any(source == w or source.startswith(w + ".") for w in wanted)


class EvidenceView:
    """Evidence grouped by kind and by subject.

    Subject-defining records (``asset``, ``identity``) are filtered by a commitment's scope;
    records about a subject (``patch``, ``backup``, ``restore_test``) are joined to it by
    ``subject`` whatever tool reported them.
    """

    def __init__(self, evidence: Iterable[Evidence]) -> None:
        by_kind: dict[str, list[Evidence]] = defaultdict(list)
        for ev in evidence:
            by_kind[ev.kind].append(ev)
        self._by_kind = dict(by_kind)
        self._by_subject: dict[str, dict[str, list[Evidence]]] = {}
        self._modes: dict[str, EvidenceView] = {}

    def accepting(self, mode: str) -> EvidenceView:
        """The view a commitment with ``evidence: mode`` sees (``any``: this view itself).

        ``automated`` drops attested records, ``attested`` keeps only them; inventory
        (``asset``, ``identity``) is kept either way. Built once per mode, then shared.
        """
        if mode == "any":
            return self
        if mode not in self._modes:
            want = mode == "attested"
            self._modes[mode] = EvidenceView(
                ev for kind, records in self._by_kind.items() for ev in records
                if kind in _INVENTORY or is_attested(ev) is want
            )
        return self._modes[mode]

    def of_kind(self, kind: str) -> Sequence[Evidence]:
        return self._by_kind.get(kind, [])

    def about(self, kind: str, subject: str) -> Sequence[Evidence]:
        """Every record of ``kind`` whose subject is ``subject``."""
        index = self._by_subject.get(kind)
        if index is None:
            index = defaultdict(list)
            for ev in self.of_kind(kind):
                index[ev.subject].append(ev)
            index = self._by_subject[kind] = dict(index)
        return index.get(subject, _EMPTY)

    def assets(self, scope: Scope) -> list[Evidence]:
        """Inventory records in scope (source, asset kind, tags, facts), one per subject (newest
        wins). Facts match as ``Scope.facts_in_scope`` says: case-insensitive whole strings, a
        list means any of; an asset that does not report a required fact is out of scope."""
        latest: dict[str, Evidence] = {}
        for ev in self.of_kind(Kind.ASSET):
            if not source_matches(ev.source, scope.sources):
                continue
            if scope.asset_kinds and ev.facts.get("asset_kind") not in scope.asset_kinds:
                continue
            if not scope.tags_in_scope(ev.facts.get("tags") or {}):
                continue
            if not scope.facts_in_scope(ev.facts):
                continue
            seen = latest.get(ev.subject)
            if seen is None or ev.observed_at > seen.observed_at:
                latest[ev.subject] = ev
        return sorted(latest.values(), key=lambda e: e.subject)

    def identities(self, scope: Scope) -> list[Evidence]:
        """Identity records from in-scope sources, one per subject (newest wins)."""
        latest: dict[str, Evidence] = {}
        for ev in self.of_kind(Kind.IDENTITY):
            if not source_matches(ev.source, scope.sources):
                continue
            seen = latest.get(ev.subject)
            if seen is None or ev.observed_at > seen.observed_at:
                latest[ev.subject] = ev
        return sorted(latest.values(), key=lambda e: e.subject)

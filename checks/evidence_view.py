"""A read-only index over a run's evidence, built once and shared by every check.

Subjects are compared in one canonical form (``clausewatch.core.subjects.subject_key``): a
patch record for ``SRV-01`` is about the asset ``srv-01``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from clausewatch.core.contract import Scope, fact_matches
from clausewatch.core.evidence import Evidence, Kind
from clausewatch.core.kinds import KINDS, FactType
from clausewatch.core.limits import CLOCK_SKEW
from clausewatch.core.subjects import case_key, subject_key

_EMPTY: tuple[Evidence, ...] = ()
#: The kinds whose records define subjects; the others are about a subject.
SUBJECT_KINDS = frozenset({Kind.ASSET, Kind.IDENTITY})


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


def _reported(value: Any) -> bool:
    """Whether a fact says something: not absent, null, blank text or an empty list."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        return any(_reported(v) for v in value)
    return True


def facts_scope(scope: Scope, facts: Mapping[str, Any]) -> tuple[bool | None, str]:
    """Whether an asset's facts put it in scope: True, False, or None when they cannot tell.

    A fact that matches (``fact_matches``) or does not is decisive: every fact of
    ``scope.facts`` must match, and one fact of ``scope.exclude_facts`` that matches takes the
    asset out. A fact the asset does not report (absent, null, blank) decides nothing: if no
    reported fact takes the asset out, it is undecided, and the reason names the fact.
    """
    missing: list[str] = []
    for name, wanted in scope.facts.items():
        actual = facts.get(name)
        if not _reported(actual):
            missing.append(name)
        elif not fact_matches(actual, wanted):
            return False, ""
    for name, unwanted in scope.exclude_facts.items():
        actual = facts.get(name)
        if not _reported(actual):
            missing.append(name)
        elif fact_matches(actual, unwanted):
            return False, ""
    if missing:
        names = ", ".join(f"`{n}`" for n in dict.fromkeys(missing))
        return None, f"no {names} fact: cannot tell whether in scope"
    return True, ""


def future_fields(ev: Evidence, limit: datetime, stamps: Sequence[str] | None = None) -> list[str]:
    """The timestamps of a record later than ``limit`` (``as_of`` plus the allowed skew):
    ``observed_at`` and the timestamp facts its kind declares (``stamps``: their names, when
    already looked up), as ``name=instant``."""
    if stamps is None:
        declared = KINDS.get(ev.kind)
        stamps = declared.timestamp_facts if declared is not None else ()
    out = [f"observed_at={ev.observed_at.isoformat()}"] if ev.observed_at > limit else []
    facts = ev.facts
    for name in stamps:
        value = facts.get(name)
        if value is not None and value.__class__ is datetime and value > limit:
            out.append(f"facts.{name}={value.isoformat()}")
    return out


_PLAIN: frozenset[type] = frozenset({str, int, bool, datetime, type(None)})


def non_finite_fields(facts: Mapping[str, Any], names: Iterable[str] | None = None) -> list[str]:
    """The facts (at any depth; only ``names`` if given) holding a number that is not finite
    (NaN, ±Infinity): a JSON Lines file cannot carry one, a live collector might."""
    out: list[str] = []
    keys = facts.keys() if names is None else names
    stack: list[tuple[str, Any]] = [(f"facts.{k}", facts[k]) for k in keys if k in facts]
    while stack:
        where, value = stack.pop()
        kind = value.__class__
        if kind in _PLAIN:
            continue
        if kind is float:
            if not math.isfinite(value):
                out.append(f"{where}={value!r}")
        elif isinstance(value, Mapping):
            stack.extend((f"{where}.{k}", v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
    return out


#: Fact types whose values are never numbers: a record's numbers are looked for elsewhere.
_NOT_NUMBERS = frozenset({FactType.TEXT, FactType.STRING, FactType.CHOICE, FactType.STRINGS,
                          FactType.BOOLEAN, FactType.TIMESTAMP})


def _numeric_names(kind: str) -> frozenset[str]:
    """The facts of ``kind`` that are not declared non-numeric: where a number may be."""
    declared = KINDS.get(kind)
    facts = declared.facts if declared is not None else ()
    return frozenset(f.name for f in facts if f.type in _NOT_NUMBERS)


def flaws(
    ev: Evidence,
    limit: datetime,
    stamps: Sequence[str] | None = None,
    not_numbers: frozenset[str] | None = None,
) -> list[str]:
    """Why a record cannot be judged: observed in the future (beyond ``limit``), or holding
    a non-finite number in a fact that may hold numbers (not declared as text, choice, flag,
    list of text or timestamp: ``not_numbers``); empty if it can."""
    out: list[str] = []
    if future := future_fields(ev, limit, stamps):
        out.append(f"observed in the future: {', '.join(future)}")
    skip = _numeric_names(ev.kind) if not_numbers is None else not_numbers
    names = ev.facts.keys() - skip
    if names and (bad := non_finite_fields(ev.facts, names)):
        out.append(f"not a finite number: {', '.join(sorted(bad))}")
    return out


class EvidenceView:
    """Evidence grouped by kind and by subject.

    Subject-defining records (``asset``, ``identity``) are filtered by a commitment's scope;
    records about a subject (``patch``, ``backup``, ``restore_test``) are joined to it by
    ``subject`` (in its canonical form) whatever tool reported them.
    """

    def __init__(self, evidence: Iterable[Evidence]) -> None:
        by_kind: dict[str, list[Evidence]] = defaultdict(list)
        for ev in evidence:
            by_kind[ev.kind].append(ev)
        self._by_kind = dict(by_kind)
        self._by_subject: dict[str, dict[str, list[Evidence]]] = {}
        self._by_case: dict[str, dict[str, list[Evidence]]] = {}
        self._flawed: dict[tuple[str, datetime], dict[str, list[tuple[Evidence, list[str]]]]] = {}
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

    def _index(self, kind: str) -> dict[str, list[Evidence]]:
        index = self._by_subject.get(kind)
        if index is None:
            grouped: dict[str, list[Evidence]] = defaultdict(list)
            for ev in self.of_kind(kind):
                grouped[subject_key(ev.subject)].append(ev)
            index = self._by_subject[kind] = dict(grouped)
        return index

    def about(self, kind: str, subject: str) -> Sequence[Evidence]:
        """Every record of ``kind`` whose subject is ``subject`` (in canonical form)."""
        return self._index(kind).get(subject_key(subject), _EMPTY)

    def known(self, subject: str) -> bool:
        """Whether any inventory record (asset or identity, any source) names ``subject``."""
        key = subject_key(subject)
        return any(key in self._index(kind) for kind in SUBJECT_KINDS)

    def case_variants(self, kind: str, subject: str) -> list[Evidence]:
        """Records of ``kind`` that name ``subject`` but for the case of a case-sensitive id,
        and name no known subject themselves: the same subject, or another one nobody saw."""
        index = self._by_case.get(kind)
        if index is None:
            grouped: dict[str, list[Evidence]] = defaultdict(list)
            for ev in self.of_kind(kind):
                grouped[case_key(ev.subject)].append(ev)
            index = self._by_case[kind] = dict(grouped)
        key = subject_key(subject)
        return [
            ev
            for ev in index.get(case_key(subject), _EMPTY)
            if subject_key(ev.subject) != key and not self.known(ev.subject)
        ]

    def unknown(self, kind: str) -> dict[str, list[Evidence]]:
        """Records of ``kind`` about subjects no inventory record names, even but for case,
        by canonical subject: evidence about something nobody listed."""
        cases = {case_key(ev.subject) for k in SUBJECT_KINDS for ev in self.of_kind(k)}
        return {
            key: records
            for key, records in self._index(kind).items()
            if not self.known(records[0].subject) and case_key(records[0].subject) not in cases
        }

    def flawed(self, kind: str, as_of: datetime) -> dict[str, list[tuple[Evidence, list[str]]]]:
        """Records of ``kind`` that cannot be judged (``flaws``: a timestamp later than
        ``as_of`` plus ``CLOCK_SKEW``, a non-finite number), by canonical subject, each with
        its flaws (computed once per kind and clock)."""
        found = self._flawed.get((kind, as_of))
        if found is None:
            limit = as_of + CLOCK_SKEW
            declared = KINDS.get(kind)
            stamps = declared.timestamp_facts if declared is not None else ()
            skip = _numeric_names(kind)
            grouped: dict[str, list[tuple[Evidence, list[str]]]] = defaultdict(list)
            for ev in self.of_kind(kind):
                problems = flaws(ev, limit, stamps, skip)
                if problems:
                    grouped[subject_key(ev.subject)].append((ev, problems))
            found = self._flawed[(kind, as_of)] = dict(grouped)
        return found

    def _scoped(self, scope: Scope) -> Iterable[tuple[Evidence, bool | None, str]]:
        """Inventory records past source, asset kind and tags, with ``facts_scope``'s answer."""
        for ev in self.of_kind(Kind.ASSET):
            if not source_matches(ev.source, scope.sources):
                continue
            if scope.asset_kinds and ev.facts.get("asset_kind") not in scope.asset_kinds:
                continue
            if not scope.tags_in_scope(ev.facts.get("tags") or {}):
                continue
            yield (ev, *facts_scope(scope, ev.facts))

    def assets(self, scope: Scope) -> list[Evidence]:
        """Inventory records in scope (source, asset kind, tags, facts), one per subject (newest
        wins). Facts match as ``facts_scope`` says; an asset whose facts cannot tell is not
        here but in ``undecided``."""
        latest: dict[str, Evidence] = {}
        for ev, inside, _ in self._scoped(scope):
            if not inside:
                continue
            key = subject_key(ev.subject)
            seen = latest.get(key)
            if seen is None or ev.observed_at > seen.observed_at:
                latest[key] = ev
        return sorted(latest.values(), key=lambda e: e.subject)

    def undecided(self, scope: Scope) -> list[tuple[Evidence, str]]:
        """Assets whose facts cannot tell whether they are in scope (no record of theirs says
        in or out), newest record each, with the reason: each is ``no_evidence``."""
        decided: set[str] = set()
        latest: dict[str, tuple[Evidence, str]] = {}
        for ev, inside, why in self._scoped(scope):
            key = subject_key(ev.subject)
            if inside is not None:
                decided.add(key)
                continue
            seen = latest.get(key)
            if seen is None or ev.observed_at > seen[0].observed_at:
                latest[key] = (ev, why)
        return sorted((v for k, v in latest.items() if k not in decided),
                      key=lambda item: item[0].subject)

    def identities(self, scope: Scope) -> list[Evidence]:
        """Identity records from in-scope sources, one per subject (newest wins)."""
        latest: dict[str, Evidence] = {}
        for ev in self.of_kind(Kind.IDENTITY):
            if not source_matches(ev.source, scope.sources):
                continue
            key = subject_key(ev.subject)
            seen = latest.get(key)
            if seen is None or ev.observed_at > seen.observed_at:
                latest[key] = ev
        return sorted(latest.values(), key=lambda e: e.subject)

"""A read-only index over a run's evidence, built once and shared by every check.

Subjects are compared in one canonical form (``clausewatch.core.subjects.subject_key``): a
patch record for ``SRV-01`` is about the asset ``srv-01``.

A million records are indexed by runs rather than one by one: records of one kind, and of
one subject, come in runs in a file (a collector writes an asset's patches together), and
each run is grouped in one step (``itertools.groupby``), its subject put in canonical form
once. What is screened for every record (``flawed``) is first asked of whole columns (the
latest instant of each timestamp); only a kind where that finds something is read record by
record.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from itertools import chain, compress, groupby, repeat
from operator import attrgetter, is_, methodcaller
from typing import Any

from msgspec import UNSET

from clausewatch.core.contract import Scope, fact_matches
from clausewatch.core.evidence import Evidence, Kind
from clausewatch.core.kinds import KINDS, FactType
from clausewatch.core.limits import CLOCK_SKEW
from clausewatch.core.subjects import case_key, subject_key

_EMPTY: tuple[Evidence, ...] = ()
_KIND_OF = attrgetter("kind")
_SUBJECT_OF = attrgetter("subject")
_OBSERVED_OF = attrgetter("observed_at")
_FACTS_OF = attrgetter("facts")
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


def _sound(ev: Evidence, limit: datetime, stamps: Sequence[str], not_numbers: frozenset[str]
           ) -> bool:
    """True if ``flaws(ev, limit, stamps, not_numbers)`` is certainly empty: no timestamp later
    than ``limit`` and every fact declared non-numeric (the common case, checked per record of
    a million without building lists); False means ``flaws`` must be asked."""
    if ev.observed_at > limit:
        return False
    facts = ev.facts
    for name in stamps:
        value = facts.get(name)
        if value is not None and value.__class__ is datetime and value > limit:
            return False
    return not_numbers.issuperset(facts.keys())


def fact_column(facts: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
    """The value of fact ``name`` in each of ``facts`` (None, or ``UNSET`` for a fact struct,
    where absent), read by columns when every one is a dict or every one a struct of one
    kind (``collectors.fast_lines.Facts``)."""
    classes = set(map(type, facts))
    if classes == {dict}:
        return list(map(methodcaller("get", name), facts))
    if len(classes) == 1:
        (cls,) = classes
        if name in getattr(cls, "__struct_fields__", ()):
            return list(map(attrgetter(name), facts))
    return [f.get(name) for f in facts]


@lru_cache(maxsize=64)
def _getter(names: tuple[str, ...]) -> Callable[[Any], Any]:
    return attrgetter(*names)


def fact_rows(facts: Sequence[Mapping[str, Any]], names: tuple[str, ...]) -> Iterable[
        tuple[Any, ...]]:
    """Per one of ``facts``, the values of facts ``names`` (at least two) as a tuple, as
    :func:`fact_column` reads them: one call per record when all are structs of one kind."""
    classes = set(map(type, facts))
    if len(classes) == 1:
        fields = getattr(next(iter(classes)), "__struct_fields__", ())
        if fields and all(n in fields for n in names):
            return map(_getter(names), facts)
    return zip(*(fact_column(facts, n) for n in names), strict=True)


def surely_sound(records: Sequence[Evidence], limit: datetime, stamps: Sequence[str],
                 not_numbers: frozenset[str]) -> bool:
    """True if ``flaws`` finds nothing in any record (of one kind), told by columns when all
    their facts are structs of one kind (``collectors.fast_lines.Facts``, read from a file):
    no ``observed_at`` and no timestamp fact later than ``limit``, and no float anywhere in
    a fact that may hold a number (``_no_float``). False means: ask each record (as for facts
    given as dicts)."""
    if not records:
        return True
    facts = list(map(_FACTS_OF, records))
    classes = set(map(type, facts))
    if len(classes) != 1:
        return False
    fields = getattr(next(iter(classes)), "__struct_fields__", None)
    if fields is None or not set(stamps) <= set(fields):
        return False
    if not all(_no_float(list(map(attrgetter(name), facts)))
               for name in fields if name not in not_numbers):
        return False
    try:
        if max(map(_OBSERVED_OF, records)) > limit:
            return False
        for name in stamps:  # a column at a time
            # A struct holds a datetime (true), None or UNSET (false) in a timestamp fact.
            latest = max(filter(None, map(attrgetter(name), facts)), default=None)
            if latest is not None and latest > limit:
                return False
    except TypeError:  # a naive datetime beside aware ones: each record is asked
        return False
    return True


#: What a fact struct holds where a fact is absent (``msgspec.UNSET``): no number either.
_UNSET_TYPE = type(UNSET)
_NO_FLOAT: frozenset[type] = _PLAIN | {_UNSET_TYPE}


def _no_float(column: list[Any]) -> bool:
    """True if no value of ``column`` is a float nor holds one as a value of a dict (labels):
    then ``non_finite_fields`` finds nothing in it. False means: ask each record."""
    types = set(map(type, column))
    if types <= _NO_FLOAT:
        return True
    if not types - _NO_FLOAT <= {dict}:
        return False
    dicts = compress(column, map(is_, map(type, column), repeat(dict)))
    return set(map(type, chain.from_iterable(map(dict.values, dicts)))) <= _PLAIN


class EvidenceView:
    """Evidence grouped by kind and by subject.

    Subject-defining records (``asset``, ``identity``) are filtered by a commitment's scope;
    records about a subject (``patch``, ``backup``, ``restore_test``) are joined to it by
    ``subject`` (in its canonical form) whatever tool reported them.
    """

    def __init__(self, evidence: Iterable[Evidence]) -> None:
        by_kind: dict[str, list[Evidence]] = defaultdict(list)
        for kind, run in groupby(evidence, _KIND_OF):
            by_kind[kind].extend(run)
        self._by_kind = dict(by_kind)
        self._by_subject: dict[str, dict[str, list[Evidence]]] = {}
        #: Per kind, its records in runs of one subject (as written), in order.
        self._runs: dict[str, list[tuple[str, list[Evidence]]]] = {}
        #: Per kind, case key -> the runs of subjects of that case key, in order.
        self._by_case: dict[str, dict[str, list[tuple[str, list[Evidence]]]]] = {}
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
            # consecutive records of one subject, a run each (grouped in C)
            runs = [(subject, list(run)) for subject, run in groupby(self.of_kind(kind),
                                                                     _SUBJECT_OF)]
            self._runs[kind] = runs
            index = {}
            merged: set[str] = set()
            for subject, run in runs:
                key = subject_key(subject)
                seen = index.get(key)
                if seen is None:
                    index[key] = run  # shared with ``runs``: never extended in place
                elif key in merged:
                    seen.extend(run)
                else:
                    index[key] = [*seen, *run]
                    merged.add(key)
            self._by_subject[kind] = index
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
            self._index(kind)
            grouped: dict[str, list[tuple[str, list[Evidence]]]] = defaultdict(list)
            for name, run in self._runs[kind]:
                grouped[case_key(name)].append((name, run))
            index = self._by_case[kind] = dict(grouped)
        key = subject_key(subject)
        out: list[Evidence] = []
        for name, run in index.get(case_key(subject), ()):  # the test holds for a whole run
            if subject_key(name) != key and not self.known(name):
                out.extend(run)
        return out

    def unknown(self, kind: str) -> dict[str, list[Evidence]]:
        """Records of ``kind`` about subjects no inventory record names, even but for case,
        by canonical subject: evidence about something nobody listed."""
        cases = {case_key(ev.subject) for k in SUBJECT_KINDS for ev in self.of_kind(k)}
        known = {key for k in SUBJECT_KINDS for key in self._index(k)}
        return {  # an index's key is its records' subject in canonical form
            key: records
            for key, records in self._index(kind).items()
            if key not in known and case_key(records[0].subject) not in cases
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
            records = self.of_kind(kind)
            for ev in () if surely_sound(records, limit, stamps, skip) else records:
                if _sound(ev, limit, stamps, skip):
                    continue  # what ``flaws`` would find nothing in, told without building it
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
